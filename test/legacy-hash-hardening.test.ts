// Imported legacy hashes that must never let a guess in or cost more than the caps allow:
// decoded-length minimums and cost caps at import, a zero-length comparison refused at login,
// a record that cannot be verified counted as a wrong password, and a wrong password on a
// cheaper bcrypt hash topped up to the configured cost.
import { pbkdf2Sync, randomBytes } from 'node:crypto'
import bcrypt from 'bcryptjs'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import {
  BuiltinConnection,
  closeHashPool,
  importUsers,
  TooManyAttemptsError,
  WrongUsernameOrPasswordError,
  type ImportRecord,
  type NewStoredUser,
} from '@latchkey/core'
import { hashPoolStats } from '@latchkey/core/internal'
import { openStore, type OpenedStore } from '@latchkey/adapters'
import { DIALECTS, openTestStore, uniqueName } from './support/dialects.js'
import { TEST_COST } from './support/test-cost.js'

afterAll(async () => {
  await closeHashPool()
})

const b64 = (b: Buffer) => b.toString('base64')
const b64nopad = (b: Buffer) => b64(b).replace(/=+$/, '')
const salt16 = randomBytes(16)
const GUESS = 'Any-guess-at-all-42'

/** ASP.NET Identity v3: 0x01, prf, iterations, salt length (big-endian), salt, subkey. */
function aspnetV3(iterations: number, subkey: Buffer, prf = 1): string {
  const head = Buffer.alloc(13)
  head[0] = 0x01
  head.writeUInt32BE(prf, 1)
  head.writeUInt32BE(iterations, 5)
  head.writeUInt32BE(salt16.length, 9)
  return b64(Buffer.concat([head, salt16, subkey]))
}

describe("refused at import: digests, salts and keys below their format's minimum", () => {
  let store: OpenedStore
  let connection: BuiltinConnection
  beforeAll(async () => {
    store = await openStore('sqlite::memory:')
    connection = new BuiltinConnection({ name: uniqueName('min'), store, ...TEST_COST })
  })
  afterAll(async () => {
    await store.close()
  })

  const cases: [string, NonNullable<ImportRecord['custom_password_hash']>, string][] = [
    [
      'pbkdf2 whose digest decodes to 0 bytes',
      { algorithm: 'pbkdf2', hash: { value: '$pbkdf2-sha256$i=1000$c2FsdA$A' } },
      'malformed_hash',
    ],
    ['pbkdf2 whose digest is "="', { algorithm: 'pbkdf2', hash: { value: '$pbkdf2-sha256$i=1000$c2FsdA$=' } }, 'malformed_hash'],
    ['pbkdf2 with l=0', { algorithm: 'pbkdf2', hash: { value: '$pbkdf2-sha256$i=1000,l=0$c2FsdA$A' } }, 'malformed_hash'],
    [
      'pbkdf2 of 8 bytes (under 16)',
      { algorithm: 'pbkdf2', hash: { value: `$pbkdf2-sha256$i=1000$c2FsdA$${b64nopad(randomBytes(8))}` } },
      'malformed_hash',
    ],
    [
      'pbkdf2 whose salt decodes to 0 bytes',
      { algorithm: 'pbkdf2', hash: { value: `$pbkdf2-sha256$i=1000$A$${b64nopad(randomBytes(32))}` } },
      'malformed_hash',
    ],
    [
      'Django whose digest decodes to 0 bytes',
      { algorithm: 'django', hash: { value: 'pbkdf2_sha256$10000$kjVJaVz6qsnJ$A' } },
      'malformed_hash',
    ],
    [
      'Django with 0 iterations',
      { algorithm: 'django', hash: { value: `pbkdf2_sha256$0$kjVJaVz6qsnJ$${b64(randomBytes(32))}` } },
      'malformed_hash',
    ],
    [
      'ASP.NET Identity v3 with 0 iterations',
      { algorithm: 'aspnet-identity', hash: { value: aspnetV3(0, randomBytes(32)) } },
      'malformed_hash',
    ],
    [
      'ASP.NET Identity v3 with a 4-byte subkey',
      { algorithm: 'aspnet-identity', hash: { value: aspnetV3(10000, randomBytes(4)) } },
      'malformed_hash',
    ],
    [
      'scrypt PHC whose digest decodes to 0 bytes',
      { algorithm: 'scrypt', hash: { value: '$scrypt$ln=10,r=8,p=1$c2FsdA$A' } },
      'malformed_hash',
    ],
    [
      'scrypt PHC with p=0',
      { algorithm: 'scrypt', hash: { value: `$scrypt$ln=10,r=8,p=0$c2FsdA$${b64nopad(randomBytes(32))}` } },
      'malformed_hash',
    ],
    ['raw scrypt "A"', { algorithm: 'scrypt', hash: { value: 'A' }, salt: { value: 'c2FsdA==', encoding: 'base64' } }, 'malformed_hash'],
    [
      'raw scrypt with a salt of 0 bytes',
      { algorithm: 'scrypt', hash: { value: b64(randomBytes(32)) }, salt: { value: 'A', encoding: 'base64' } },
      'malformed_hash',
    ],
    [
      'Firebase signer key that decodes to nothing',
      {
        algorithm: 'firebase-scrypt',
        hash: { value: 'A' },
        salt: { value: 'c2FsdA==', encoding: 'base64' },
        firebase: { signerKey: 'A', saltSeparator: 'Bw==', rounds: 8, memCost: 14 },
      },
      'malformed_hash',
    ],
    [
      'Firebase hash shorter than its signer key',
      {
        algorithm: 'firebase-scrypt',
        hash: { value: b64(randomBytes(16)) },
        salt: { value: 'c2FsdA==', encoding: 'base64' },
        firebase: { signerKey: b64(randomBytes(64)), saltSeparator: 'Bw==', rounds: 8, memCost: 14 },
      },
      'malformed_hash',
    ],
    [
      'argon2 whose hash is one character',
      { algorithm: 'argon2', hash: { value: '$argon2id$v=19$m=4096,t=3,p=1$c2FsdHNhbHQ$A' } },
      'malformed_hash',
    ],
    [
      'argon2 with a 4-byte salt',
      { algorithm: 'argon2', hash: { value: `$argon2id$v=19$m=4096,t=3,p=1$c2FsdA$${b64nopad(randomBytes(32))}` } },
      'malformed_hash',
    ],
    [
      'argon2 version 16',
      { algorithm: 'argon2', hash: { value: `$argon2id$v=16$m=4096,t=3,p=1$c2FsdHNhbHQ$${b64nopad(randomBytes(32))}` } },
      'unsupported_algorithm',
    ],
    [
      'hmac whose digest is 1 byte',
      { algorithm: 'hmac', hash: { value: 'aa', digest: 'sha256', key: { value: 'k3y' } } },
      'malformed_hash',
    ],
    [
      'hmac whose key decodes to 0 bytes',
      { algorithm: 'hmac', hash: { value: 'aa'.repeat(32), digest: 'sha256', key: { value: 'A', encoding: 'base64' } } },
      'malformed_hash',
    ],
    [
      'md5 whose salt decodes to 0 bytes',
      { algorithm: 'md5', hash: { value: 'aa'.repeat(16) }, salt: { value: 'A', encoding: 'base64' } },
      'malformed_hash',
    ],
    [
      'ASP.NET Membership whose salt decodes to 0 bytes',
      { algorithm: 'aspnet-membership-sha1', hash: { value: b64(randomBytes(20)) }, salt: { value: 'A' } },
      'malformed_hash',
    ],
  ]
  for (const [label, hash, code] of cases) {
    it(`refuses ${label} (${code})`, async () => {
      const record = { email: `${uniqueName()}@example.com`, custom_password_hash: hash }
      const result = await importUsers(connection, [record])
      expect(result.failures).toEqual([{ index: 0, email: record.email, code, message: expect.any(String) }])
      expect(await store.findUser(connection.name, { emailNormalized: record.email })).toBeNull()
    })
  }

  it('still imports the shortest digest each format allows (16 bytes of pbkdf2, an 8-byte argon2 salt)', async () => {
    const pw = 'Short-but-fine-42'
    const result = await importUsers(connection, [
      {
        email: 'pb16@example.com',
        custom_password_hash: {
          algorithm: 'pbkdf2',
          hash: { value: `$pbkdf2-sha256$i=1000$${b64nopad(salt16)}$${b64nopad(pbkdf2Sync(pw, salt16, 1000, 16, 'sha256'))}` },
        },
      },
      {
        email: 'v3@example.com',
        custom_password_hash: { algorithm: 'aspnet-identity', hash: { value: aspnetV3(1000, pbkdf2Sync(pw, salt16, 1000, 32, 'sha256')) } },
      },
    ])
    expect(result).toMatchObject({ imported: 2, failed: 0 })
    for (const email of ['pb16@example.com', 'v3@example.com']) {
      await expect(connection.login({ identifier: email, password: GUESS }, { ip: '192.0.2.1' })).rejects.toBeInstanceOf(
        WrongUsernameOrPasswordError,
      )
      await expect(connection.login({ identifier: email, password: pw }, { ip: '192.0.2.1' })).resolves.toMatchObject({ email })
    }
  })
})

describe('refused at import: records whose login would cost more than the caps allow', () => {
  let store: OpenedStore
  let connection: BuiltinConnection
  beforeAll(async () => {
    store = await openStore('sqlite::memory:')
    connection = new BuiltinConnection({ name: uniqueName('cap'), store, ...TEST_COST })
  })
  afterAll(async () => {
    await store.close()
  })

  const over: [string, ImportRecord['custom_password_hash'] | string][] = [
    [
      'pbkdf2 with a 3,000-byte output at 10 % of the iteration cap',
      { algorithm: 'pbkdf2', hash: { value: `$pbkdf2-sha256$i=60000$c2FsdA$${b64nopad(randomBytes(3000))}` } },
    ],
    [
      'pbkdf2-sha1 of 64 bytes (4 blocks) at 200,000 iterations',
      { algorithm: 'pbkdf2', hash: { value: `$pbkdf2-sha1$i=200000$c2FsdA$${b64nopad(randomBytes(64))}` } },
    ],
    [
      'scrypt with p=2 at the N·r cap',
      { algorithm: 'scrypt', hash: { value: `$scrypt$ln=16,r=8,p=2$c2FsdA$${b64nopad(randomBytes(32))}` } },
    ],
    [
      'raw scrypt with parallelization 16',
      {
        algorithm: 'scrypt',
        hash: { value: b64(randomBytes(32)) },
        salt: { value: 'c2FsdA==', encoding: 'base64' },
        cost: 2 ** 14,
        blockSize: 8,
        parallelization: 16,
      },
    ],
    [
      'scrypt of 1 GiB (N 2^20, r 8)',
      { algorithm: 'scrypt', hash: { value: `$scrypt$ln=20,r=8,p=1$c2FsdA$${b64nopad(randomBytes(32))}` } },
    ],
    [
      'argon2 of 256 MiB',
      { algorithm: 'argon2', hash: { value: `$argon2id$v=19$m=262144,t=1,p=1$c2FsdHNhbHQ$${b64nopad(randomBytes(32))}` } },
    ],
    [
      'argon2 of 64 MiB × t=3 (memory × time)',
      { algorithm: 'argon2', hash: { value: `$argon2id$v=19$m=65536,t=3,p=4$c2FsdHNhbHQ$${b64nopad(randomBytes(32))}` } },
    ],
    ['Drupal 7 at 2^20', { algorithm: 'drupal7', hash: { value: `$S$I${'abcdefgh'}${'A'.repeat(43)}` } }],
    [
      'firebase scrypt with memCost 17, rounds 8',
      {
        algorithm: 'firebase-scrypt',
        hash: { value: b64(randomBytes(64)) },
        salt: { value: 'c2FsdA==', encoding: 'base64' },
        firebase: { signerKey: b64(randomBytes(64)), saltSeparator: 'Bw==', rounds: 8, memCost: 17 },
      },
    ],
    ['bcrypt of cost 13', `$2b$13$${'a'.repeat(53)}`],
  ]
  for (const [label, hash] of over) {
    it(`refuses ${label} (over_cap)`, async () => {
      const email = `${uniqueName()}@example.com`
      const record = typeof hash === 'string' ? { email, password_hash: hash } : { email, custom_password_hash: hash }
      const result = await importUsers(connection, [record])
      expect(result.failures).toEqual([{ index: 0, email, code: 'over_cap', message: expect.any(String) }])
    })
  }

  it('takes the same records when the host raises the caps on purpose', async () => {
    const result = await importUsers(
      connection,
      [
        {
          email: 'big-scrypt@example.com',
          custom_password_hash: { algorithm: 'scrypt', hash: { value: `$scrypt$ln=16,r=8,p=2$c2FsdA$${b64nopad(randomBytes(32))}` } },
        },
        {
          email: 'big-argon@example.com',
          custom_password_hash: {
            algorithm: 'argon2',
            hash: { value: `$argon2id$v=19$m=65536,t=3,p=4$c2FsdHNhbHQ$${b64nopad(randomBytes(32))}` },
          },
        },
      ],
      { caps: { scryptNrp: 2 ** 20, argon2MemoryTimeKiB: 3 * 65536 } },
    )
    expect(result).toMatchObject({ imported: 2, failed: 0 })
  })
})

for (const dialect of DIALECTS) {
  describe(`legacy records stored before import checked them, on ${dialect}`, () => {
    let store: OpenedStore
    beforeAll(async () => {
      store = await openTestStore(dialect)
    })
    afterAll(async () => {
      await store.close()
    })

    /** A user written straight to the store, as an older version's import would have left it. */
    const plant = async (connection: BuiltinConnection, email: string, legacy: string) => {
      const at = new Date()
      const user: NewStoredUser = {
        connection: connection.name,
        user_id: uniqueName('u'),
        email,
        email_normalized: email,
        email_verified: false,
        username: null,
        password_hash: null,
        legacy_hash: legacy,
        name: null,
        given_name: null,
        family_name: null,
        nickname: null,
        picture: null,
        user_metadata: {},
        app_metadata: {},
        blocked: false,
        created_at: at,
        updated_at: at,
        origin: 'import',
      }
      expect((await store.insertUser(user)).ok).toBe(true)
    }

    it('refuses a zero-length comparison: a digest that decodes to nothing matches no password', async () => {
      const connection = new BuiltinConnection({ name: uniqueName('zero'), store, ...TEST_COST })
      const empties = [
        { format: 'pbkdf2', digest: 'sha256', iterations: 1000, salt: 'c2FsdA==', hash: '', passwordEncoding: 'utf8' },
        { format: 'scrypt', N: 1024, r: 8, p: 1, salt: 'c2FsdA==', hash: '', passwordEncoding: 'utf8' },
        { format: 'firebase-scrypt', hash: '', salt: 'c2FsdA==', saltSeparator: 'Bw==', rounds: 8, memCost: 10, signerKey: '' },
        { format: 'hmac', digest: 'sha256', key: 'a2V5', hash: '', passwordEncoding: 'utf8' },
      ]
      for (const [i, legacy] of empties.entries()) {
        const email = `empty${i}@example.com`
        await plant(connection, email, JSON.stringify(legacy))
        await expect(connection.login({ identifier: email, password: GUESS }, { ip: `192.0.2.${i + 1}` })).rejects.toBeInstanceOf(
          WrongUsernameOrPasswordError,
        )
        const stored = await store.findUser(connection.name, { emailNormalized: email })
        expect(stored?.password_hash).toBeNull() // nothing was "rehashed" from the guess
      }
    })

    it('counts a legacy hash that fails to verify as a wrong password, toward the brute-force block', async () => {
      const connection = new BuiltinConnection({
        name: uniqueName('broken'),
        store,
        ...TEST_COST,
        attackProtection: { bruteForce: { threshold: 2 } },
      })
      const broken = [
        JSON.stringify({ format: 'argon2', phc: '$argon2id$v=19$m=4096,t=3,p=1$c2FsdHNhbHQ$A' }), // hash-wasm throws on a 0-byte tag
        JSON.stringify({
          format: 'pbkdf2',
          digest: 'sha256',
          iterations: 0,
          salt: 'c2FsdA==',
          hash: b64(randomBytes(32)),
          passwordEncoding: 'utf8',
        }), // fails the schema
        JSON.stringify({ format: 'argon2', phc: '$argon2id$v=16$m=4096,t=3,p=1$c2FsdHNhbHQ$aGFzaGhhc2hoYXNoaGFzaA' }),
        'not json at all',
      ]
      for (const [i, legacy] of broken.entries()) {
        const email = `broken${i}@example.com`
        const ip = { ip: `192.0.2.${i + 10}` }
        await plant(connection, email, legacy)
        await expect(connection.login({ identifier: email, password: GUESS }, ip)).rejects.toBeInstanceOf(WrongUsernameOrPasswordError)
        await expect(connection.login({ identifier: email, password: GUESS }, ip)).rejects.toBeInstanceOf(WrongUsernameOrPasswordError)
        await expect(connection.login({ identifier: email, password: GUESS }, ip)).rejects.toBeInstanceOf(TooManyAttemptsError)
      }
    })
  })
}

describe('a wrong password on a cheaper bcrypt hash costs a compare at the configured cost', () => {
  it('tops a $2b$04$ hash up with compares at costs 4 … C−1, and a hash at the configured cost with none', async () => {
    const store = await openStore('sqlite::memory:')
    const connection = new BuiltinConnection({ name: uniqueName('diff'), store, ...TEST_COST, bcryptCost: 7 })
    await importUsers(connection, [
      { email: 'cheap@example.com', password_hash: bcrypt.hashSync('Right-horse-battery-1', 4) },
      { email: 'same@example.com', password_hash: bcrypt.hashSync('Right-horse-battery-1', 7) },
    ])
    const ip = { ip: '192.0.2.77' }
    await connection.login({ identifier: 'nobody@example.com', password: GUESS }, ip).catch(() => undefined) // warm the dummy hash
    const jobsOf = async (email: string) => {
      await connection.login({ identifier: email, password: GUESS }, ip).catch(() => undefined) // warm the dummy hashes of each cost
      const before = hashPoolStats().jobs
      await expect(connection.login({ identifier: email, password: GUESS }, ip)).rejects.toBeInstanceOf(WrongUsernameOrPasswordError)
      return hashPoolStats().jobs - before
    }
    expect(await jobsOf('cheap@example.com')).toBe(1 + 3) // its own compare, then costs 4, 5 and 6: 2^4 + 2^4 + 2^5 + 2^6 = 2^7
    expect(await jobsOf('same@example.com')).toBe(1)
    await store.close()
  })
})
