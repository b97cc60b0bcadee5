// Bulk import of legacy password hashes: every format, verified at login, rehashed to
// bcrypt on the first success; refusals at import; streaming; insert-only and upsert.
import { createHash } from 'node:crypto'
import { Readable } from 'node:stream'
import bcrypt from 'bcryptjs'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import {
  BuiltinConnection,
  closeHashPool,
  importUsers,
  WrongUsernameOrPasswordError,
  type ImportRecord,
  type LatchkeyEvent,
} from '@latchkey/core'
import { hashPoolStats } from '@latchkey/core/internal'
import { openStore, type OpenedStore } from '@latchkey/adapters'
import { DIALECTS, EMBEDDED, openTestStore, uniqueName } from './support/dialects.js'
import { b64nopad, formats } from './support/legacy-hash-formats.js'
import { TEST_COST } from './support/test-cost.js'

const ctx = { ip: '198.51.100.40' }

afterAll(async () => {
  await closeHashPool()
})

describe('every hash format: import, login, wrong password, rehash, second login on bcrypt', () => {
  let store: OpenedStore
  let connection: BuiltinConnection
  const events: LatchkeyEvent[] = []
  const cases = formats()
  beforeAll(async () => {
    store = await openStore('sqlite::memory:')
    connection = new BuiltinConnection({ name: uniqueName('imp'), store, ...TEST_COST, onEvent: (e) => events.push(e) })
    const result = await importUsers(
      connection,
      cases.map(([, , hash], i) => ({ email: `user${i}@example.com`, ...hash })),
    )
    expect(result).toEqual({
      imported: cases.length,
      updated: 0,
      skipped: 0,
      failed: 0,
      failures: [],
      processed: cases.length,
      stopped: false,
    })
  })
  afterAll(async () => {
    await store.close()
  })

  it('covers at least 30 format cases', () => expect(cases.length).toBeGreaterThanOrEqual(30))

  cases.forEach(([label, password], i) => {
    it(label, async () => {
      const email = `user${i}@example.com`
      const ctx = { ip: `198.51.100.${i + 1}` } // one address per case: the IP throttle is not under test here
      await expect(connection.login({ identifier: email, password: `${password}x` }, ctx)).rejects.toBeInstanceOf(
        WrongUsernameOrPasswordError,
      )
      const first = await connection.login({ identifier: email, password }, ctx)
      const stored = await store.findUser(connection.name, { userId: first.user_id })
      expect(stored?.legacy_hash).toBeNull()
      expect(stored?.password_hash).toMatch(/^\$2[aby]\$/)
      if (!label.startsWith('fixture bcrypt')) expect(stored?.password_hash).toMatch(/^\$2b\$04\$/)
      await expect(connection.login({ identifier: email, password }, ctx)).resolves.toMatchObject({ logins_count: 2 })
      await expect(connection.login({ identifier: email, password: `${password}x` }, ctx)).rejects.toBeInstanceOf(
        WrongUsernameOrPasswordError,
      )
    })
  })

  it('a wrong password on a legacy hash still pays a bcrypt compare', async () => {
    await importUsers(connection, [
      {
        email: 'cheap@example.com',
        custom_password_hash: { algorithm: 'md5', hash: { value: createHash('md5').update('right').digest('hex') } },
      },
    ])
    const before = hashPoolStats().jobs
    await expect(connection.login({ identifier: 'cheap@example.com', password: 'wrong' }, ctx)).rejects.toBeInstanceOf(
      WrongUsernameOrPasswordError,
    )
    expect(hashPoolStats().jobs - before).toBe(2) // the legacy check and one bcrypt compare
  })

  it('keeps the legacy hash when the password cannot be rehashed, and says so', async () => {
    const long = 'é'.repeat(40) // 80 bytes of UTF-8: over bcrypt's 72
    await importUsers(connection, [
      {
        email: 'long@example.com',
        custom_password_hash: { algorithm: 'sha256', hash: { value: createHash('sha256').update(long).digest('hex') } },
      },
    ])
    const user = await connection.login({ identifier: 'long@example.com', password: long }, ctx)
    expect((await store.findUser(connection.name, { userId: user.user_id }))?.legacy_hash).not.toBeNull()
    expect(events.find((e) => e.type === 'rehash_skipped' && e.user_id === user.user_id)).toBeTruthy()
    await expect(connection.login({ identifier: 'long@example.com', password: long }, ctx)).resolves.toBeTruthy()
  })
})

describe('refusals at import', () => {
  let store: OpenedStore
  let connection: BuiltinConnection
  beforeAll(async () => {
    store = await openStore('sqlite::memory:')
    connection = new BuiltinConnection({ name: uniqueName('ref'), store, ...TEST_COST })
  })
  afterAll(async () => {
    await store.close()
  })

  const refused: [string, ImportRecord['custom_password_hash'] | string, string][] = [
    ['unknown algorithm', { algorithm: 'rot13', hash: { value: 'x' } }, 'unsupported_algorithm'],
    ['unknown ldap scheme', { algorithm: 'ldap', hash: { value: '{CRYPT}abc' } }, 'unsupported_algorithm'],
    ['bad hex', { algorithm: 'md5', hash: { value: 'zz' } }, 'malformed_hash'],
    ['wrong digest length', { algorithm: 'sha256', hash: { value: 'abcd' } }, 'malformed_hash'],
    ['pbkdf2 not in PHC form', { algorithm: 'pbkdf2', hash: { value: 'sha256:1000:salt:hash' } }, 'malformed_hash'],
    ['argon2 not in PHC form', { algorithm: 'argon2', hash: { value: 'argon2id-hash' } }, 'malformed_hash'],
    ['scrypt N not a power of two', { algorithm: 'scrypt', hash: { value: '$scrypt$ln=1000,r=8,p=1$c2FsdA$aGFzaA' } }, 'malformed_hash'],
    ['phpass mislabelled as drupal7', { algorithm: 'drupal7', hash: { value: '$P$9IQRaTwmfeRo7ud9Fh4E2PdI0S3r.L0' } }, 'malformed_hash'],
    ['malformed bcrypt', '$2b$10$tooshort', 'malformed_hash'],
    ['bcrypt cost over 14', `$2b$15$${'a'.repeat(53)}`, 'over_cap'],
    ['pbkdf2 over 1,000,000 iterations', { algorithm: 'pbkdf2', hash: { value: '$pbkdf2-sha256$i=2000000$c2FsdA$aGFzaA' } }, 'over_cap'],
    ['scrypt N·r over 2^20·8', { algorithm: 'scrypt', hash: { value: '$scrypt$ln=21,r=8,p=1$c2FsdA$aGFzaA' } }, 'over_cap'],
    [
      'scrypt N given directly, over the cap',
      { algorithm: 'scrypt', hash: { value: '$scrypt$ln=4194304,r=8,p=1$c2FsdA$aGFzaA' } },
      'over_cap',
    ],
    [
      'argon2 memory over 256 MiB',
      { algorithm: 'argon2', hash: { value: '$argon2id$v=19$m=300000,t=2,p=1$c2FsdHNhbHQ$aGFzaGhhc2g' } },
      'over_cap',
    ],
    ['phpass iterations over 2^20', { algorithm: 'phpass', hash: { value: '$P$' + 'M' + 'IQRaTwmfeRo7ud9Fh4E2PdI0S3r.L0' } }, 'over_cap'],
    [
      'firebase memCost over the cap',
      {
        algorithm: 'firebase-scrypt',
        hash: { value: 'aGFzaA==' },
        salt: { value: 'c2FsdA==', encoding: 'base64' },
        firebase: { signerKey: 'a2V5', saltSeparator: 'Bw==', rounds: 8, memCost: 22 },
      },
      'over_cap',
    ],
  ]
  for (const [label, hash, code] of refused) {
    it(`refuses ${label} (${code})`, async () => {
      const record =
        typeof hash === 'string'
          ? { email: `${uniqueName()}@example.com`, password_hash: hash }
          : { email: `${uniqueName()}@example.com`, custom_password_hash: hash }
      const result = await importUsers(connection, [record])
      expect(result.imported).toBe(0)
      expect(result.failures).toEqual([{ index: 0, email: record.email, code, message: expect.any(String) }])
    })
  }

  it('takes raised caps', async () => {
    const record = {
      email: 'raised@example.com',
      custom_password_hash: { algorithm: 'pbkdf2', hash: { value: `$pbkdf2-sha256$i=1500000$c2FsdA$${b64nopad(Buffer.alloc(32))}` } },
    }
    expect((await importUsers(connection, [record])).failed).toBe(1)
    expect((await importUsers(connection, [record], { caps: { pbkdf2Iterations: 2_000_000 } })).imported).toBe(1)
  })

  it('refuses bad records without sinking the batch', async () => {
    const result = await importUsers(connection, [
      { email: 'fine@example.com' },
      { email: 'not-an-email' },
      { email: 'x@example.com', username: 'has space' },
      {
        email: 'y@example.com',
        password_hash: `$2b$04$${'a'.repeat(53)}`,
        custom_password_hash: { algorithm: 'md5', hash: { value: 'aa' } },
      },
      { email: 'z@example.com', role: 'admin' },
      'just a string',
      { email: 'fine2@example.com' },
    ])
    expect(result.imported).toBe(2)
    expect(result.failures.map((f) => [f.index, f.code])).toEqual([
      [1, 'invalid_record'],
      [2, 'invalid_username'],
      [3, 'invalid_record'],
      [4, 'invalid_record'],
      [5, 'invalid_record'],
    ])
  })
})

describe('streaming, progress and failures', () => {
  let store: OpenedStore
  let connection: BuiltinConnection
  beforeAll(async () => {
    store = await openStore('sqlite::memory:')
    connection = new BuiltinConnection({ name: uniqueName('str'), store, ...TEST_COST })
  })
  afterAll(async () => {
    await store.close()
  })

  it('reads an NDJSON byte stream, reporting bad lines by index and 1-based line, blank lines counted', async () => {
    const lines = [
      JSON.stringify({ email: 'a@example.com' }),
      '{not json',
      '',
      JSON.stringify({ email: 'b@example.com' }),
      JSON.stringify({ email: 'nope' }),
    ].join('\n')
    const result = await importUsers(connection, Readable.from([Buffer.from(lines)]))
    expect(result).toMatchObject({ imported: 2, processed: 4, line: 5, stopped: false })
    expect(result.failures).toEqual([
      { index: 1, line: 2, code: 'invalid_json', message: expect.any(String) },
      { index: 3, line: 5, email: 'nope', code: 'invalid_record', message: expect.any(String) },
    ])
  })
  it('stops at a batch boundary when its signal aborts: what was read is written, the rest is not read', async () => {
    const stop = new AbortController()
    let read = 0
    function* gen() {
      for (let i = 0; i < 100; i++) {
        read += 1
        yield { email: `stop${i}@example.com` }
      }
    }
    const result = await importUsers(connection, gen(), {
      batchSize: 10,
      onProgress: (p) => {
        if (p.processed === 20) stop.abort()
      },
      signal: stop.signal,
    })
    expect(result).toMatchObject({ stopped: true, processed: 20, imported: 20, failed: 0 })
    expect(read).toBe(21) // the 21st was pulled from the source, then dropped unwritten and uncounted
    expect(await connection.getUser('stop19@example.com')).not.toBeNull()
    expect(await connection.getUser('stop20@example.com')).toBeNull()
  })
  it('reads an async iterable and reports progress per batch', async () => {
    const progress: number[] = []
    async function* gen() {
      for (let i = 0; i < 25; i++) yield { email: `gen${i}@example.com` }
    }
    const result = await importUsers(connection, gen(), { batchSize: 10, onProgress: (p) => progress.push(p.processed) })
    expect(result.imported).toBe(25)
    expect(progress).toEqual([10, 20, 25])
  })
  it('keeps the first 1,000 failures and shows every one to onFailure', async () => {
    let seen = 0
    const bad = Array.from({ length: 1200 }, (_, i) => ({ email: `bad${i}` }))
    const result = await importUsers(connection, bad, {
      onFailure: () => {
        seen += 1
      },
    })
    expect(result.failed).toBe(1200)
    expect(result.failures).toHaveLength(1000)
    expect(seen).toBe(1200)
  })
})

for (const dialect of DIALECTS) {
  describe(`insert-only and upsert on ${dialect}`, () => {
    let store: OpenedStore
    beforeAll(async () => {
      store = await openTestStore(dialect)
    })
    afterAll(async () => {
      await store.close()
    })

    it('never overwrites a user who exists (changed password, changed email), unless upsert', async () => {
      const connection = new BuiltinConnection({ name: uniqueName('up'), store, ...TEST_COST })
      const hash = bcrypt.hashSync('exported', 4)
      const first = await importUsers(connection, [
        { user_id: 'legacy-1', email: 'a@example.com', password_hash: hash },
        { user_id: 'legacy-2', email: 'b@example.com', password_hash: hash },
      ])
      expect(first.imported).toBe(2)
      await connection.changePassword('a@example.com', 'changed-after-import', ctx)
      const again = await importUsers(connection, [
        { user_id: 'legacy-1', email: 'a@example.com', password_hash: hash },
        { user_id: 'legacy-3', email: 'B@example.com', password_hash: hash },
        { user_id: 'legacy-4', email: 'c@example.com', password_hash: hash },
        { user_id: 'legacy-5', email: 'c@example.com', password_hash: hash },
      ])
      expect(again.imported).toBe(1)
      expect(again.failures.map((f) => [f.index, f.code])).toEqual([
        [0, 'user_exists'],
        [1, 'user_exists'],
        [3, 'user_exists'],
      ])
      await expect(connection.login({ identifier: 'a@example.com', password: 'changed-after-import' }, ctx)).resolves.toBeTruthy()
      const upserted = await importUsers(connection, [{ user_id: 'legacy-1', email: 'a@example.com', password_hash: hash, name: 'Ada' }], {
        upsert: true,
      })
      expect(upserted).toMatchObject({ imported: 0, updated: 1, failed: 0 })
      await expect(connection.login({ identifier: 'a@example.com', password: 'exported' }, ctx)).resolves.toMatchObject({ name: 'Ada' })
    })

    it('with skipExisting, counts what an earlier run imported as skipped, and still fails real clashes', async () => {
      const connection = new BuiltinConnection({ name: uniqueName('skip'), store, ...TEST_COST })
      const hash = bcrypt.hashSync('exported-password-1', 4)
      const records = [
        { user_id: 'legacy-1', email: 'a@example.com', password_hash: hash },
        { email: 'b@example.com', password_hash: hash },
        { user_id: 'legacy-3', email: 'c@example.com', password_hash: hash },
      ]
      expect(await importUsers(connection, records.slice(0, 2))).toMatchObject({ imported: 2, failed: 0 })
      await connection.signup({ email: 'signed-up@example.com', password: 'Tr0ub4dor-horse-42' }, ctx)
      await connection.changePassword('a@example.com', 'changed-after-import-1', ctx)
      const again = await importUsers(
        connection,
        [
          ...records,
          { user_id: 'legacy-9', email: 'b@example.com', password_hash: hash }, // another user with b's email
          { email: 'signed-up@example.com', password_hash: hash }, // a user who signed up, not imported
        ],
        { skipExisting: true },
      )
      expect(again).toMatchObject({ imported: 1, skipped: 2, failed: 2 })
      expect(again.failures.map((f) => [f.index, f.code])).toEqual([
        [3, 'user_exists'],
        [4, 'user_exists'],
      ])
      await expect(connection.login({ identifier: 'a@example.com', password: 'changed-after-import-1' }, ctx)).resolves.toBeTruthy()
    })

    it(`imports ${EMBEDDED[dialect] ? '100,000' : '5,000'} pre-hashed users, counted, with a sample of logins`, async () => {
      const n = EMBEDDED[dialect] ? 100_000 : 5_000
      const connection = new BuiltinConnection({ name: uniqueName('bulk'), store, ...TEST_COST })
      const hash = bcrypt.hashSync('bulk-password', 4)
      function* records() {
        for (let i = 0; i < n; i++) yield { email: `bulk${i}@example.com`, password_hash: hash, user_metadata: { n: i } }
      }
      const result = await importUsers(connection, records())
      expect(result).toEqual({ imported: n, updated: 0, skipped: 0, failed: 0, failures: [], processed: n, stopped: false })
      const count = await store.db
        .selectFrom('latchkey_users')
        .select((eb) => eb.fn.countAll().as('n'))
        .where('connection', '=', connection.name)
        .executeTakeFirstOrThrow()
      expect(Number(count.n)).toBe(n)
      for (const i of [0, 1, Math.floor(n / 2), n - 1]) {
        await expect(connection.login({ identifier: `bulk${i}@example.com`, password: 'bulk-password' }, ctx)).resolves.toMatchObject({
          user_metadata: { n: i },
        })
      }
    })
  })
}
