// Every public method of the built-in connection refuses bad input with a typed error,
// quickly, and writes nothing.
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { BuiltinConnection, closeHashPool, InvalidInputError, LatchkeyError } from '@latchkey/core'
import { openStore, type OpenedStore } from '@latchkey/adapters'
import { uniqueName } from './support/dialects.js'
import { TEST_COST } from './support/test-cost.js'

const TEN_MB = 'a'.repeat(10 * 1024 * 1024)
const BAD_STRINGS: [string, unknown][] = [
  ['a number', 42],
  ['null', null],
  ['an object', { toString: () => 'x' }],
  ['an empty string', ''],
  ['a 10 MB string', TEN_MB],
  ['a NUL byte', 'ab\u0000c@example.com'],
  ['a lone surrogate', 'ab\ud800c@example.com'],
]
const BAD_EMAILS = [
  'plainaddress',
  'two@@example.com',
  'no-domain@',
  '@no-local.com',
  'sp ace@example.com',
  'nodot@example',
  `${'x'.repeat(300)}@example.com`,
]

let store: OpenedStore
let connection: BuiltinConnection
let userId: string
const ctx = { ip: '192.0.2.1' }

beforeAll(async () => {
  store = await openStore('sqlite::memory:')
  connection = new BuiltinConnection({ name: uniqueName('bad'), store, ...TEST_COST })
  userId = (await connection.signup({ email: 'ok@example.com', password: 'pw-Tr0ub4dor-42' }, ctx)).user_id
})
afterAll(async () => {
  await store.close()
  await closeHashPool()
})

async function expectInvalid(call: () => Promise<unknown>) {
  const started = Date.now()
  const error = await call().then(
    () => null,
    (e: unknown) => e,
  )
  expect(error).toBeInstanceOf(InvalidInputError)
  const invalid = error as InvalidInputError
  expect(invalid.code).toBe('invalid_input')
  expect(invalid.issues.length).toBeGreaterThan(0)
  for (const issue of invalid.issues)
    expect(issue).toEqual({ path: expect.any(Array), code: expect.any(String), message: expect.any(String) })
  // The message never echoes the input (it may be a password).
  expect(invalid.message.length).toBeLessThan(500)
  expect(Date.now() - started).toBeLessThan(2000)
}

describe('bad strings in every string parameter', () => {
  const calls: [string, (bad: never) => Promise<unknown>][] = [
    ['signup.email', (bad) => connection.signup({ email: bad, password: 'pw' }, ctx)],
    ['signup.password', (bad) => connection.signup({ email: 'new@example.com', password: bad }, ctx)],
    ['signup.username', (bad) => connection.signup({ email: 'new@example.com', password: 'pw', username: bad }, ctx)],
    ['login.identifier', (bad) => connection.login({ identifier: bad, password: 'pw' }, ctx)],
    ['login.password', (bad) => connection.login({ identifier: 'ok@example.com', password: bad }, ctx)],
    ['ctx.ip', (bad) => connection.login({ identifier: 'ok@example.com', password: 'pw' }, { ip: bad })],
    ['getUser', (bad) => connection.getUser(bad)],
    ['getUserById', (bad) => connection.getUserById(bad)],
    ['updateUser.userId', (bad) => connection.updateUser(bad, { name: 'x' })],
    ['updateUser.name', (bad) => connection.updateUser(userId, { name: bad })],
    ['changePassword.identifier', (bad) => connection.changePassword(bad, 'pw2', ctx)],
    ['changePassword.password', (bad) => connection.changePassword('ok@example.com', bad, ctx)],
    ['verifyEmail', (bad) => connection.verifyEmail(bad)],
    ['changeEmail.email', (bad) => connection.changeEmail(bad, 'z@example.com')],
    ['changeEmail.newEmail', (bad) => connection.changeEmail('ok@example.com', bad)],
    ['deleteUser', (bad) => connection.deleteUser(bad)],
    ['createPasswordResetTicket', (bad) => connection.createPasswordResetTicket(bad)],
    ['resetPassword.ticket', (bad) => connection.resetPassword(bad, 'pw2')],
    ['resetPassword.password', (bad) => connection.resetPassword('t'.repeat(43), bad)],
    ['createEmailVerificationTicket', (bad) => connection.createEmailVerificationTicket(bad)],
    ['verifyEmailWithTicket', (bad) => connection.verifyEmailWithTicket(bad)],
  ]
  for (const [method, call] of calls) {
    for (const [label, bad] of BAD_STRINGS) {
      // In a profile patch, null is not bad input: it clears the field (tested below).
      if (method === 'updateUser.name' && bad === null) continue
      it(`${method} with ${label}`, () => expectInvalid(() => call(bad as never)))
    }
  }
})

describe('malformed emails', () => {
  for (const email of BAD_EMAILS) {
    it(`signup refuses ${JSON.stringify(email.slice(0, 30))}`, () => expectInvalid(() => connection.signup({ email, password: 'pw' }, ctx)))
    it(`changeEmail refuses ${JSON.stringify(email.slice(0, 30))}`, () =>
      expectInvalid(() => connection.changeEmail('ok@example.com', email)))
  }
})

describe('unknown fields and wrong shapes', () => {
  it('signup with an unknown field', () =>
    expectInvalid(() => connection.signup({ email: 'n@example.com', password: 'pw', role: 'admin' } as never, ctx)))
  it('signup with app_metadata', () =>
    expectInvalid(() => connection.signup({ email: 'n@example.com', password: 'pw', app_metadata: {} } as never, ctx)))
  it('signup with a non-object input', () => expectInvalid(() => connection.signup('ok@example.com' as never, ctx)))
  it('login with an unknown field', () =>
    expectInvalid(() => connection.login({ identifier: 'ok@example.com', password: 'pw', remember: true } as never, ctx)))
  it('ctx with an unknown field', () =>
    expectInvalid(() => connection.login({ identifier: 'ok@example.com', password: 'pw' }, { ip: '1.2.3.4', admin: true } as never)))
  it('updateUser with an unknown field', () => expectInvalid(() => connection.updateUser(userId, { password_hash: 'x' } as never)))
  it('updateUser with a non-boolean blocked', () => expectInvalid(() => connection.updateUser(userId, { blocked: 'yes' } as never)))
  it('user_metadata that is an array', () =>
    expectInvalid(() => connection.signup({ email: 'n@example.com', password: 'pw', user_metadata: [] as never }, ctx)))
  it('user_metadata that is a class instance', () =>
    expectInvalid(() => connection.signup({ email: 'n@example.com', password: 'pw', user_metadata: new Date() as never }, ctx)))
  it('user_metadata over 16 KB', () =>
    expectInvalid(() => connection.signup({ email: 'n@example.com', password: 'pw', user_metadata: { big: 'x'.repeat(20_000) } }, ctx)))
  it('user_metadata with a cycle', () => {
    const cyclic: Record<string, unknown> = {}
    cyclic['self'] = cyclic
    return expectInvalid(() => connection.signup({ email: 'n@example.com', password: 'pw', user_metadata: cyclic }, ctx))
  })
  it('a ticket ttl that is not a positive integer', () =>
    expectInvalid(() => connection.createPasswordResetTicket('ok@example.com', { ttlSeconds: -1 })))
  it('changeEmail options with an unknown field', () =>
    expectInvalid(() => connection.changeEmail('ok@example.com', 'z@example.com', { force: true } as never)))
  it('usernames with forbidden characters, or an email as username', async () => {
    for (const username of ['has space', 'ünïcode', 'semi;colon', 'a@b.co', 'x'.repeat(16)]) {
      await expectInvalid(() => connection.signup({ email: `${uniqueName()}@example.com`, password: 'pw', username }, ctx))
    }
  })
})

describe('null in a profile patch', () => {
  it('clears the field', async () => {
    await connection.updateUser(userId, { name: 'Someone' })
    const cleared = await connection.updateUser(userId, { name: null })
    expect(cleared).not.toHaveProperty('name')
  })
})

describe('metadata cannot pollute prototypes', () => {
  it('refuses __proto__ in metadata, naming the key, and stores nothing (issue 12)', async () => {
    const meta = JSON.parse('{"__proto__": {"polluted": true}, "ok": 1}') as Record<string, unknown>
    const error = await connection
      .signup({ email: 'proto@example.com', password: 'pw-Tr0ub4dor-42', user_metadata: meta }, ctx)
      .catch((e: unknown) => e)
    expect(error).toBeInstanceOf(InvalidInputError)
    expect((error as InvalidInputError).issues[0]!.path).toEqual(['user_metadata', '__proto__'])
    expect(({} as Record<string, unknown>)['polluted']).toBeUndefined()
  })
})

describe('nothing is half-written', () => {
  it('leaves exactly the users that were validly created', async () => {
    const rows = await store.db.selectFrom('latchkey_users').select(['email']).where('connection', '=', connection.name).execute()
    expect(rows.map((r) => r.email).sort()).toEqual(['ok@example.com'])
  })
})

describe('usage errors are typed too', () => {
  it('refuses bad connection options', () => {
    expect(() => new BuiltinConnection({ name: '', store })).toThrow(LatchkeyError)
    expect(() => new BuiltinConnection({ name: 'x', store, bcryptCost: 3 })).toThrow(InvalidInputError)
    expect(() => new BuiltinConnection({ name: 'x', store, bcryptCost: 9 })).toThrow(/bcryptCost.*unsafeLowCostForTests/)
    expect(() => new BuiltinConnection({ name: 'x', store: {} as never })).toThrow(InvalidInputError)
    expect(() => new BuiltinConnection({ name: 'x', store, passwordPolicy: { level: 'great' as never } })).toThrow(InvalidInputError)
  })
  it('refuses an unknown store URL', async () => {
    await expect(openStore('oracle://db')).rejects.toBeInstanceOf(InvalidInputError)
  })
})
