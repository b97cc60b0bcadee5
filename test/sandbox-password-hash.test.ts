// require('@latchkey/password-hash') in the real sandbox: verify(password, hash) for every
// format bulk import accepts, in one host call on the hash pool; hostile hashes and arguments
// end in a typed PasswordHashError (or a capped, timed-out run), never a hang, and no error
// holds the password or the hash.
import { createHash } from 'node:crypto'
import bcrypt from 'bcryptjs'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { closeHashPool, ScriptError, ScriptTimeoutError } from '@latchkey/core'
import { hashPoolStats } from '@latchkey/core/internal'
import { QuickJsRunner } from '@latchkey/sandbox'
import { b64nopad, formats } from './support/legacy-hash-formats.js'

const runner = new QuickJsRunner({ workers: 2, timeoutMs: 20_000 })
const WRONG = 'Wr0ng-horse-battery-1'

beforeAll(async () => {
  // A fresh runner's first run includes worker start-up: not part of any deadline below.
  await Promise.all([1, 2].map(() => runner.run('function f(cb) { cb(null, 1) }', [])))
})
afterAll(async () => {
  await runner.close()
  await closeHashPool()
})

const BOTH = `async function f(password, hash, wrong) {
  const { verify } = require('@latchkey/password-hash')
  return [await verify(password, hash), await verify(wrong, hash)]
}`

/** The strings that name their own format, so a script can pass the column as it is. */
const SELF_DESCRIBING = /^(\$2[aby]\$|\$[PHS]\$|\$pbkdf2|\$scrypt\$|\$argon2|pbkdf2_sha|\{[A-Z0-9]+\})/

describe("require('@latchkey/password-hash').verify", () => {
  const cases = formats()

  it.each(cases.map(([label, password, record]) => [label, password, record] as const))(
    '%s: the right password verifies, a wrong one does not',
    async (_label, password, record) => {
      const hash = record.password_hash ?? record.custom_password_hash!
      expect((await runner.run(BOTH, [password, hash, WRONG])).value).toEqual([true, false])
      const text = typeof hash === 'string' ? hash : hash.hash.value
      if (typeof hash !== 'string' && SELF_DESCRIBING.test(text) && !hash.salt && !hash.firebase) {
        // The bare string, as a legacy column holds it.
        expect((await runner.run(BOTH, [password, text, WRONG])).value).toEqual([true, false])
      }
    },
    30_000,
  )

  it('covers phpass and a salted SHA-1, the legacy formats of examples/migration, as strings and records', () => {
    const labels = cases.map(([label]) => label)
    expect(labels.some((l) => l.startsWith('fixture phpass'))).toBe(true)
    expect(labels).toContain('sha1 salt suffix hex-encoded salt')
  })

  it('answers in callback form too, and bcrypt of cost 4 (the tests cost) as a plain string', async () => {
    const password = 'Tr0ub4dor-horse-42'
    const hash = bcrypt.hashSync(password, 4)
    const { value } = await runner.run(
      `function f(p, h, cb) {
        require('@latchkey/password-hash').verify(p, h, function (err, ok) { cb(err, { ok: ok, err: err && err.code }) })
      }`,
      [password, hash],
    )
    expect(value).toEqual({ ok: true, err: null })
  })
})

describe('hostile hashes and arguments are contained', () => {
  const PASSWORD = 'Tr0ub4dor-horse-42'
  const salt = b64nopad(Buffer.from('sixteen-byte-slt'))
  const digest = b64nopad(Buffer.alloc(32, 7))
  /** [what, hash or argument list, expected code]. */
  const hostile: [string, unknown, string][] = [
    ['bcrypt at cost 31', '$2b$31$' + 'a'.repeat(53), 'over_cap'],
    ['bcrypt that is not one', '$2b$04$short', 'malformed_hash'],
    ['phpass at 2^30 rounds', '$P$S' + 'abcdefgh' + 'a'.repeat(22), 'over_cap'],
    ['phpass cut short', '$P$9IQRaTwmfeRo7ud9Fh4E2Pd', 'malformed_hash'],
    ['pbkdf2 at 10^9 iterations', `$pbkdf2-sha256$i=1000000000,l=32$${salt}$${digest}`, 'over_cap'],
    ['pbkdf2 whose hash decodes to 0 bytes', { algorithm: 'pbkdf2', hash: { value: `$pbkdf2-sha256$i=10$${salt}$=` } }, 'malformed_hash'],
    ['scrypt N 2^40', `$scrypt$ln=40,r=8,p=1$${salt}$${digest}`, 'over_cap'],
    ['argon2 with 4 GiB', `$argon2id$v=19$m=4194304,t=3,p=1$${salt}$${digest}`, 'over_cap'],
    ['a sha1 of 1 byte', { algorithm: 'sha1', hash: { value: '00' } }, 'malformed_hash'],
    ['a sha1 that is not hex', { algorithm: 'sha1', hash: { value: 'zz'.repeat(20) } }, 'malformed_hash'],
    [
      'a salt that decodes to nothing',
      { algorithm: 'sha1', hash: { value: 'ab'.repeat(20) }, salt: { value: '=', encoding: 'base64' } },
      'malformed_hash',
    ],
    ['an unknown algorithm', { algorithm: 'rot13', hash: { value: 'abc' } }, 'unsupported_algorithm'],
    ['a string that names no format', 'e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855', 'unsupported_algorithm'],
    ['a number', 42, 'invalid_argument'],
    ['null', null, 'invalid_argument'],
    ['an empty object', {}, 'invalid_argument'],
    ['a record with a stray field', { algorithm: 'sha1', hash: { value: 'ab'.repeat(20) }, extra: 'x' }, 'invalid_argument'],
  ]

  it.each(hostile)('%s: a PasswordHashError with its code, no secret in it', async (_what, hash, code) => {
    const { value } = await runner.run(
      `async function f(p, h) {
        const ph = require('@latchkey/password-hash')
        try {
          return { matched: await ph.verify(p, h) }
        } catch (e) {
          return { name: e.name, code: e.code, typed: e instanceof ph.PasswordHashError, message: e.message }
        }
      }`,
      [PASSWORD, hash],
    )
    expect(value).toMatchObject({ name: 'PasswordHashError', code, typed: true })
    const message = (value as { message: string }).message
    expect(message).not.toContain(PASSWORD)
    // Neither the hash nor its last part (the digest, or the salt and digest) shows.
    const text = typeof hash === 'string' ? hash : (hash as { hash?: { value?: string } } | null)?.hash?.value
    if (text && text.length >= 8) {
      expect(message).not.toContain(text)
      expect(message).not.toContain(text.slice(-8))
    }
  })

  it('a 1 MB hash string made inside the script is invalid_argument', async () => {
    const { value } = await runner.run(
      `async function f(p) {
        try { return await require('@latchkey/password-hash').verify(p, '$P$9' + 'x'.repeat(1024 * 1024)) } catch (e) { return e.code }
      }`,
      [PASSWORD],
    )
    expect(value).toBe('invalid_argument')
  })

  it('a password that is not a string, or too long, is invalid_argument; an uncaught refusal is a ScriptError without secrets', async () => {
    const hash = `{SHA}${createHash('sha1').update(PASSWORD).digest('base64')}`
    const codes = await runner.run(
      `async function f(h) {
        const ph = require('@latchkey/password-hash')
        const out = []
        for (const p of [42, null, undefined, { toString() { return 'x' } }, 'p'.repeat(1025)]) {
          try { out.push(await ph.verify(p, h)) } catch (e) { out.push(e.code) }
        }
        return out
      }`,
      [hash],
    )
    expect(codes.value).toEqual(Array(5).fill('invalid_argument'))
    const uncaught = await runner
      .run(
        `async function login(e, p) { await require('@latchkey/password-hash').verify(p, '$P$S' + 'abcdefgh' + 'a'.repeat(22)) }`,
        ['a@example.com', PASSWORD],
        { scriptName: 'login' },
      )
      .catch((e: unknown) => e)
    expect(uncaught).toBeInstanceOf(ScriptError)
    expect((uncaught as Error).message).toMatch(/PasswordHashError: 2\^30 iterations is outside 2\^7 to 2\^16/)
    expect((uncaught as Error).message).not.toContain(PASSWORD)
    expect((uncaught as Error).message).not.toContain('abcdefgh')
  })

  it('counts against the run: at most 32 verifications per run, like bcrypt and pbkdf2', async () => {
    const hash = { algorithm: 'md5', hash: { value: createHash('md5').update('x').digest('hex') } }
    const many = await runner
      .run(
        `async function f(h) {
          const { verify } = require('@latchkey/password-hash')
          for (let i = 0; i < 33; i++) await verify('x', h)
        }`,
        [hash],
      )
      .catch((e: unknown) => e)
    expect(many).toBeInstanceOf(ScriptError)
    expect((many as Error).message).toMatch(/at most 32 bcrypt, pbkdf2 and password-hash operations per run/)
  })

  it('a flood of the dearest hashes times out at the deadline, and what still waits is dropped, not run', async () => {
    // PBKDF2-SHA256 at the cap (600,000 iterations): each one a fraction of a second of one core.
    const dear = `$pbkdf2-sha256$i=600000,l=32$${salt}$${digest}`
    const before = hashPoolStats()
    const started = Date.now()
    const flood = await runner
      .run(
        `function f(h, cb) {
          const { verify } = require('@latchkey/password-hash')
          for (let i = 0; i < 30; i++) verify('x', h).catch(() => undefined)
        }`,
        [dear],
        { timeoutMs: 1500 },
      )
      .catch((e: unknown) => e)
    expect(flood).toBeInstanceOf(ScriptTimeoutError)
    // Contained: the run ended at its deadline (plus the hard-kill grace at most), not after 30 verifications.
    expect(Date.now() - started).toBeLessThan(1500 + 1000)
    expect(hashPoolStats().scriptJobsDropped - before.scriptJobsDropped).toBeGreaterThan(0)
  })
})
