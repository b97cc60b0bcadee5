import { afterAll, afterEach, describe, expect, it } from 'vitest'
import { openStore, type OpenedStore } from '@latchkey/adapters'
import { BuiltinConnection, closeHashPool, InvalidInputError, type BuiltinConnectionOptions } from '@latchkey/core'
import { createHandler, type HandlerOptions, type MailRequest } from '@latchkey/http'
import { DIALECTS, storeUrl, uniqueName } from './support/dialects.js'
import { eventLog } from './support/events.js'
import { eventually } from './support/servers.js'
import { APP_PATH, HTTP_ADAPTERS, serveHandler, tcpRelay, type HttpAdapter, type RunningApp } from './support/http-adapters.js'
import { TEST_COST } from './support/test-cost.js'

const PASSWORD = 'Tr0ub4dor-horse-42'
const OTHER_PASSWORD = 'Correct-Staple-Battery-77'
const LEAKED = 'Leaked-Password-2019'
const JSON_HEADERS = { 'content-type': 'application/json' }

const cleanups: (() => Promise<void>)[] = []
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c()
})
afterAll(() => closeHashPool())

interface Setup {
  app: RunningApp
  mails: MailRequest[]
  events: ReturnType<typeof eventLog>
  connection: BuiltinConnection
  post(path: string, body: unknown, headers?: Record<string, string>): Promise<Response>
  form(path: string, fields: Record<string, string>, headers?: Record<string, string>): Promise<Response>
}

async function setup(
  adapter: HttpAdapter,
  opts: {
    handler?: Omit<HandlerOptions, 'connection'>
    connection?: Partial<BuiltinConnectionOptions>
    store?: OpenedStore
  } = {},
): Promise<Setup> {
  const store = opts.store ?? (await openStore(storeUrl('sqlite')))
  if (!opts.store) cleanups.push(() => store.close())
  const events = eventLog()
  const connection = new BuiltinConnection({
    name: uniqueName('http'),
    store,
    ...TEST_COST,
    onEvent: events.onEvent,
    passwordPolicy: { level: 'good' },
    breachedPasswords: { list: [LEAKED] },
    ...opts.connection,
  })
  const mails: MailRequest[] = []
  const handler = createHandler({
    connection,
    onMail: (m) => {
      mails.push(m)
    },
    ...opts.handler,
  })
  const app = await serveHandler(adapter, handler)
  cleanups.push(() => app.close())
  const post = (path: string, body: unknown, headers: Record<string, string> = {}) =>
    fetch(app.url + path, { method: 'POST', headers: { ...JSON_HEADERS, ...headers }, body: JSON.stringify(body), redirect: 'manual' })
  const form = (path: string, fields: Record<string, string>, headers: Record<string, string> = { 'sec-fetch-site': 'same-origin' }) =>
    fetch(app.url + path, {
      method: 'POST',
      redirect: 'manual',
      body: new URLSearchParams(fields).toString(),
      headers: { 'content-type': 'application/x-www-form-urlencoded', ...headers },
    })
  return { app, mails, events, connection, post, form }
}

async function signup(s: Setup, email: string): Promise<void> {
  expect((await s.post('/auth/signup', { email, password: PASSWORD })).status).toBe(201)
}

describe.each(HTTP_ADAPTERS)('the handler on %s', (adapter) => {
  it('signup: 201 with the user, 409, 422 for policy, leaked and bad input, a verification mail', async () => {
    const s = await setup(adapter)
    const res = await s.post('/auth/signup', { email: 'Ada@Example.com', password: PASSWORD, user_metadata: { admin: true } })
    expect(res.status).toBe(201)
    const { user } = (await res.json()) as { user: { email: string; user_metadata?: unknown } }
    expect(user.email).toBe('Ada@Example.com')
    expect(user.user_metadata ?? {}).toEqual({}) // fields beyond the route's are dropped
    await eventually(() => s.mails.length === 1, 15_000)
    expect(s.mails[0]).toMatchObject({ kind: 'verify_email', to: 'Ada@Example.com' })

    const again = await s.post('/auth/signup', { email: 'ada@example.com', password: OTHER_PASSWORD })
    expect(again.status).toBe(409)
    expect(await again.json()).toMatchObject({ error: 'user_exists' })

    const weak = await s.post('/auth/signup', { email: 'bob@example.com', password: 'short1' })
    expect(weak.status).toBe(422)
    const weakBody = (await weak.json()) as { error: string; rules: { id: string; verified: boolean }[] }
    expect(weakBody.error).toBe('invalid_password')
    expect(weakBody.rules.some((r) => !r.verified)).toBe(true)

    const leaked = await s.post('/auth/signup', { email: 'bob@example.com', password: LEAKED })
    expect(leaked.status).toBe(422)
    expect(await leaked.json()).toMatchObject({ error: 'password_leaked' })

    const bad = await s.post('/auth/signup', { email: 'not-an-email', password: PASSWORD })
    expect(bad.status).toBe(422)
    expect(await bad.json()).toMatchObject({ error: 'invalid_input' })
    const wrongType = await s.post('/auth/signup', { email: 42, password: PASSWORD })
    expect(wrongType.status).toBe(422)
  })

  it('signup: 429 with Retry-After past the signup limit', async () => {
    const s = await setup(adapter, { connection: { attackProtection: { signupThrottling: { perMinute: 2 } } } })
    await signup(s, 'one@example.com')
    await signup(s, 'two@example.com')
    const res = await s.post('/auth/signup', { email: 'three@example.com', password: PASSWORD })
    expect(res.status).toBe(429)
    expect(await res.json()).toMatchObject({ error: 'too_many_attempts' })
    expect(Number(res.headers.get('retry-after'))).toBeGreaterThan(0)
  })

  it('login: 200 with onLogin headers, 401, 403 for a blocked user, 429 with Retry-After', async () => {
    const s = await setup(adapter, {
      connection: { attackProtection: { bruteForce: { threshold: 3 } } },
      handler: {
        onLogin: ({ user }) => [
          ['set-cookie', `sid=${user.user_id}; HttpOnly`],
          ['set-cookie', 'theme=dark'],
        ],
      },
    })
    await signup(s, 'ada@example.com')
    const ok = await s.post('/auth/login', { identifier: 'ada@example.com', password: PASSWORD })
    expect(ok.status).toBe(200)
    const { user } = (await ok.json()) as { user: { user_id: string } }
    expect(ok.headers.getSetCookie()).toEqual([`sid=${user.user_id}; HttpOnly`, 'theme=dark'])

    const wrong = await s.post('/auth/login', { identifier: 'ada@example.com', password: OTHER_PASSWORD })
    expect(wrong.status).toBe(401)
    const unknown = await s.post('/auth/login', { identifier: 'nobody@example.com', password: OTHER_PASSWORD })
    expect(unknown.status).toBe(401)
    expect(await unknown.json()).toEqual(await wrong.json())

    await s.post('/auth/login', { identifier: 'ada@example.com', password: OTHER_PASSWORD })
    await s.post('/auth/login', { identifier: 'ada@example.com', password: OTHER_PASSWORD })
    const blocked = await s.post('/auth/login', { identifier: 'ada@example.com', password: PASSWORD })
    expect(blocked.status).toBe(429)
    expect(await blocked.json()).toMatchObject({ error: 'too_many_attempts' })
    expect(Number(blocked.headers.get('retry-after'))).toBeGreaterThan(0)

    await signup(s, 'bob@example.com')
    await s.connection.updateUser((await s.connection.getUser('bob@example.com'))!.user_id, { blocked: true })
    const refused = await s.post('/auth/login', { identifier: 'bob@example.com', password: PASSWORD })
    expect(refused.status).toBe(403)
    expect(await refused.json()).toMatchObject({ error: 'unauthorized' })
  })

  it('forgot: 202 with the same answer for a known and an unknown email, a mail only for the known, 429 per IP', async () => {
    const s = await setup(adapter, { handler: { forgotLimit: { requests: 3, perSeconds: 600 } } })
    await signup(s, 'ada@example.com')
    await eventually(() => s.mails.length === 1, 15_000)
    const known = await s.post('/auth/password/forgot', { email: 'ada@example.com' })
    const unknown = await s.post('/auth/password/forgot', { email: 'nobody@example.com' })
    expect(known.status).toBe(202)
    expect(unknown.status).toBe(202)
    const strip = (h: Headers) => [...h].filter(([n]) => n !== 'date')
    expect(strip(unknown.headers)).toEqual(strip(known.headers))
    expect(await unknown.text()).toBe(await known.text())
    await eventually(() => s.mails.length === 2, 15_000)
    expect(s.mails[1]).toMatchObject({ kind: 'reset_password', to: 'ada@example.com' })

    expect((await s.post('/auth/password/forgot', { email: 'ada@example.com' })).status).toBe(202)
    const limited = await s.post('/auth/password/forgot', { email: 'ada@example.com' })
    expect(limited.status).toBe(429)
    expect(Number(limited.headers.get('retry-after'))).toBeGreaterThan(0)
    const invalid = await s.post('/auth/password/forgot', { email: 'ada' })
    expect([422, 429]).toContain(invalid.status)
  })

  it('reset: 400 for a bad ticket, 422 for a weak password, 200 with the user, then the new password logs in', async () => {
    const s = await setup(adapter)
    await signup(s, 'ada@example.com')
    await s.post('/auth/password/forgot', { email: 'ada@example.com' })
    await eventually(() => s.mails.some((m) => m.kind === 'reset_password'), 15_000)
    const { ticket } = s.mails.find((m) => m.kind === 'reset_password')!

    const bad = await s.post('/auth/password/reset', { ticket: 'x'.repeat(43), password: OTHER_PASSWORD })
    expect(bad.status).toBe(400)
    expect(await bad.json()).toMatchObject({ error: 'invalid_ticket' })
    const weak = await s.post('/auth/password/reset', { ticket, password: 'short1' })
    expect(weak.status).toBe(422)
    const ok = await s.post('/auth/password/reset', { ticket, password: OTHER_PASSWORD })
    expect(ok.status).toBe(200)
    expect(await ok.json()).toMatchObject({ user: { email: 'ada@example.com' } })
    expect((await s.post('/auth/login', { identifier: 'ada@example.com', password: OTHER_PASSWORD })).status).toBe(200)
  })

  it('verify: 400 for a bad ticket, 200 with the verified user for the mailed one', async () => {
    const s = await setup(adapter)
    await signup(s, 'ada@example.com')
    await eventually(() => s.mails.length === 1, 15_000)
    const bad = await s.post('/auth/email/verify', { ticket: 'y'.repeat(43) })
    expect(bad.status).toBe(400)
    expect(await bad.json()).toMatchObject({ error: 'invalid_ticket' })
    const ok = await s.post('/auth/email/verify', { ticket: s.mails[0]!.ticket })
    expect(ok.status).toBe(200)
    expect(await ok.json()).toMatchObject({ user: { email_verified: true } })
  })

  it('forms: 303 to the configured pages, the error code and the non-secret fields in the query on failure', async () => {
    const s = await setup(adapter, {
      handler: {
        forms: { login: { success: '/account', failure: '/login' }, signup: { success: '/welcome', failure: '/signup?step=1' } },
        onLogin: () => ({ 'set-cookie': 'sid=abc' }),
      },
    })
    const created = await s.form('/auth/signup', { email: 'ada@example.com', password: PASSWORD, username: '' })
    expect(created.status).toBe(303)
    expect(created.headers.get('location')).toBe('/welcome')
    const ok = await s.form('/auth/login', { identifier: 'ada@example.com', password: PASSWORD })
    expect(ok.status).toBe(303)
    expect(ok.headers.get('location')).toBe('/account')
    expect(ok.headers.getSetCookie()).toEqual(['sid=abc'])
    const wrong = await s.form('/auth/login', { identifier: 'ada@example.com', password: OTHER_PASSWORD })
    expect(wrong.status).toBe(303)
    const location = new URL(wrong.headers.get('location')!, 'http://x')
    expect(location.pathname).toBe('/login')
    expect(Object.fromEntries(location.searchParams)).toEqual({ error: 'invalid_user_password', identifier: 'ada@example.com' })
    const weak = await s.form('/auth/signup', { email: 'bob@example.com', password: 'short1' })
    expect(weak.headers.get('location')).toBe('/signup?step=1&error=invalid_password&email=bob%40example.com')
    const badEmail = await s.form('/auth/signup', { email: 'bob', password: PASSWORD })
    expect(new URL(badEmail.headers.get('location')!, 'http://x').searchParams.get('field')).toBe('email')
  })

  it('CSRF: a cross-site or header-less form post, text/plain, and a JSON body without its type are refused', async () => {
    const s = await setup(adapter, { handler: { allowedOrigins: ['https://app.example'] } })
    const fields = { email: 'ada@example.com', password: PASSWORD }
    const crossSite = await s.form('/auth/signup', fields, { 'sec-fetch-site': 'cross-site', origin: 'https://evil.example' })
    expect(crossSite.status).toBe(403)
    expect(await crossSite.json()).toMatchObject({ error: 'cross_site_refused' })
    expect((await s.form('/auth/signup', fields, { 'sec-fetch-site': 'same-site', origin: 'https://sub.app.example' })).status).toBe(403)
    expect((await s.form('/auth/signup', fields, {})).status).toBe(403)
    expect((await s.form('/auth/signup', fields, { origin: 'null' })).status).toBe(403)
    expect((await s.post('/auth/signup', fields, { origin: 'https://evil.example' })).status).toBe(403)
    const plain = await fetch(s.app.url + '/auth/signup', {
      method: 'POST',
      body: JSON.stringify(fields),
      headers: { 'content-type': 'text/plain' },
    })
    expect(plain.status).toBe(403)
    const untyped = await fetch(s.app.url + '/auth/signup', { method: 'POST', body: new Blob([JSON.stringify(fields)]) })
    expect(untyped.status).toBe(415)
    expect(await s.connection.getUser('ada@example.com')).toBeNull()

    const listed = await s.form('/auth/signup', fields, { 'sec-fetch-site': 'cross-site', origin: 'https://app.example' })
    expect(listed.status).toBe(303)
    expect(await s.connection.getUser('ada@example.com')).not.toBeNull()
  })

  it('client IP: X-Forwarded-For is ignored without trustProxy and honoured with it', async () => {
    for (const trustProxy of [undefined, 1]) {
      const s = await setup(adapter, trustProxy === undefined ? {} : { handler: { trustProxy } })
      await s.post(
        '/auth/login',
        { identifier: 'nobody@example.com', password: PASSWORD },
        { 'x-forwarded-for': '203.0.113.9, 198.51.100.7' },
      )
      const ips = s.events.events.filter((e) => e.type === 'fu').map((e) => e.ip)
      expect(ips).toEqual([trustProxy === undefined ? '127.0.0.1' : '198.51.100.7'])
    }
    const twoHops = await setup(adapter, { handler: { trustProxy: 2 } })
    const spoofed = '192.0.2.66, 203.0.113.9, 198.51.100.7' // the client wrote the first; two proxies appended the rest
    await twoHops.post('/auth/login', { identifier: 'nobody@example.com', password: PASSWORD }, { 'x-forwarded-for': spoofed })
    expect(twoHops.events.events.filter((e) => e.type === 'fu').map((e) => e.ip)).toEqual(['203.0.113.9'])
    const garbage = await twoHops.post(
      '/auth/login',
      { identifier: 'nobody@example.com', password: PASSWORD },
      { 'x-forwarded-for': 'unknown, 198.51.100.7' },
    )
    expect(garbage.status).toBe(400)
    expect(await garbage.json()).toMatchObject({ error: 'invalid_client_ip' })
  })

  it('limits: 413 past 16 KiB, 405 for other methods, unknown paths fall through, malformed JSON is 400', async () => {
    const s = await setup(adapter)
    const big = await s.post('/auth/signup', { email: 'ada@example.com', password: PASSWORD, pad: 'x'.repeat(17 * 1024) })
    expect(big.status).toBe(413)
    const streamed = await fetch(s.app.url + '/auth/signup', {
      method: 'POST',
      headers: JSON_HEADERS,
      duplex: 'half',
      body: new ReadableStream({
        start(c) {
          c.enqueue(new TextEncoder().encode(`{"pad":"${'x'.repeat(17 * 1024)}"}`))
          c.close()
        },
      }),
    } as RequestInit)
    expect(streamed.status).toBe(413)
    const get = await fetch(s.app.url + '/auth/login')
    expect(get.status).toBe(405)
    expect(get.headers.get('allow')).toBe('POST')
    const other = await fetch(s.app.url + APP_PATH)
    if (adapter === 'node') expect(other.status).toBe(404)
    else expect(await other.text()).toBe('app')
    const malformed = await fetch(s.app.url + '/auth/login', { method: 'POST', headers: JSON_HEADERS, body: '{"identifier":' })
    expect(malformed.status).toBe(400)
    expect(await malformed.json()).toEqual({ error: 'malformed_body', message: 'The body is not a JSON object.' })
  })
})

const serverDialect = DIALECTS.find((d) => d !== 'sqlite')
describe.runIf(serverDialect)('the handler when the store is down', () => {
  it.each(HTTP_ADAPTERS)('answers 503 with a fixed message on %s', async (adapter) => {
    const target = new URL(storeUrl(serverDialect!))
    const relay = await tcpRelay(Number(target.port))
    const viaRelay = new URL(target)
    viaRelay.port = String(relay.port)
    const store = await openStore(viaRelay.toString(), { connectTimeoutMs: 1000 })
    cleanups.push(() => store.close().catch(() => undefined)) // its server is gone; closing may fail
    const s = await setup(adapter, { store })
    await signup(s, 'ada@example.com')
    await relay.cut()
    const res = await s.post('/auth/login', { identifier: 'ada@example.com', password: PASSWORD })
    expect(res.status).toBe(503)
    expect(await res.json()).toEqual({ error: 'store_unavailable', message: 'The service is unavailable. Try again shortly.' })
  })
})

describe('handler options', () => {
  it('refuses form pages that are not paths on this site, as InvalidInputError', async () => {
    const store = await openStore(storeUrl('sqlite'))
    cleanups.push(() => store.close())
    const connection = new BuiltinConnection({ name: uniqueName('http-opts'), store, ...TEST_COST })
    for (const failure of ['https://evil.example/', '//evil.example/', '/\\evil.example/', 'login']) {
      expect(() => createHandler({ connection, forms: { login: { failure } } })).toThrow(InvalidInputError)
    }
    expect(() => createHandler({ connection, trustProxy: -1 })).toThrow(InvalidInputError)
    expect(createHandler({ connection, forms: { login: { failure: '/login?x=1' } } }).paths).toContain('/auth/login')
  })
})
