// Property-based fuzzing of every public method of the built-in connection: whatever the
// input, a call either succeeds or fails with a typed LatchkeyError, and the store stays
// consistent with what succeeded.
import fc from 'fast-check'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { BuiltinConnection, closeHashPool, LatchkeyError } from '@latchkey/core'
import { normalizeEmail } from '@latchkey/core/internal'
import { openStore, type OpenedStore } from '@latchkey/adapters'
import { uniqueName } from './support/dialects.js'
import { TEST_COST } from './support/test-cost.js'

let store: OpenedStore
beforeAll(async () => {
  store = await openStore('sqlite::memory:')
})
afterAll(async () => {
  await store.close()
  await closeHashPool()
})

const EMAILS = ['a@example.com', 'A@Example.com ', 'b@example.com', 'josé@example.com', 'jose@example.com']
const ticketsIssued: string[] = []
const userIds: string[] = []

const text = fc.oneof(
  fc.string({ maxLength: 20 }),
  fc.string({ unit: 'binary', maxLength: 20 }),
  fc.string({ unit: 'grapheme', maxLength: 40 }),
  fc.constantFrom('', '\u0000', '\ud800', 'ﬁ', 'é'.repeat(40), 'x'.repeat(2000)),
)
const email = fc.oneof(fc.constantFrom(...EMAILS), text)
const password = fc.oneof(fc.constantFrom('pw', 'Pw1!pw1!pw1!', 'password'), text)
const anything = fc.oneof(fc.anything(), text)
const ticket = fc.oneof(fc.constant(null), text)
const userId = fc.oneof(fc.constant(null), text)
const metadata = fc.oneof(fc.constant(undefined), fc.dictionary(fc.string({ maxLength: 8 }), fc.jsonValue({ maxDepth: 2 })), anything)

type Op = (c: BuiltinConnection) => Promise<unknown>
const pickTicket = (t: string | null) => t ?? ticketsIssued.at(-1) ?? 'none'
const pickUser = (u: string | null) => u ?? userIds.at(-1) ?? 'none'
const ctx = { ip: '192.0.2.30' }

// How many calls succeeded, per method: the fuzz must reach the success paths too.
const successes = new Map<string, number>()

const validSignup = fc.record({ e: fc.constantFrom(...EMAILS), p: fc.constantFrom('Pw1!pw1!pw1!', 'another-one') }).map(
  ({ e, p }) =>
    [
      'signup(valid)',
      async (c) => {
        userIds.push((await c.signup({ email: e, password: p }, ctx)).user_id)
      },
    ] as [string, Op],
)
const validLogin = fc
  .record({ e: fc.constantFrom(...EMAILS), p: fc.constantFrom('Pw1!pw1!pw1!', 'another-one') })
  .map(({ e, p }) => ['login(valid)', (c) => c.login({ identifier: e, password: p }, ctx)] as [string, Op])

const validChangeEmail = fc
  .record({ a: fc.constantFrom(...EMAILS), b: fc.constantFrom(...EMAILS) })
  .map(({ a, b }) => ['changeEmail(valid)', (c) => c.changeEmail(a, b)] as [string, Op])

const op: fc.Arbitrary<[string, Op]> = fc.oneof(
  { arbitrary: validSignup, weight: 4 },
  { arbitrary: validLogin, weight: 4 },
  { arbitrary: validChangeEmail, weight: 2 },
  fc.record({ e: email, p: password, u: fc.option(text, { freq: 1 }), m: metadata }).map(
    ({ e, p, u, m }) =>
      [
        'signup',
        async (c) => {
          const profile = await c.signup(
            { email: e, password: p, ...(u === null ? {} : { username: u }), ...(m === undefined ? {} : { user_metadata: m as never }) },
            ctx,
          )
          userIds.push(profile.user_id)
        },
      ] as [string, Op],
  ),
  fc.record({ i: email, p: password }).map(({ i, p }) => ['login', (c) => c.login({ identifier: i, password: p }, ctx)] as [string, Op]),
  anything.map((x) => ['login(any)', (c) => c.login(x as never, ctx)] as [string, Op]),
  anything.map((x) => ['signup(any)', (c) => c.signup(x as never, x as never)] as [string, Op]),
  email.map((i) => ['getUser', (c) => c.getUser(i)] as [string, Op]),
  userId.map((u) => ['getUserById', (c) => c.getUserById(pickUser(u))] as [string, Op]),
  fc
    .record({ u: userId, patch: fc.option(anything, { freq: 1 }), blocked: fc.boolean(), m: metadata })
    .map(
      ({ u, patch, blocked, m }) =>
        [
          'updateUser',
          (c) =>
            c.updateUser(
              pickUser(u),
              patch !== null ? (patch as never) : { blocked, ...(m === undefined ? {} : { app_metadata: m as never }) },
            ),
        ] as [string, Op],
    ),
  fc.record({ i: email, p: password }).map(({ i, p }) => ['changePassword', (c) => c.changePassword(i, p, ctx)] as [string, Op]),
  email.map((e) => ['verifyEmail', (c) => c.verifyEmail(e)] as [string, Op]),
  fc
    .record({ a: email, b: email, v: fc.oneof(fc.constant(undefined), anything) })
    .map(({ a, b, v }) => ['changeEmail', (c) => c.changeEmail(a, b, v as never)] as [string, Op]),
  userId.map(
    (u) =>
      [
        'deleteUser',
        async (c) => {
          await c.deleteUser(pickUser(u))
        },
      ] as [string, Op],
  ),
  fc.record({ e: email, ttl: fc.oneof(fc.constant(undefined), fc.integer(), anything) }).map(
    ({ e, ttl }) =>
      [
        'createPasswordResetTicket',
        async (c) => {
          const t = await c.createPasswordResetTicket(e, ttl === undefined ? undefined : { ttlSeconds: ttl as never })
          if (t) ticketsIssued.push(t.ticket)
        },
      ] as [string, Op],
  ),
  fc.record({ t: ticket, p: password }).map(({ t, p }) => ['resetPassword', (c) => c.resetPassword(pickTicket(t), p, ctx)] as [string, Op]),
  email.map(
    (e) =>
      [
        'createEmailVerificationTicket',
        async (c) => {
          const t = await c.createEmailVerificationTicket(e)
          if (t) ticketsIssued.push(t.ticket)
        },
      ] as [string, Op],
  ),
  ticket.map((t) => ['verifyEmailWithTicket', (c) => c.verifyEmailWithTicket(pickTicket(t), ctx)] as [string, Op]),
)

describe('fuzzing the built-in connection', () => {
  it('fails only with typed errors and leaves the store consistent', async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(op, { minLength: 1, maxLength: 16 }), async (ops) => {
        userIds.length = 0
        ticketsIssued.length = 0
        const connection = new BuiltinConnection({
          name: uniqueName('fz'),
          store,
          ...TEST_COST,
          passwordPolicy: { level: 'low', history: 2, dictionary: true, noPersonalInfo: true },
        })
        for (const [name, run] of ops) {
          try {
            await run(connection)
            successes.set(name, (successes.get(name) ?? 0) + 1)
          } catch (error) {
            if (!(error instanceof LatchkeyError)) throw new Error(`${name} threw a non-Latchkey error: ${String(error)}`, { cause: error })
            expect(error.code).toMatch(/^[a-z_]+$/)
          }
        }
        await expectConsistent(connection.name)
      }),
      { numRuns: 200 },
    )
    for (const method of ['signup(valid)', 'login(valid)', 'getUser', 'updateUser', 'changeEmail(valid)', 'createPasswordResetTicket']) {
      expect(successes.get(method) ?? 0, `${method} never succeeded`).toBeGreaterThan(0)
    }
  })
})

async function expectConsistent(connection: string): Promise<void> {
  const users = await store.db.selectFrom('latchkey_users').selectAll().where('connection', '=', connection).execute()
  const emails = new Set<string>()
  for (const u of users) {
    expect(u.email_normalized).toBe(normalizeEmail(u.email!))
    expect(emails.has(u.email_normalized!)).toBe(false)
    emails.add(u.email_normalized!)
    expect(u.password_hash).toMatch(/^\$2b\$04\$/)
    if (u.username !== null) expect(u.username).toBe(u.username.toLowerCase())
    expect(Object.getPrototypeOf(JSON.parse(u.user_metadata))).toBe(Object.prototype)
    expect(Object.getPrototypeOf(JSON.parse(u.app_metadata))).toBe(Object.prototype)
  }
  // Password history never outlives its user nor grows past the policy.
  const history = await store.db.selectFrom('latchkey_password_history').select(['user_id']).where('connection', '=', connection).execute()
  const ids = new Set(users.map((u) => u.user_id))
  for (const h of history) expect(ids.has(h.user_id)).toBe(true)
  for (const id of ids) expect(history.filter((h) => h.user_id === id).length).toBeLessThanOrEqual(2)
  expect(({} as Record<string, unknown>)['polluted']).toBeUndefined()
}
