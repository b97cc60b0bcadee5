// The ready range API for the k-anonymity breached-password service, against a local HTTP server speaking the same
// protocol (never the internet): only five hex characters of the SHA-1 leave the process, padding is asked for and
// ignored, and an outage falls back to the local list.
import { createHash } from 'node:crypto'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import {
  BuiltinConnection,
  closeHashPool,
  InvalidInputError,
  PasswordLeakedError,
  pwnedPasswordsRangeApi,
  PWNED_PASSWORDS_RANGE_URL,
} from '@latchkey/core'
import { openStore, type OpenedStore } from '@latchkey/adapters'
import { uniqueName } from './support/dialects.js'
import { httpServer } from './support/servers.js'
import { TEST_COST } from './support/test-cost.js'

const ctx = { ip: '198.51.100.51' }
const LEAKED = 'Leaked-but-long-phrase-1'
const SAFE = 'Tr0ub4dor-horse-42'
const sha1 = (s: string) => createHash('sha1').update(s, 'utf8').digest('hex').toUpperCase()

let store: OpenedStore
const requests: { url: string; padding: string | undefined }[] = []
let mode: 'ok' | 'error' | 'hang' = 'ok'
let server: Awaited<ReturnType<typeof httpServer>>

beforeAll(async () => {
  store = await openStore('sqlite::memory:')
  server = await httpServer((req, res) => {
    requests.push({ url: req.url ?? '', padding: req.headers['add-padding'] as string | undefined })
    if (mode === 'error') return void res.writeHead(503).end('unavailable')
    if (mode === 'hang') return // never answers
    const prefix = (req.url ?? '').split('/').pop() ?? ''
    const lines = [LEAKED, 'something-else-leaked']
      .map(sha1)
      .filter((h) => h.startsWith(prefix))
      .map((h) => `${h.slice(5)}:42`)
    // Padding, as the real service sends when asked: suffixes with a count of 0, one of them the safe password's.
    if (sha1(SAFE).startsWith(prefix)) lines.push(`${sha1(SAFE).slice(5)}:0`)
    lines.push('0018A45C4D1DEF81644B54AB7F969B88D65:0')
    res.writeHead(200, { 'content-type': 'text/plain' }).end(lines.join('\r\n'))
  })
})
afterAll(async () => {
  await server.close()
  await store.close()
  await closeHashPool()
})

const connect = (timeoutMs?: number) =>
  new BuiltinConnection({
    name: uniqueName('range'),
    store,
    ...TEST_COST,
    passwordPolicy: { dictionary: false }, // so that the local list that refuses 'qwertyuiop123' is the breached one
    breachedPasswords: { rangeApi: pwnedPasswordsRangeApi({ url: `${server.url}/range/`, ...(timeoutMs ? { timeoutMs } : {}) }) },
  })

describe('pwnedPasswordsRangeApi', () => {
  it('refuses a password the service knows, sending only a five-character prefix and asking for padding', async () => {
    mode = 'ok'
    requests.length = 0
    const users = connect()
    await expect(users.signup({ email: 'leak@example.com', password: LEAKED }, ctx)).rejects.toBeInstanceOf(PasswordLeakedError)
    expect(requests).toEqual([{ url: `/range/${sha1(LEAKED).slice(0, 5)}`, padding: 'true' }])
    expect(JSON.stringify(requests)).not.toContain(sha1(LEAKED).slice(5, 12))
  })

  it('ignores padding entries (count 0), so a password that only matches padding is allowed', async () => {
    mode = 'ok'
    await expect(connect().signup({ email: 'safe@example.com', password: SAFE }, ctx)).resolves.toMatchObject({ email: 'safe@example.com' })
  })

  it('checks change and reset too', async () => {
    mode = 'ok'
    const users = connect()
    await users.signup({ email: 'change@example.com', password: SAFE }, ctx)
    await expect(users.changePassword('change@example.com', LEAKED, ctx)).rejects.toBeInstanceOf(PasswordLeakedError)
    const issued = await users.createPasswordResetTicket('change@example.com', {}, ctx)
    await expect(users.resetPassword(issued!.ticket, LEAKED, ctx)).rejects.toBeInstanceOf(PasswordLeakedError)
  })

  it('falls back to the local list when the service fails or does not answer, with a warning that names no secret', async () => {
    const warnings: Error[] = []
    const listener = (w: Error) => warnings.push(w)
    process.on('warning', listener)
    try {
      mode = 'error'
      await expect(connect().signup({ email: 'down@example.com', password: LEAKED }, ctx)).resolves.toBeTruthy()
      await expect(connect().signup({ email: 'down@example.com', password: 'qwertyuiop123' }, ctx)).rejects.toBeInstanceOf(
        PasswordLeakedError,
      )
      mode = 'hang'
      await expect(connect(200).signup({ email: 'slow@example.com', password: LEAKED }, ctx)).resolves.toBeTruthy()
      await new Promise((resolve) => setTimeout(resolve, 10))
    } finally {
      process.off('warning', listener)
    }
    const ours = warnings.filter((w) => (w as Error & { code?: string }).code === 'LATCHKEY_RANGE_API_FAILED')
    expect(ours.length).toBeGreaterThanOrEqual(2)
    expect(ours.map((w) => w.message).join('\n')).toMatch(/HTTP 503/)
    for (const w of ours) {
      expect(w.message).not.toContain(LEAKED)
      expect(w.message).not.toContain(sha1(LEAKED).slice(0, 5))
    }
  })

  it('points at the public service by default and validates its options', () => {
    expect(PWNED_PASSWORDS_RANGE_URL).toBe('https://api.pwnedpasswords.com/range/')
    expect(() => pwnedPasswordsRangeApi({ url: 'file:///etc/passwd' })).toThrow(InvalidInputError)
    expect(() => pwnedPasswordsRangeApi({ timeoutMs: 0 })).toThrow(InvalidInputError)
  })
})
