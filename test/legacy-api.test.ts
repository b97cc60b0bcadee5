import http from 'node:http'
import type net from 'node:net'
import bcrypt from 'bcryptjs'
import express from 'express'
import { exportSPKI, generateKeyPair, importJWK, SignJWT, type JWTPayload } from 'jose'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import {
  createLegacyIdentityRouter,
  InvalidOptionsError,
  ipAllowList,
  requireAccessToken,
  type LegacyUser,
  type Middleware,
} from '@latchkey/legacy-api'
import { startAuthorizationServer } from '../examples/legacy-api/authorization-server.js'

// The legacy identity API kit against a real authorization server (oidc-provider): JWT
// access tokens by client credentials with resource indicators. Only client A may obtain
// the API's audience; client C is an over-generous grant on the issuer's side, which the API
// must refuse all the same; client B may obtain another audience only.
const AUDIENCE = 'https://legacy-api.test'
const OTHER_AUDIENCE = 'https://other-api.test'
const A = { clientId: 'legacy-scripts', clientSecret: 'a-secret-Vq8m-2xL0-9pQz', audiences: [AUDIENCE, OTHER_AUDIENCE] }
const B = { clientId: 'reporting', clientSecret: 'b-secret-Hy7c-4nR1-3wEe', audiences: [OTHER_AUDIENCE] }
const C = { clientId: 'too-generous', clientSecret: 'c-secret-Jk2d-8sT5-6yUu', audiences: [AUDIENCE] }
const PASSWORD = 'Tr0ub4dor-horse-42'

let idp: Awaited<ReturnType<typeof startAuthorizationServer>>
const servers: { close(): Promise<void> }[] = []
/** Every response body any test received: none may carry a password hash. */
const bodies: string[] = []
const users = new Map<string, { id: number; email: string; password_hash: string; name: string; user_metadata?: Record<string, unknown> }>()
const serverErrors: Error[] = []

beforeAll(async () => {
  idp = await startAuthorizationServer({ clients: [A, B, C] })
  users.set('ada@example.com', { id: 7, email: 'ada@example.com', password_hash: bcrypt.hashSync(PASSWORD, 4), name: 'Ada' })
  users.set('traveller@example.com', {
    id: 10,
    email: 'traveller@example.com',
    password_hash: bcrypt.hashSync(PASSWORD, 4),
    name: 'Traveller',
    user_metadata: { passport_country: 'NZ', hashtags: ['#travel'], compass: 'north', bypass_lane: true },
  })
  users.set('camel@example.com', {
    id: 11,
    email: 'camel@example.com',
    password_hash: bcrypt.hashSync(PASSWORD, 4),
    name: 'Camel',
    user_metadata: { legacy: { passwordHash: 'a1b2c3d4e5f6' } },
  })
  users.set('leaky@example.com', {
    id: 8,
    email: 'leaky@example.com',
    password_hash: bcrypt.hashSync(PASSWORD, 4),
    name: 'Leaky',
    user_metadata: { previous: { hash: bcrypt.hashSync('an-0ld-passw0rd!', 4) } },
  })
})
afterAll(async () => {
  await Promise.all(servers.map((s) => s.close()))
  await idp.close()
  for (const body of bodies) expect(body).not.toMatch(/\$2[aby]\$\d\d\$/)
})

async function token(client: { clientId: string; clientSecret: string }, resource: string, scope?: string) {
  const response = await fetch(idp.tokenUrl, {
    method: 'POST',
    headers: { authorization: `Basic ${Buffer.from(`${client.clientId}:${client.clientSecret}`).toString('base64')}` },
    body: new URLSearchParams({ grant_type: 'client_credentials', resource, ...(scope ? { scope } : {}) }),
  })
  return { status: response.status, body: (await response.json()) as { access_token?: string; error?: string } }
}

async function tokenOf(client: typeof A, resource = AUDIENCE, scope?: string): Promise<string> {
  const { status, body } = await token(client, resource, scope)
  expect(status).toBe(200)
  return body.access_token!
}

/** A token signed with the issuer's own key: every field is ours to choose. */
async function issuerSigned(claims: JWTPayload, header: { typ?: string; kid?: string } = {}): Promise<string> {
  const key = await importJWK(idp.signingJwk, 'RS256')
  const now = Math.floor(Date.now() / 1000)
  return new SignJWT({ iss: idp.issuer, aud: AUDIENCE, client_id: A.clientId, iat: now, exp: now + 300, jti: `j${now}`, ...claims })
    .setProtectedHeader({ alg: 'RS256', typ: header.typ ?? 'at+jwt', kid: header.kid ?? idp.signingJwk.kid! })
    .sign(key)
}

function legacyRouter() {
  const publicUser = (row: NonNullable<ReturnType<typeof users.get>>): LegacyUser => ({ ...row, user_id: row.id })
  return createLegacyIdentityRouter({
    verifyPassword: async ({ identifier, password }) => {
      const row = users.get(identifier.toLowerCase())
      return row && (await bcrypt.compare(password, row.password_hash)) ? publicUser(row) : null
    },
    getUser: async ({ identifier }) => {
      if (identifier === 'explode@example.com') throw new Error('connect ECONNREFUSED 10.0.0.5:3306 at Socket.<anonymous>')
      const row = users.get(identifier.toLowerCase())
      return row ? publicUser(row) : null
    },
    changePassword: async ({ identifier, newPassword }) => {
      const row = users.get(identifier.toLowerCase())
      if (!row) return false
      row.password_hash = await bcrypt.hash(newPassword, 4)
      return true
    },
    rateLimit: ({ identifier }) => (identifier === 'hammered@example.com' ? { retryAfterSeconds: 42 } : true),
    onError: (error) => serverErrors.push(error),
  })
}

/** A real node:http server running `chain` in order, on `host`. */
async function apiServer(chain: Middleware[], host = '127.0.0.1') {
  const server = http.createServer((req, res) => {
    const step = (i: number) => (error?: unknown) => {
      if (error) throw error
      if (i === chain.length) {
        res.writeHead(200, { 'content-type': 'application/json' }).end('{"reached":true}')
        return
      }
      chain[i]!(req, res, step(i + 1))
    }
    step(0)()
  })
  const sockets = new Set<net.Socket>()
  server.on('connection', (s) => {
    sockets.add(s)
    s.on('close', () => sockets.delete(s))
  })
  await new Promise<void>((resolve) => server.listen(0, host, resolve))
  const port = (server.address() as net.AddressInfo).port
  const handle = {
    port,
    close: async () => {
      for (const s of sockets) s.destroy()
      await new Promise<void>((resolve) => server.close(() => resolve()))
    },
  }
  servers.push(handle)
  return handle
}

interface Answer {
  status: number
  headers: http.IncomingHttpHeaders
  body: Record<string, unknown>
  text: string
}

function call(
  port: number,
  path: string,
  opts: {
    token?: string
    body?: unknown
    method?: string
    host?: string
    localAddress?: string
    headers?: Record<string, string>
  } = {},
): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const payload = opts.body === undefined ? undefined : typeof opts.body === 'string' ? opts.body : JSON.stringify(opts.body)
    const req = http.request(
      {
        host: opts.host ?? '127.0.0.1',
        port,
        path,
        method: opts.method ?? 'POST',
        ...(opts.localAddress ? { localAddress: opts.localAddress } : {}),
        headers: {
          ...(payload === undefined ? {} : { 'content-type': 'application/json' }),
          ...(opts.token ? { authorization: `Bearer ${opts.token}` } : {}),
          ...opts.headers,
        },
      },
      (res) => {
        let text = ''
        res.setEncoding('utf8')
        res.on('data', (d: string) => {
          text += d
        })
        res.on('end', () => {
          bodies.push(text)
          let body: Record<string, unknown> = {}
          try {
            body = JSON.parse(text) as Record<string, unknown>
          } catch {
            /* asserted by callers */
          }
          resolve({ status: res.statusCode!, headers: res.headers, body, text })
        })
      },
    )
    req.on('error', reject)
    req.end(payload)
  })
}

describe('the authorization server grants the API audience to client A only', () => {
  it('client B asking for the legacy API audience is refused with invalid_target', async () => {
    const { status, body } = await token(B, AUDIENCE)
    expect(status).toBe(400)
    expect(body.error).toBe('invalid_target')
    expect(body.access_token).toBeUndefined()
  })
})

describe('requireAccessToken', () => {
  let api: Awaited<ReturnType<typeof apiServer>>
  let scoped: Awaited<ReturnType<typeof apiServer>>
  beforeAll(async () => {
    const auth = requireAccessToken({ issuer: idp.issuer, audience: AUDIENCE, allowedClients: [A.clientId] })
    api = await apiServer([auth, legacyRouter()])
    scoped = await apiServer([
      requireAccessToken({ issuer: idp.issuer, audience: AUDIENCE, allowedClients: [A.clientId], requiredScopes: ['legacy:read'] }),
    ])
  })

  it("lets client A's token through to the router, and the user comes back without its hash", async () => {
    const answer = await call(api.port, '/verify-password', {
      token: await tokenOf(A),
      body: { identifier: 'ada@example.com', password: PASSWORD },
    })
    expect(answer.status).toBe(200)
    expect(answer.body).toEqual({ user: { user_id: '7', email: 'ada@example.com', name: 'Ada' } })
    expect(answer.text).not.toContain('password_hash')
  })

  it('refuses a request without a token: 401, a Bearer challenge without error code, a JSON body', async () => {
    const answer = await call(api.port, '/get-user', { body: { identifier: 'ada@example.com' } })
    expect(answer.status).toBe(401)
    expect(answer.headers['www-authenticate']).toBe('Bearer realm="legacy-identity-api"')
    expect(answer.headers['content-type']).toMatch(/^application\/json/)
    expect(answer.body['error']).toBe('unauthorized')
  })

  const refusedAsInvalid = async (port: number, bearer: string | undefined, headers: Record<string, string> = {}) => {
    const answer = await call(port, '/get-user', {
      ...(bearer === undefined ? {} : { token: bearer }),
      headers,
      body: { identifier: 'ada@example.com' },
    })
    expect(answer.status).toBe(401)
    expect(answer.body['error']).toMatch(/^invalid_(token|request)$/)
    expect(answer.headers['www-authenticate']).toMatch(/^Bearer realm="legacy-identity-api", error="invalid_(token|request)"/)
    expect(answer.text).not.toMatch(/ at |\.ts:|\.js:|stack/i)
    expect(answer.body['user']).toBeUndefined()
    return answer
  }

  it("refuses client B's token (another audience)", async () => {
    const answer = await refusedAsInvalid(api.port, await tokenOf(B, OTHER_AUDIENCE))
    expect(answer.body['error_description']).toMatch(/aud/)
  })

  it("refuses client A's own token when it was issued for another audience", async () => {
    await refusedAsInvalid(api.port, await tokenOf(A, OTHER_AUDIENCE))
  })

  it('refuses a real token for the right audience issued to a client not on the allow-list', async () => {
    const answer = await refusedAsInvalid(api.port, await tokenOf(C, AUDIENCE))
    expect(answer.body['error_description']).toMatch(/client/)
  })

  it("refuses a token with a forged signature under the issuer's key id", async () => {
    const { privateKey } = await generateKeyPair('RS256')
    const now = Math.floor(Date.now() / 1000)
    const forged = await new SignJWT({ iss: idp.issuer, aud: AUDIENCE, client_id: A.clientId, iat: now, exp: now + 300 })
      .setProtectedHeader({ alg: 'RS256', typ: 'at+jwt', kid: idp.signingJwk.kid! })
      .sign(privateKey)
    await refusedAsInvalid(api.port, forged)
    // A real token with its payload swapped keeps a signature that no longer matches.
    const [head, , sig] = (await tokenOf(A)).split('.')
    const payload = Buffer.from(JSON.stringify({ iss: idp.issuer, aud: AUDIENCE, client_id: A.clientId, exp: now + 9999 })).toString(
      'base64url',
    )
    await refusedAsInvalid(api.port, `${head}.${payload}.${sig}`)
  })

  it('refuses an expired token, even one signed by the issuer', async () => {
    const now = Math.floor(Date.now() / 1000)
    const answer = await refusedAsInvalid(api.port, await issuerSigned({ iat: now - 600, exp: now - 60 }))
    expect(answer.body['error_description']).toMatch(/expired/)
  })

  it('accepts a token just past its expiry within the leeway, and refuses one not yet valid', async () => {
    const now = Math.floor(Date.now() / 1000)
    expect(
      (await call(api.port, '/get-user', { token: await issuerSigned({ exp: now - 2 }), body: { identifier: 'ada@example.com' } })).status,
    ).toBe(200)
    await refusedAsInvalid(api.port, await issuerSigned({ nbf: now + 120 }))
  })

  it('refuses a token of another issuer and a token without exp', async () => {
    await refusedAsInvalid(api.port, await issuerSigned({ iss: 'https://evil.example' }))
    const key = await importJWK(idp.signingJwk, 'RS256')
    const noExp = await new SignJWT({ iss: idp.issuer, aud: AUDIENCE, client_id: A.clientId })
      .setProtectedHeader({ alg: 'RS256', typ: 'at+jwt', kid: idp.signingJwk.kid! })
      .sign(key)
    await refusedAsInvalid(api.port, noExp)
  })

  it('refuses alg none', async () => {
    const now = Math.floor(Date.now() / 1000)
    const b64 = (o: object) => Buffer.from(JSON.stringify(o)).toString('base64url')
    const claims = { iss: idp.issuer, aud: AUDIENCE, client_id: A.clientId, iat: now, exp: now + 300 }
    await refusedAsInvalid(api.port, `${b64({ alg: 'none', typ: 'at+jwt' })}.${b64(claims)}.`)
    await refusedAsInvalid(api.port, `${b64({ alg: 'none', typ: 'at+jwt', kid: idp.signingJwk.kid })}.${b64(claims)}.`)
  })

  it("refuses an HMAC token whose secret is the issuer's public key", async () => {
    const publicKey = await importJWK({ kty: 'RSA', n: idp.signingJwk.n!, e: idp.signingJwk.e! }, 'RS256', { extractable: true })
    const now = Math.floor(Date.now() / 1000)
    const claims = { iss: idp.issuer, aud: AUDIENCE, client_id: A.clientId, iat: now, exp: now + 300 }
    const jwksText = await (await fetch(idp.jwksUrl)).text()
    for (const secret of [
      await exportSPKI(publicKey as Parameters<typeof exportSPKI>[0]),
      jwksText,
      JSON.stringify({ kty: 'RSA', n: idp.signingJwk.n, e: idp.signingJwk.e }),
    ]) {
      for (const alg of ['HS256', 'HS384', 'HS512']) {
        const forged = await new SignJWT(claims)
          .setProtectedHeader({ alg, typ: 'at+jwt', kid: idp.signingJwk.kid! })
          .sign(new TextEncoder().encode(secret))
        await refusedAsInvalid(api.port, forged)
      }
    }
  })

  it('checks client_id and azp: both present and different, or neither, is refused', async () => {
    await refusedAsInvalid(api.port, await issuerSigned({ client_id: A.clientId, azp: C.clientId }))
    await refusedAsInvalid(api.port, await issuerSigned({ client_id: undefined }))
    await refusedAsInvalid(api.port, await issuerSigned({ client_id: B.clientId }))
    await refusedAsInvalid(api.port, await issuerSigned({ client_id: [A.clientId] }))
    await refusedAsInvalid(api.port, await issuerSigned({ client_id: undefined, azp: [A.clientId] }))
    await refusedAsInvalid(api.port, await issuerSigned({ azp: { id: A.clientId } }))
    expect(
      (
        await call(api.port, '/get-user', {
          token: await issuerSigned({ client_id: undefined, azp: A.clientId }),
          body: { identifier: 'ada@example.com' },
        })
      ).status,
    ).toBe(200)
    expect(
      (await call(api.port, '/get-user', { token: await issuerSigned({ azp: A.clientId }), body: { identifier: 'ada@example.com' } }))
        .status,
    ).toBe(200)
  })

  it('wants typ at+jwt by default and accepts JWT only when told', async () => {
    const plain = await issuerSigned({}, { typ: 'JWT' })
    await refusedAsInvalid(api.port, plain)
    await refusedAsInvalid(api.port, await issuerSigned({}, { typ: 'application/jwt' }))
    const lenient = await apiServer([
      requireAccessToken({ issuer: idp.issuer, audience: AUDIENCE, allowedClients: [A.clientId], tokenTypes: ['at+jwt', 'JWT'] }),
    ])
    expect((await call(lenient.port, '/', { token: plain })).status).toBe(200)
    expect((await call(lenient.port, '/', { token: await issuerSigned({}, { typ: 'application/at+jwt' }) })).status).toBe(200)
  })

  it('answers 403 insufficient_scope when a required scope is missing', async () => {
    const answer = await call(scoped.port, '/', { token: await tokenOf(A) })
    expect(answer.status).toBe(403)
    expect(answer.body['error']).toBe('insufficient_scope')
    expect(answer.headers['www-authenticate']).toContain(
      'error="insufficient_scope", error_description="The token lacks a required scope", scope="legacy:read"',
    )
    expect((await call(scoped.port, '/', { token: await tokenOf(A, AUDIENCE, 'legacy:read') })).body).toEqual({ reached: true })
  })

  it('refuses a malformed Authorization header or token without touching the issuer', async () => {
    await refusedAsInvalid(api.port, undefined, {
      authorization: `Basic ${Buffer.from(`${A.clientId}:${A.clientSecret}`).toString('base64')}`,
    })
    await refusedAsInvalid(api.port, 'not-a-jwt')
    await refusedAsInvalid(api.port, `${'a'.repeat(9000)}.b.c`)
  })

  it("caches the issuer's keys, refetches for an unknown kid, and no more than once per cooldown", async () => {
    const fresh = await apiServer([
      requireAccessToken({ issuer: idp.issuer, audience: AUDIENCE, allowedClients: [A.clientId], jwksCooldownSeconds: 60 }),
    ])
    const good = await tokenOf(A)
    const before = idp.jwksRequests
    for (let i = 0; i < 5; i++) expect((await call(fresh.port, '/', { token: good })).status).toBe(200)
    expect(idp.jwksRequests - before).toBe(1)
    const { privateKey } = await generateKeyPair('RS256')
    const now = Math.floor(Date.now() / 1000)
    for (const kid of ['rotated-1', 'rotated-2', 'rotated-3']) {
      const unknown = await new SignJWT({ iss: idp.issuer, aud: AUDIENCE, client_id: A.clientId, iat: now, exp: now + 300 })
        .setProtectedHeader({ alg: 'RS256', typ: 'at+jwt', kid })
        .sign(privateKey)
      await refusedAsInvalid(fresh.port, unknown)
    }
    // The first two fetches are a minute apart at least: the flood of unknown kids cost none.
    expect(idp.jwksRequests - before).toBe(1)
    expect((await call(fresh.port, '/', { token: good })).status).toBe(200)
  })

  it('answers 503 without a stack when the issuer cannot be reached', async () => {
    const dead = await apiServer([requireAccessToken({ issuer: 'http://127.0.0.1:9', audience: AUDIENCE, allowedClients: [A.clientId] })])
    const answer = await call(dead.port, '/', { token: await tokenOf(A) })
    expect(answer.status).toBe(503)
    expect(answer.body['error']).toBe('temporarily_unavailable')
    expect(answer.text).not.toMatch(/ECONNREFUSED| at /)
  })

  it('refuses options that would weaken it', () => {
    const base = { issuer: idp.issuer, audience: AUDIENCE, allowedClients: [A.clientId] }
    expect(() => requireAccessToken({ ...base, issuer: 'http://id.example.com' })).toThrow(InvalidOptionsError)
    expect(() => requireAccessToken({ ...base, algorithms: ['HS256' as 'RS256'] })).toThrow(InvalidOptionsError)
    expect(() => requireAccessToken({ ...base, algorithms: ['none' as 'RS256'] })).toThrow(InvalidOptionsError)
    expect(() => requireAccessToken({ ...base, allowedClients: [] })).toThrow(InvalidOptionsError)
    expect(() => requireAccessToken({ ...base, clockToleranceSeconds: 3600 })).toThrow(InvalidOptionsError)
    expect(() => requireAccessToken({ ...base, jwksUri: 'http://keys.example.com/jwks' })).toThrow(InvalidOptionsError)
  })
})

describe('ipAllowList', () => {
  const allowLoopback = () => ipAllowList(['127.0.0.1/32'])

  it('refuses a call from 127.0.0.2 while only 127.0.0.1/32 is allowed, even with a valid token', async () => {
    const auth = requireAccessToken({ issuer: idp.issuer, audience: AUDIENCE, allowedClients: [A.clientId] })
    const api = await apiServer([allowLoopback(), auth, legacyRouter()])
    const good = await tokenOf(A)
    const body = { identifier: 'ada@example.com' }
    expect((await call(api.port, '/get-user', { token: good, body })).status).toBe(200)
    const refused = await call(api.port, '/get-user', { token: good, body, localAddress: '127.0.0.2' })
    expect(refused.status).toBe(403)
    expect(refused.body).toEqual({ error: 'forbidden', error_description: 'This address may not call this API' })
  })

  it('never lets the allow-list stand in for the token: an allowed address without a token is 401', async () => {
    const api = await apiServer([
      allowLoopback(),
      requireAccessToken({ issuer: idp.issuer, audience: AUDIENCE, allowedClients: [A.clientId] }),
    ])
    expect((await call(api.port, '/')).status).toBe(401)
  })

  it('ignores a spoofed X-Forwarded-For without trustProxy', async () => {
    const api = await apiServer([allowLoopback()])
    for (const xff of ['127.0.0.1', '10.0.0.1, 127.0.0.1', '::ffff:127.0.0.1']) {
      expect((await call(api.port, '/', { localAddress: '127.0.0.2', headers: { 'x-forwarded-for': xff } })).status).toBe(403)
    }
    const outside = await apiServer([ipAllowList(['10.9.0.0/16'])])
    expect((await call(outside.port, '/', { headers: { 'x-forwarded-for': '10.9.1.1' } })).status).toBe(403)
  })

  it('with trustProxy hops, takes the address that many hops back and no further', async () => {
    // The proxy is 127.0.0.1 (the socket); the client it saw is the last X-Forwarded-For entry.
    const oneHop = await apiServer([ipAllowList(['10.9.0.0/16'], { trustProxy: 1 })])
    expect((await call(oneHop.port, '/', { headers: { 'x-forwarded-for': '10.9.1.1' } })).status).toBe(200)
    // A client-supplied first entry is not trusted: the proxy appended the real address.
    expect((await call(oneHop.port, '/', { headers: { 'x-forwarded-for': '10.9.1.1, 192.0.2.7' } })).status).toBe(403)
    expect((await call(oneHop.port, '/', { headers: { 'x-forwarded-for': 'garbage' } })).status).toBe(403)
    const twoHops = await apiServer([ipAllowList(['10.9.0.0/16'], { trustProxy: 2 })])
    expect((await call(twoHops.port, '/', { headers: { 'x-forwarded-for': '10.9.1.1, 192.0.2.7' } })).status).toBe(200)
    expect((await call(twoHops.port, '/', { headers: { 'x-forwarded-for': '10.9.1.1, 192.0.2.7, 192.0.2.8' } })).status).toBe(403)
  })

  it('handles IPv4-mapped IPv6 peers and IPv6 ranges', async () => {
    // A socket bound to an IPv4-mapped address sees IPv4 peers as ::ffff:a.b.c.d.
    const mapped = await apiServer([allowLoopback()], '::ffff:127.0.0.1')
    expect((await call(mapped.port, '/')).status).toBe(200)
    expect((await call(mapped.port, '/', { localAddress: '127.0.0.2' })).status).toBe(403)
    const mappedEntry = await apiServer([ipAllowList(['::ffff:127.0.0.1/128'])])
    expect((await call(mappedEntry.port, '/')).status).toBe(200)
    expect((await call(mappedEntry.port, '/', { localAddress: '127.0.0.2' })).status).toBe(403)
    const v6 = await apiServer([ipAllowList(['::1/128'])], '::1')
    expect((await call(v6.port, '/', { host: '::1' })).status).toBe(200)
    const v6Other = await apiServer([ipAllowList(['2001:db8::/32', '127.0.0.0/8'])], '::1')
    expect((await call(v6Other.port, '/', { host: '::1' })).status).toBe(403)
  })

  it('refuses entries that are not addresses or ranges, and a list that is empty', () => {
    expect(() => ipAllowList([])).toThrow(InvalidOptionsError)
    expect(() => ipAllowList(['127.0.0.1/33'])).toThrow(InvalidOptionsError)
    expect(() => ipAllowList(['localhost'])).toThrow(InvalidOptionsError)
    expect(() => ipAllowList(['127.0.0.1'], { trustProxy: -1 })).toThrow(InvalidOptionsError)
  })
})

describe('createLegacyIdentityRouter', () => {
  let api: Awaited<ReturnType<typeof apiServer>>
  let bearer: string
  beforeAll(async () => {
    api = await apiServer([requireAccessToken({ issuer: idp.issuer, audience: AUDIENCE, allowedClients: [A.clientId] }), legacyRouter()])
    bearer = await tokenOf(A)
  })

  it('offers exactly verify-password, get-user and change-password', async () => {
    expect(
      (await call(api.port, '/verify-password', { token: bearer, body: { identifier: 'ada@example.com', password: 'Wr0ng-passw0rd-99' } }))
        .status,
    ).toBe(401)
    expect((await call(api.port, '/get-user', { token: bearer, body: { identifier: 'ada@example.com' } })).body['user']).toMatchObject({
      user_id: '7',
    })
    expect((await call(api.port, '/get-user', { token: bearer, body: { identifier: 'nobody@example.com' } })).status).toBe(404)
    for (const path of ['/', '/users', '/query', '/verify-password/../admin', '/delete-user']) {
      expect((await call(api.port, path, { token: bearer, body: {} })).status).toBe(404)
    }
    const get = await call(api.port, '/get-user', { token: bearer, method: 'GET' })
    expect(get.status).toBe(405)
    expect(get.headers['allow']).toBe('POST')
  })

  it('changes a password, after which only the new one verifies', async () => {
    users.set('grace@example.com', { id: 9, email: 'grace@example.com', password_hash: bcrypt.hashSync(PASSWORD, 4), name: 'Grace' })
    const next = 'N3w-horse-battery-77'
    expect(
      (await call(api.port, '/change-password', { token: bearer, body: { identifier: 'grace@example.com', new_password: next } })).body,
    ).toEqual({ changed: true })
    expect(
      (await call(api.port, '/verify-password', { token: bearer, body: { identifier: 'grace@example.com', password: PASSWORD } })).status,
    ).toBe(401)
    expect(
      (await call(api.port, '/verify-password', { token: bearer, body: { identifier: 'grace@example.com', password: next } })).status,
    ).toBe(200)
    expect(
      (await call(api.port, '/change-password', { token: bearer, body: { identifier: 'nobody@example.com', new_password: next } })).status,
    ).toBe(404)
  })

  it('validates bodies with zod and never echoes what was sent', async () => {
    const secret = 'Sup3r-s3cret-typed-pw'
    const extra = await call(api.port, '/verify-password', {
      token: bearer,
      body: { identifier: 'ada@example.com', password: secret, admin: true },
    })
    expect(extra.status).toBe(400)
    expect(extra.body['error']).toBe('invalid_request')
    expect(extra.text).not.toContain(secret)
    const wrongType = await call(api.port, '/verify-password', {
      token: bearer,
      body: { identifier: 'ada@example.com', password: 12345678901234 },
    })
    expect(wrongType.status).toBe(400)
    expect(wrongType.text).not.toContain('12345678901234')
    expect((await call(api.port, '/get-user', { token: bearer, body: '{not json' })).status).toBe(400)
    expect(
      (
        await call(api.port, '/get-user', {
          token: bearer,
          body: 'identifier=x',
          headers: { 'content-type': 'application/x-www-form-urlencoded' },
        })
      ).status,
    ).toBe(415)
    expect((await call(api.port, '/get-user', { token: bearer, body: { identifier: 'x'.repeat(20_000) } })).status).toBe(413)
  })

  it('refuses to answer a user that still carries a hash, and says only server_error', async () => {
    const before = serverErrors.length
    const answer = await call(api.port, '/verify-password', {
      token: bearer,
      body: { identifier: 'leaky@example.com', password: PASSWORD },
    })
    expect(answer.status).toBe(500)
    expect(answer.body).toEqual({ error: 'server_error' })
    expect(
      serverErrors
        .slice(before)
        .map((e) => e.message)
        .join(),
    ).toMatch(/user_metadata\.previous\.hash/)
  })

  it('tells credential fields from look-alikes: passport and hashtags pass, passwordHash does not', async () => {
    const ok = await call(api.port, '/get-user', { token: bearer, body: { identifier: 'traveller@example.com' } })
    expect(ok.status).toBe(200)
    expect(ok.body['user']).toMatchObject({
      user_metadata: { passport_country: 'NZ', hashtags: ['#travel'], compass: 'north', bypass_lane: true },
    })
    const refused = await call(api.port, '/get-user', { token: bearer, body: { identifier: 'camel@example.com' } })
    expect(refused.status).toBe(500)
    expect(refused.text).not.toContain('a1b2c3d4e5f6')
    expect(serverErrors.at(-1)?.message).toMatch(/user_metadata\.legacy\.passwordHash/)
  })

  it('turns a callback that throws into a bare server_error, with the details for onError only', async () => {
    const answer = await call(api.port, '/get-user', { token: bearer, body: { identifier: 'explode@example.com' } })
    expect(answer.status).toBe(500)
    expect(answer.body).toEqual({ error: 'server_error' })
    expect(answer.text).not.toMatch(/ECONNREFUSED|10\.0\.0\.5|Socket/)
    expect(serverErrors.at(-1)?.message).toMatch(/ECONNREFUSED/)
  })

  it('asks the rate-limit hook first and answers 429 with Retry-After', async () => {
    const answer = await call(api.port, '/verify-password', {
      token: bearer,
      body: { identifier: 'hammered@example.com', password: PASSWORD },
    })
    expect(answer.status).toBe(429)
    expect(answer.headers['retry-after']).toBe('42')
  })

  it('works as Express middleware, mounted under a path and behind express.json()', async () => {
    const app = express()
    app.use(
      '/legacy',
      ipAllowList(['127.0.0.1/32']),
      requireAccessToken({ issuer: idp.issuer, audience: AUDIENCE, allowedClients: [A.clientId] }),
      express.json(),
      legacyRouter(),
    )
    const server = app.listen(0, '127.0.0.1')
    await new Promise<void>((resolve) => server.once('listening', () => resolve()))
    servers.push({
      close: () =>
        new Promise<void>((resolve) => {
          server.closeAllConnections()
          server.close(() => resolve())
        }),
    })
    const port = (server.address() as net.AddressInfo).port
    const answer = await call(port, '/legacy/verify-password', {
      token: bearer,
      body: { identifier: 'ada@example.com', password: PASSWORD },
    })
    expect(answer.status).toBe(200)
    expect(answer.body['user']).toMatchObject({ user_id: '7' })
    expect((await call(port, '/legacy/verify-password', { body: { identifier: 'ada@example.com', password: PASSWORD } })).status).toBe(401)
    expect(
      (
        await call(port, '/legacy/verify-password', {
          token: bearer,
          body: { identifier: 'ada@example.com', password: PASSWORD },
          localAddress: '127.0.0.2',
        })
      ).status,
    ).toBe(403)
    expect((await call(port, '/legacy/get-user', { token: bearer, body: { identifier: 'ada@example.com', extra: 1 } })).status).toBe(400)
  })

  it('refuses options without the three callbacks', () => {
    expect(() => createLegacyIdentityRouter({} as never)).toThrow(InvalidOptionsError)
    expect(() => createLegacyIdentityRouter({ verifyPassword: async () => null, getUser: async () => null } as never)).toThrow(
      InvalidOptionsError,
    )
  })
})
