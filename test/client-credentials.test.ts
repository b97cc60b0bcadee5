import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { CustomScriptConnection, EgressDeniedError, ScriptError, ScriptTimeoutError, type LatchkeyEvent } from '@latchkey/core'
import { createLegacyIdentityRouter, getAccessToken, requireAccessToken, type Middleware } from '@latchkey/legacy-api'
import { QuickJsRunner } from '@latchkey/sandbox'
import { startAuthorizationServer } from '../examples/legacy-api/authorization-server.js'
import { eventually, httpServer } from './support/servers.js'
import { uniqueName } from './support/dialects.js'

// require('@latchkey/client-credentials') in scripts, against a real oidc-provider and a
// real legacy API built with @latchkey/legacy-api: the host-side cache per connection,
// one in-flight request shared by concurrent runs, expiry, forceRefresh after a 401,
// egress, https, no redirects, and the secret and tokens redacted everywhere.
const AUDIENCE = 'https://legacy-api.test'
const A = { clientId: 'legacy-scripts', clientSecret: 'cc-secret-Qw7e-Rt5y-Ui3o', audiences: [AUDIENCE] }
const B = { clientId: 'reporting', clientSecret: 'cc-secret-Zx1c-Vb2n-Mm4k', audiences: ['https://other-api.test'] }
const PASSWORD = 'Tr0ub4dor-horse-42'

let idp: Awaited<ReturnType<typeof startAuthorizationServer>>
let api: {
  port: number
  url: string
  close(): Promise<void>
  revoked: Set<string>
  calls: number
  refusedTokens: number
  lastJti: string | undefined
}
const runner = new QuickJsRunner({ timeoutMs: 8000, workers: 2 })

/** Refuses tokens whose jti was revoked, the way an API with a revocation list does. */
const notRevoked =
  (revoked: Set<string>, seen: { lastJti?: string; refusedTokens: number }): Middleware =>
  (req, res, next) => {
    const jti = String(getAccessToken(req)?.claims.jti)
    seen.lastJti = jti
    if (!revoked.has(jti)) return next()
    seen.refusedTokens += 1
    res
      .writeHead(401, { 'content-type': 'application/json', 'www-authenticate': 'Bearer error="invalid_token"' })
      .end('{"error":"invalid_token"}')
  }

beforeAll(async () => {
  idp = await startAuthorizationServer({ clients: [A, B] })
  const revoked = new Set<string>()
  const state: { calls: number; refusedTokens: number; lastJti?: string } = { calls: 0, refusedTokens: 0 }
  const chain: Middleware[] = [
    requireAccessToken({ issuer: idp.issuer, audience: AUDIENCE, allowedClients: [A.clientId] }),
    notRevoked(revoked, state),
    createLegacyIdentityRouter({
      verifyPassword: async ({ identifier, password }) => (password === PASSWORD ? { user_id: 42, email: identifier } : null),
      getUser: async ({ identifier }) => ({ user_id: 42, email: identifier }),
      changePassword: async () => true,
    }),
  ]
  const server = await httpServer((req, res) => {
    state.calls += 1
    const step = (i: number) => () => chain[i]!(req, res, step(i + 1))
    step(0)()
  })
  api = {
    ...server,
    revoked,
    get calls() {
      return state.calls
    },
    get refusedTokens() {
      return state.refusedTokens
    },
    get lastJti() {
      return state.lastJti
    },
  }
})
afterAll(async () => {
  await runner.close()
  await api.close()
  await idp.close()
})

/** A login script that calls the legacy API with a token, and retries once with a fresh one after a 401. */
const LOGIN = `
function login(email, password, callback) {
  var cc = require('@latchkey/client-credentials');
  var request = require('request');
  function attempt(forceRefresh) {
    cc.getAccessToken({ tokenUrl: configuration.TOKEN_URL, clientId: configuration.CLIENT_ID, clientSecret: configuration.CLIENT_SECRET,
                        audience: configuration.AUDIENCE, forceRefresh: forceRefresh }, function (err, token) {
      if (err) return callback(err);
      request.post({ url: configuration.API_URL + '/verify-password', json: { identifier: email, password: password }, auth: { bearer: token } },
        function (err, res, body) {
          if (err) return callback(err);
          if (res.statusCode === 401 && body.error === 'invalid_token' && !forceRefresh) return attempt(true);
          if (res.statusCode === 401) return callback(new WrongUsernameOrPasswordError(email));
          if (res.statusCode !== 200) return callback(new Error('the legacy API answered ' + res.statusCode));
          callback(null, body.user);
        });
    });
  }
  attempt(false);
}`

function connection(opts: { clientSecret?: string; events?: LatchkeyEvent[]; clientId?: string } = {}) {
  return new CustomScriptConnection({
    name: uniqueName('cc'),
    runner,
    attackProtection: false,
    scripts: { login: LOGIN },
    configuration: {
      TOKEN_URL: idp.tokenUrl,
      CLIENT_ID: opts.clientId ?? A.clientId,
      CLIENT_SECRET: opts.clientSecret ?? A.clientSecret,
      AUDIENCE,
      API_URL: api.url,
    },
    egress: { allow: [`127.0.0.1:${idp.port}`, `127.0.0.1:${api.port}`] },
    ...(opts.events
      ? {
          onEvent: (e: LatchkeyEvent) => {
            opts.events!.push(e)
          },
        }
      : {}),
  })
}

const login = (c: CustomScriptConnection, email = 'ada@example.com', password = PASSWORD) =>
  c.login({ identifier: email, password }, { ip: '203.0.113.9' })

/** A token endpoint of our own on loopback: records what it is sent, answers what it is told, after `delayMs`. */
async function fakeTokenEndpoint(answer: { status: number; body: unknown; headers?: Record<string, string> }, delayMs = 0) {
  const seen: { authorization: string | undefined; body: string }[] = []
  const server = await httpServer((req, res) => {
    let body = ''
    req.setEncoding('utf8')
    req.on('data', (d: string) => {
      body += d
    })
    req.on('end', () => {
      seen.push({ authorization: req.headers.authorization, body })
      setTimeout(() => {
        res.writeHead(answer.status, { 'content-type': 'application/json', ...answer.headers }).end(JSON.stringify(answer.body))
      }, delayMs)
    })
  })
  return { ...server, seen, tokenUrl: `${server.url}/token` }
}

const run = (
  source: string,
  args: unknown[],
  opts: { global?: string; egress: string[]; timeoutMs?: number; configuration?: Record<string, string> },
) =>
  runner.run(source, args, {
    scriptName: 'login',
    egress: { allow: opts.egress },
    ...(opts.global ? { global: opts.global } : {}),
    ...(opts.timeoutMs ? { timeoutMs: opts.timeoutMs } : {}),
    ...(opts.configuration ? { configuration: opts.configuration } : {}),
  })

describe('the token cache', () => {
  it('N concurrent logins of one connection cost one token request, and later logins none', async () => {
    const c = connection()
    const before = idp.tokenRequests
    const profiles = await Promise.all(Array.from({ length: 8 }, (_, i) => login(c, `user${i}@example.com`)))
    expect(profiles.map((p) => p.user_id)).toEqual(Array(8).fill('42'))
    expect(idp.tokenRequests - before).toBe(1)
    for (let i = 0; i < 3; i++) await login(c)
    expect(idp.tokenRequests - before).toBe(1)
  })

  it('is per connection: another connection with the same settings fetches its own token', async () => {
    const first = connection()
    const second = connection()
    const before = idp.tokenRequests
    await login(first)
    await login(second)
    await login(first)
    expect(idp.tokenRequests - before).toBe(2)
  })

  it('refreshes a token once it is within 60 s of expiry', async () => {
    idp.setAccessTokenTtl(61)
    try {
      const c = connection()
      const before = idp.tokenRequests
      await login(c)
      await login(c)
      expect(idp.tokenRequests - before).toBe(1)
      // 61 s tokens are served for one second only.
      await new Promise((r) => setTimeout(r, 1200))
      await login(c)
      expect(idp.tokenRequests - before).toBe(2)
    } finally {
      idp.setAccessTokenTtl(3600)
    }
  })

  it('recovers from a 401 with forceRefresh: the revoked token is replaced and the login succeeds', async () => {
    const c = connection()
    await login(c)
    // The token the API just accepted is the one cached for c: revoke it.
    api.revoked.add(api.lastJti!)
    const before = { tokens: idp.tokenRequests, refused: api.refusedTokens }
    expect((await login(c)).user_id).toBe('42')
    expect(api.refusedTokens - before.refused).toBe(1)
    expect(idp.tokenRequests - before.tokens).toBe(1)
    // The fresh token is cached in place of the revoked one.
    await login(c)
    expect(api.refusedTokens - before.refused).toBe(1)
    expect(idp.tokenRequests - before.tokens).toBe(1)
  })

  it('shares one in-flight request, owned by the cache: a run that ends first does not abort it for the others', async () => {
    const slow = await fakeTokenEndpoint(
      { status: 200, body: { access_token: 'opaque-token-Kj3h-77', token_type: 'Bearer', expires_in: 3600 } },
      700,
    )
    try {
      const handle = uniqueName('slow')
      const options = `{ tokenUrl: '${slow.tokenUrl}', clientId: 'c', clientSecret: 's3cret-Slow-Token', audience: 'aud' }`
      // The first run starts the request and calls back at once; its run ends, its sockets close.
      const quitter = `function login(a, b, callback) { require('@latchkey/client-credentials').getAccessToken(${options}); callback(null, 'gone') }`
      const waiter = `async function login() { var t = await require('@latchkey/client-credentials').getAccessToken(${options}); return t.length }`
      const egress = [`127.0.0.1:${slow.port}`]
      expect((await run(quitter, ['a', 'b'], { global: handle, egress })).value).toBe('gone')
      const waited = await Promise.all([run(waiter, [], { global: handle, egress }), run(waiter, [], { global: handle, egress })])
      expect(waited.map((r) => r.value)).toEqual([20, 20])
      expect(slow.seen).toHaveLength(1)
      // A run that times out while waiting does not abort it either: the next run gets the token
      // it started (in flight still, or cached by now), and no second request is made.
      const other = uniqueName('slow')
      const timedOut = await run(waiter, [], { global: other, egress: egress, timeoutMs: 300 }).catch((e: Error) => e)
      expect(timedOut).toBeInstanceOf(ScriptTimeoutError)
      expect((await run(waiter, [], { global: other, egress })).value).toBe(20)
      expect(slow.seen).toHaveLength(2)
    } finally {
      await slow.close()
    }
  })

  it('a runner that closes aborts its token requests in flight', async () => {
    const slow = await fakeTokenEndpoint(
      { status: 200, body: { access_token: 'never-delivered-1', token_type: 'Bearer', expires_in: 3600 } },
      20_000,
    )
    const own = new QuickJsRunner({ timeoutMs: 15_000, workers: 1 })
    try {
      const waiter = `async function login() { return require('@latchkey/client-credentials').getAccessToken({ tokenUrl: '${slow.tokenUrl}',
        clientId: 'c', clientSecret: 's3cret-Closing', audience: 'aud' }) }`
      const pending = own
        .run(waiter, [], { global: uniqueName('close'), egress: { allow: [`127.0.0.1:${slow.port}`] } })
        .catch((e: Error) => e)
      await eventually(() => slow.seen.length === 1, 10_000)
      await own.close()
      await eventually(() => slow.openSockets === 0, 5000)
      expect(await pending).toBeInstanceOf(ScriptError)
    } finally {
      await own.close()
      await slow.close()
    }
  })

  it('keys by secret: a script with the wrong secret never gets the token the right one obtained', async () => {
    const c = connection()
    await login(c)
    const source = (secret: string) => `async function login() {
      try { await require('@latchkey/client-credentials').getAccessToken({ tokenUrl: configuration.TOKEN_URL, clientId: '${A.clientId}',
              clientSecret: '${secret}', audience: '${AUDIENCE}' }); return 'got a token' }
      catch (e) { return e.code } }`
    const before = idp.tokenRequests
    const opts = { global: uniqueName('k'), egress: [`127.0.0.1:${idp.port}`], configuration: { TOKEN_URL: idp.tokenUrl } }
    expect((await run(source(A.clientSecret), [], opts)).value).toBe('got a token')
    expect((await run(source('not-the-secret-at-all'), [], opts)).value).toBe('invalid_client')
    expect(idp.tokenRequests - before).toBe(2)
  })

  it('caches nothing without a global handle, and no token whose lifetime is unknown', async () => {
    const endpoint = await fakeTokenEndpoint({ status: 200, body: { access_token: 'no-expiry-token-1', token_type: 'bearer' } })
    try {
      const source = `function login(a, b, cb) { require('@latchkey/client-credentials').getAccessToken({ tokenUrl: '${endpoint.tokenUrl}',
        clientId: 'c', clientSecret: 'x-secret-Ab1', audience: 'aud' }).then(function (t) { cb(null, t.length) }, cb) }`
      const egress = [`127.0.0.1:${endpoint.port}`]
      const handle = uniqueName('n')
      for (let i = 0; i < 2; i++) await run(source, ['a', 'b'], { global: handle, egress })
      for (let i = 0; i < 2; i++) await run(source, ['a', 'b'], { egress })
      expect(endpoint.seen).toHaveLength(4)
    } finally {
      await endpoint.close()
    }
  })
})

describe('the token request', () => {
  it('sends client_secret_basic and the audience as RFC 8707 resource, or as audience when asked', async () => {
    const endpoint = await fakeTokenEndpoint({
      status: 200,
      body: { access_token: 'tok-Xy9-basic', token_type: 'Bearer', expires_in: 300 },
    })
    try {
      const source = (
        extra: string,
      ) => `async function login() { return require('@latchkey/client-credentials').getAccessToken({ tokenUrl: '${endpoint.tokenUrl}',
        clientId: 'client:one', clientSecret: 's&cret Y%7', audience: 'https://api.example/', scope: 'write read read'${extra} }) }`
      const egress = [`127.0.0.1:${endpoint.port}`]
      expect((await run(source(''), [], { egress })).value).toBe('tok-Xy9-basic')
      await run(source(", audienceParam: 'audience'"), [], { egress })
      const [first, second] = endpoint.seen
      // RFC 6749 §2.3.1: each part form-urlencoded, then joined and base64-encoded.
      expect(first!.authorization).toBe(`Basic ${Buffer.from('client%3Aone:s%26cret+Y%257').toString('base64')}`)
      expect(Object.fromEntries(new URLSearchParams(first!.body))).toEqual({
        grant_type: 'client_credentials',
        resource: 'https://api.example/',
        scope: 'read write',
      })
      expect(Object.fromEntries(new URLSearchParams(second!.body))).toEqual({
        grant_type: 'client_credentials',
        audience: 'https://api.example/',
        scope: 'read write',
      })
    } finally {
      await endpoint.close()
    }
  })

  it('works in callback and promise forms', async () => {
    const options = `{ tokenUrl: configuration.TOKEN_URL, clientId: '${A.clientId}', clientSecret: configuration.SECRET, audience: '${AUDIENCE}' }`
    const callbackStyle = `function login(a, b, callback) { require('@latchkey/client-credentials').getAccessToken(${options}, function (err, token) {
      callback(err, token.split('.').length) }) }`
    const promiseStyle = `async function login() { return (await require('@latchkey/client-credentials').getAccessToken(${options})).split('.').length }`
    const opts = { egress: [`127.0.0.1:${idp.port}`], configuration: { TOKEN_URL: idp.tokenUrl, SECRET: A.clientSecret } }
    expect((await run(callbackStyle, ['a', 'b'], opts)).value).toBe(3)
    expect((await run(promiseStyle, [], opts)).value).toBe(3)
  })

  it("gives a typed error with the server's error code when the grant is refused: client B asking for the API audience", async () => {
    const source = `async function login() {
      var cc = require('@latchkey/client-credentials');
      try { await cc.getAccessToken({ tokenUrl: configuration.TOKEN_URL, clientId: '${B.clientId}', clientSecret: configuration.SECRET, audience: '${AUDIENCE}' }) }
      catch (e) { return { name: e.name, code: e.code, status: e.status, typed: e instanceof cc.ClientCredentialsError, message: e.message } } }`
    const { value } = await run(source, [], {
      egress: [`127.0.0.1:${idp.port}`],
      configuration: { TOKEN_URL: idp.tokenUrl, SECRET: B.clientSecret },
    })
    expect(value).toMatchObject({ name: 'ClientCredentialsError', code: 'invalid_target', status: 400, typed: true })
    expect(JSON.stringify(value)).not.toContain(B.clientSecret)
  })

  it('surfaces an uncaught refusal as a ScriptError naming the code, without the secret', async () => {
    const events: LatchkeyEvent[] = []
    const c = connection({ clientSecret: 'wrong-secret-Pp0o-Ii9u', events })
    const error = await login(c).catch((e: Error) => e)
    expect(error).toBeInstanceOf(ScriptError)
    expect((error as Error).message).toMatch(/ClientCredentialsError.*invalid_client/)
    const everything = JSON.stringify({
      message: (error as Error).message,
      logs: (error as ScriptError).logs,
      stack: (error as Error).stack,
      events,
    })
    expect(everything).not.toContain('wrong-secret-Pp0o-Ii9u')
  })

  it('redacts the secret and the issued token from logs and errors, even when neither is configuration', async () => {
    const source = `async function login(secret) {
      var token = await require('@latchkey/client-credentials').getAccessToken({ tokenUrl: '${idp.tokenUrl}', clientId: '${A.clientId}',
        clientSecret: secret, audience: '${AUDIENCE}' });
      console.log('secret=' + secret + ' token=' + token);
      throw new Error('leaking ' + secret + ' and ' + token);
    }`
    const error = (await run(source, [A.clientSecret], { egress: [`127.0.0.1:${idp.port}`] }).catch((e: ScriptError) => e)) as ScriptError
    expect(error).toBeInstanceOf(ScriptError)
    const text = JSON.stringify({ message: error.message, logs: error.logs, stack: error.stack })
    expect(text).not.toContain(A.clientSecret)
    expect(text).not.toMatch(/eyJ[\w-]+\.eyJ/)
    expect(error.message).toBe('The login script failed: leaking [redacted] and [redacted] (line 5)')
    expect(error.logs).toContain('[log] secret=[redacted] token=[redacted]')
  })

  it('goes through the egress allow-list: an unlisted token endpoint is refused before any request', async () => {
    const before = idp.tokenRequests
    const source = `async function login() { return require('@latchkey/client-credentials').getAccessToken({ tokenUrl: '${idp.tokenUrl}',
      clientId: '${A.clientId}', clientSecret: '${A.clientSecret}', audience: '${AUDIENCE}' }) }`
    const error = await run(source, [], { egress: [`127.0.0.1:${api.port}`] }).catch((e: Error) => e)
    expect(error).toBeInstanceOf(EgressDeniedError)
    expect((error as Error).message).not.toContain(A.clientSecret)
    expect(idp.tokenRequests).toBe(before)
  })

  it('wants https, except on loopback, and a URL without credentials', async () => {
    const attempt = (tokenUrl: string) => `async function login() {
      try { await require('@latchkey/client-credentials').getAccessToken({ tokenUrl: '${tokenUrl}', clientId: 'c', clientSecret: 'S3cret-in-url-check', audience: 'a' }) }
      catch (e) { return e.message } }`
    const egress = ['idp.example.com', '127.0.0.1']
    expect((await run(attempt('http://idp.example.com/token'), [], { egress })).value).toMatch(/https/)
    expect((await run(attempt('https://user:pw@idp.example.com/token'), [], { egress })).value).toMatch(/credentials/)
    expect((await run(attempt('ftp://127.0.0.1/token'), [], { egress })).value).toMatch(/https/)
  })

  it('never follows a redirect from the token endpoint', async () => {
    const redirecting = await fakeTokenEndpoint({ status: 307, body: {}, headers: { location: idp.tokenUrl } })
    try {
      const before = idp.tokenRequests
      const source = `async function login() {
        try { await require('@latchkey/client-credentials').getAccessToken({ tokenUrl: '${redirecting.tokenUrl}', clientId: '${A.clientId}',
                clientSecret: '${A.clientSecret}', audience: '${AUDIENCE}' }); return 'followed' }
        catch (e) { return e.code } }`
      const { value } = await run(source, [], { egress: [`127.0.0.1:${redirecting.port}`, `127.0.0.1:${idp.port}`] })
      expect(value).toBe('token_endpoint_redirect')
      expect(redirecting.seen).toHaveLength(1)
      expect(idp.tokenRequests).toBe(before)
    } finally {
      await redirecting.close()
    }
  })

  it('refuses an answer that is not a bearer token, and scrubs the secret from a server that echoes it', async () => {
    const secret = 'echoed-Secret-Lk8j-Hg6f'
    const echo = await fakeTokenEndpoint({ status: 401, body: { error: 'invalid_client', error_description: `bad secret ${secret}` } })
    const mac = await fakeTokenEndpoint({ status: 200, body: { access_token: 'x', token_type: 'MAC', expires_in: 60 } })
    try {
      const source = (url: string) => `async function login() {
        try { await require('@latchkey/client-credentials').getAccessToken({ tokenUrl: '${url}', clientId: 'c', clientSecret: '${secret}', audience: 'a' }) }
        catch (e) { return { code: e.code, message: e.message } } }`
      const refused = (await run(source(echo.tokenUrl), [], { egress: [`127.0.0.1:${echo.port}`] })).value as {
        code: string
        message: string
      }
      expect(refused.code).toBe('invalid_client')
      expect(refused.message).not.toContain(secret)
      expect(((await run(source(mac.tokenUrl), [], { egress: [`127.0.0.1:${mac.port}`] })).value as { code: string }).code).toBe(
        'invalid_token_response',
      )
    } finally {
      await echo.close()
      await mac.close()
    }
  })
})
