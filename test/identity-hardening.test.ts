// Identity logic under attack, on every dialect in DIALECTS: look-alike emails, tickets that
// name the address they belong to, an issuance limit that holds under races, tickets that
// die with the credential, import upserts that name one user, no raw deadlocks, allow-list
// entries that must not silently widen, and unblock under either identifier of a user.
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import bcrypt from 'bcryptjs'
import { QuickJsRunner } from '@latchkey/sandbox'
import {
  BuiltinConnection,
  closeHashPool,
  CustomScriptConnection,
  importUsers,
  InvalidInputError,
  InvalidTicketError,
  TooManyAttemptsError,
  WrongUsernameOrPasswordError,
  type BuiltinConnectionOptions,
  type IssuedTicket,
} from '@latchkey/core'
import { normalizeEmail } from '@latchkey/core/internal'
import { openStore, type OpenedStore } from '@latchkey/adapters'
import { DIALECTS, openTestStore, storeUrl, uniqueName } from './support/dialects.js'
import { withTestStore } from './support/test-store.js'
import { legacyInGlobal } from './support/legacy-in-global.js'
import { race } from './support/race.js'
import { TEST_COST } from './support/test-cost.js'

const PASSWORD = 'Tr0ub4dor-horse-42'
const KELVIN = '\u212A' // lower-cases to ASCII 'k'
const outcome = (p: Promise<unknown>) =>
  p.then(
    () => 'ok',
    (e: unknown) => (e as { code?: string }).code ?? String(e),
  )

afterAll(async () => {
  await closeHashPool()
})

describe('email normalisation never turns non-ASCII into ASCII', () => {
  it('keeps the Kelvin sign and the dotted capital I, lower-cases the rest', () => {
    expect(normalizeEmail(`${KELVIN}ate@x.io`)).toBe(`${KELVIN}ate@x.io`)
    expect(normalizeEmail(`${KELVIN}ate@x.io`)).not.toBe('kate@x.io')
    expect(normalizeEmail('\u0130zmir@x.io')).toBe('\u0130zmir@x.io')
    expect(normalizeEmail('  Kate@X.IO ')).toBe('kate@x.io')
    expect(normalizeEmail('JOSÉ@Example.COM')).toBe('josé@example.com')
    expect(normalizeEmail('ÅSA@x.io')).toBe('åsa@x.io')
  })
})

describe('allow-list entries are parsed strictly', () => {
  let store: OpenedStore
  beforeAll(async () => {
    store = await openStore('sqlite::memory:')
  })
  afterAll(async () => {
    await store.close()
  })
  const connect = (allowList: string[]) =>
    new BuiltinConnection({ name: uniqueName('al'), store, ...TEST_COST, attackProtection: { allowList } })
  for (const entry of [
    '10.0.0.0/',
    '2001:db8::/',
    '10.0.0.0/33',
    '2001:db8::/129',
    '/8',
    '10.0.0.0/8/8',
    '10/8',
    '10.0.0.0 /8',
    '10.0.0.0/-1',
    'example.com',
    '10.0.0.0/0x8',
  ]) {
    it(`refuses ${JSON.stringify(entry)} with InvalidInputError`, () => {
      const error = (() => {
        try {
          connect([entry])
        } catch (e) {
          return e
        }
      })()
      expect(error).toBeInstanceOf(InvalidInputError)
      expect((error as InvalidInputError).issues[0]!.path).toEqual(['attackProtection', 'allowList', 0])
    })
  }
})

for (const dialect of DIALECTS) {
  describe(`identity hardening on ${dialect}`, () => {
    let store: OpenedStore
    withTestStore(dialect, (s) => (store = s))
    const connect = (opts: Partial<BuiltinConnectionOptions> = {}) =>
      new BuiltinConnection({ name: uniqueName('ih'), store, ...TEST_COST, ...opts })

    it("a reset ticket asked for with the Kelvin spelling is not kate's, and every ticket names its stored address", async () => {
      const c = connect()
      await c.signup({ email: 'Kate@x.io', password: PASSWORD }, { ip: '192.0.2.1' })
      expect(await c.createPasswordResetTicket(`${KELVIN}ate@x.io`)).toBeNull()
      expect(await c.createEmailVerificationTicket(`${KELVIN}ATE@x.io`)).toBeNull()
      const reset = await c.createPasswordResetTicket('  KATE@X.io ')
      expect(reset).toMatchObject({ email: 'Kate@x.io' })
      expect(await c.createEmailVerificationTicket('kate@x.io')).toMatchObject({ email: 'Kate@x.io' })
    })

    it('signing up the Kelvin spelling does not squat the ASCII address, nor log in as it', async () => {
      const c = connect()
      const lookalike = await c.signup({ email: `${KELVIN}im@x.io`, password: PASSWORD }, { ip: '192.0.2.2' })
      const kim = await c.signup({ email: 'kim@x.io', password: 'An0ther-horse-77' }, { ip: '192.0.2.2' })
      expect(kim.user_id).not.toBe(lookalike.user_id)
      await expect(c.login({ identifier: `${KELVIN}im@x.io`, password: 'An0ther-horse-77' }, { ip: '192.0.2.2' })).rejects.toBeInstanceOf(
        WrongUsernameOrPasswordError,
      )
      expect((await c.getUser(`${KELVIN}IM@x.io`))?.user_id).toBe(lookalike.user_id)
    })

    it('an allow-listed range exempts its addresses, mapped IPv4 included, and nothing else', async () => {
      const c = connect({
        attackProtection: { allowList: ['10.0.0.0/8', '2001:db8::/32', '::ffff:192.0.2.0/120'], bruteForce: { threshold: 1 } },
      })
      await c.signup({ email: 'al@x.io', password: PASSWORD }, { ip: '198.51.100.1' })
      const twice = async (ip: string) => {
        await outcome(c.login({ identifier: 'al@x.io', password: 'Wrong-guess-at-all-9' }, { ip }))
        return outcome(c.login({ identifier: 'al@x.io', password: 'Wrong-guess-at-all-9' }, { ip }))
      }
      expect(await twice('10.200.3.4')).toBe('invalid_user_password')
      expect(await twice('::ffff:10.9.9.9')).toBe('invalid_user_password')
      expect(await twice('2001:db8:ffff::1')).toBe('invalid_user_password')
      expect(await twice('192.0.2.77')).toBe('invalid_user_password')
      expect(await twice('11.0.0.1')).toBe('too_many_attempts')
      expect(await twice('2001:db9::1')).toBe('too_many_attempts')
    })

    it('unblock lifts every block of the user, whichever identifier is given', async () => {
      const c = connect({ attackProtection: { bruteForce: { threshold: 2, accountLockout: 3 } } })
      await c.signup({ email: 'Kate@x.io', username: 'kate', password: PASSWORD }, { ip: '192.0.2.9' })
      const A = { ip: '198.51.100.7' }
      const B = { ip: '198.51.100.8' }
      const wrong = (identifier: string, ctx: { ip: string }) => outcome(c.login({ identifier, password: 'Wrong-guess-at-all-9' }, ctx))
      for (const ctx of [A, A]) await wrong('kate', ctx)
      for (const ctx of [A, A, B]) await wrong('kate@x.io', ctx)
      await expect(c.login({ identifier: 'kate', password: PASSWORD }, A)).rejects.toBeInstanceOf(TooManyAttemptsError)
      await expect(c.login({ identifier: 'Kate@x.io', password: PASSWORD }, B)).rejects.toBeInstanceOf(TooManyAttemptsError)
      await c.unblock('KATE@x.io')
      await expect(c.login({ identifier: 'kate', password: PASSWORD }, A)).resolves.toMatchObject({ username: 'kate' })
      await expect(c.login({ identifier: 'kate@x.io', password: PASSWORD }, B)).resolves.toMatchObject({ username: 'kate' })
      for (const ctx of [A, A]) await wrong('kate@x.io', ctx)
      await expect(c.login({ identifier: 'kate@x.io', password: PASSWORD }, A)).rejects.toBeInstanceOf(TooManyAttemptsError)
      await c.unblock('Kate') // by username, the email's block lifts too
      await expect(c.login({ identifier: 'kate@x.io', password: PASSWORD }, A)).resolves.toMatchObject({ username: 'kate' })
    })

    it('issues at most the hourly limit of tickets to 20 concurrent requests for one email', async () => {
      const c = connect()
      await c.signup({ email: 'bomb@x.io', password: PASSWORD }, { ip: '192.0.2.30' })
      const issued = await Promise.all(Array.from({ length: 20 }, () => c.createPasswordResetTicket('bomb@x.io')))
      expect(issued.filter(Boolean)).toHaveLength(5)
      const stored = await store.db.selectFrom('latchkey_tickets').select('token_hash').where('connection', '=', c.name).execute()
      expect(stored).toHaveLength(5)
    })

    it('issues at most the hourly limit across processes', async () => {
      const name = uniqueName('ihp')
      const url = storeUrl(dialect) // one database all the processes share (a fresh file on SQLite)
      const shared = await openStore(url)
      await new BuiltinConnection({ name, store: shared, ...TEST_COST }).signup(
        { email: 'bomb@x.io', password: PASSWORD },
        { ip: '192.0.2.31' },
      )
      const outcomes = (
        await race([1, 2, 3].map(() => ({ url, name, bcryptCost: 4, op: 'resetTicket' as const, email: 'bomb@x.io', times: 7 })))
      ).flat()
      expect(outcomes.filter((o) => o === 'ok')).toHaveLength(5)
      expect(outcomes.filter((o) => o === 'null')).toHaveLength(16)
      await shared.close()
    })

    it('a verification ticket stays void after an email round trip A → B → A', async () => {
      const c = connect()
      await c.signup({ email: 'a@x.io', password: PASSWORD }, { ip: '192.0.2.32' })
      const verify = await c.createEmailVerificationTicket('a@x.io')
      const reset = await c.createPasswordResetTicket('a@x.io')
      await c.changeEmail('a@x.io', 'b@x.io')
      await c.changeEmail('b@x.io', 'a@x.io')
      await expect(c.verifyEmailWithTicket(verify!.ticket)).rejects.toBeInstanceOf(InvalidTicketError)
      await expect(c.resetPassword(reset!.ticket, 'N3w-horse-battery-8')).rejects.toBeInstanceOf(InvalidTicketError)
    })

    it("an upsert import that replaces the password voids open tickets; a deleted user's tickets do not come back with a re-import", async () => {
      const c = connect()
      await importUsers(c, [{ user_id: 'imp-1', email: 'imp@x.io', password_hash: bcrypt.hashSync(PASSWORD, 4) }])
      const reset = await c.createPasswordResetTicket('imp@x.io')
      const verify = await c.createEmailVerificationTicket('imp@x.io')
      expect(
        await importUsers(c, [{ user_id: 'imp-1', email: 'imp@x.io', password_hash: bcrypt.hashSync('Repl4ced-horse-99', 4) }], {
          upsert: true,
        }),
      ).toMatchObject({ updated: 1 })
      await expect(c.resetPassword(reset!.ticket, 'N3w-horse-battery-8')).rejects.toBeInstanceOf(InvalidTicketError)
      await expect(c.verifyEmailWithTicket(verify!.ticket)).rejects.toBeInstanceOf(InvalidTicketError)
      const again = await c.createPasswordResetTicket('imp@x.io')
      await c.deleteUser('imp-1')
      expect(await importUsers(c, [{ user_id: 'imp-1', email: 'imp@x.io', password_hash: bcrypt.hashSync(PASSWORD, 4) }])).toMatchObject({
        imported: 1,
      })
      await expect(c.resetPassword(again!.ticket, 'N3w-horse-battery-8')).rejects.toBeInstanceOf(InvalidTicketError)
    })

    it("an upsert record with one user's user_id and another's email overwrites neither", async () => {
      const c = connect()
      await importUsers(c, [
        { user_id: 'x', email: 'x@x.io', password_hash: bcrypt.hashSync('Xs-own-password-11', 4) },
        { user_id: 'y', email: 'y@x.io', password_hash: bcrypt.hashSync('Ys-own-password-22', 4) },
      ])
      const result = await importUsers(c, [{ user_id: 'x', email: 'y@x.io', password_hash: bcrypt.hashSync('Attacker-chosen-33', 4) }], {
        upsert: true,
      })
      expect(result).toMatchObject({ imported: 0, updated: 0, failed: 1, failures: [{ code: 'user_exists' }] })
      const ip = { ip: '192.0.2.33' }
      await expect(c.login({ identifier: 'y@x.io', password: 'Ys-own-password-22' }, ip)).resolves.toMatchObject({ user_id: 'y' })
      await expect(c.login({ identifier: 'x@x.io', password: 'Xs-own-password-11' }, ip)).resolves.toMatchObject({ user_id: 'x' })
    })

    it('two reset redemptions racing an admin password change end typed, never in a raw deadlock', async () => {
      const c = connect({ tickets: { perEmailPerHour: 1000 } }) // the issuance limit is not under test here
      await c.signup({ email: 'dl@x.io', password: PASSWORD }, { ip: '192.0.2.34' })
      for (let round = 0; round < 8; round++) {
        const t1 = await c.createPasswordResetTicket('dl@x.io')
        const t2 = await c.createPasswordResetTicket('dl@x.io')
        const outcomes = await Promise.all([
          outcome(c.resetPassword(t1!.ticket, `R3set-one-horse-${round}`)),
          outcome(c.resetPassword(t2!.ticket, `R3set-two-horse-${round}`)),
          outcome(c.changePassword('dl@x.io', `Adm1n-set-horse-${round}`)),
        ])
        for (const o of outcomes) expect(['ok', 'invalid_ticket', 'store_unavailable']).toContain(o)
        expect(outcomes[2]).not.toBe('invalid_ticket')
      }
    })

    it("in deliver mode, answers null at once and issues after, off the caller's path", async () => {
      const c = connect()
      await c.signup({ email: 'Deliver@x.io', password: PASSWORD }, { ip: '192.0.2.35' })
      const delivered: IssuedTicket[] = []
      let resolve: () => void = () => undefined
      const arrived = new Promise<void>((r) => {
        resolve = r
      })
      const deliver = (t: IssuedTicket) => {
        delivered.push(t)
        resolve()
      }
      expect(await c.createPasswordResetTicket('DELIVER@x.io', { deliver })).toBeNull()
      expect(delivered).toEqual([]) // the answer came before the lookup
      await arrived
      expect(delivered).toMatchObject([{ email: 'Deliver@x.io', ticket: expect.any(String) }])
      await expect(c.resetPassword(delivered[0]!.ticket, 'N3w-horse-battery-8')).resolves.toMatchObject({ email: 'Deliver@x.io' })
      expect(
        await c.createEmailVerificationTicket('nobody@x.io', {
          deliver: () => {
            throw new Error('never called for an unknown email')
          },
        }),
      ).toBeNull()
      await expect(c.createPasswordResetTicket('not an email', { deliver })).rejects.toBeInstanceOf(InvalidInputError)
      await new Promise((r) => setTimeout(r, 200))
      expect(delivered).toHaveLength(1)
    })
  })
}

describe('unblock on a custom-script connection with get_user', () => {
  it("lifts the blocks of the user's other identifier too", async () => {
    const store = await openTestStore('sqlite')
    const runner = new QuickJsRunner({ timeoutMs: 5000 })
    const kate = "{ user_id: 'u1', email: 'kate@x.io', username: 'kate' }"
    const c = new CustomScriptConnection({
      name: uniqueName('csub'),
      runner,
      store,
      attackProtection: { bruteForce: { threshold: 2 } },
      scripts: {
        login: `function login(id, password, cb) { cb(null, password === '${PASSWORD}' && (id === 'kate' || id === 'kate@x.io') ? ${kate} : null) }`,
        get_user: `function get_user(id, cb) { var k = id.toLowerCase(); cb(null, k === 'kate' || k === 'kate@x.io' ? ${kate} : null) }`,
      },
    })
    const A = { ip: '198.51.100.70' }
    for (let i = 0; i < 2; i++) await outcome(c.login({ identifier: 'kate', password: 'Wrong-guess-at-all-9' }, A))
    await expect(c.login({ identifier: 'kate', password: PASSWORD }, A)).rejects.toBeInstanceOf(TooManyAttemptsError)
    await c.unblock('KATE@x.io')
    await expect(c.login({ identifier: 'kate', password: PASSWORD }, A)).resolves.toMatchObject({ user_id: 'u1' })
    await runner.close()
    await store.close()
  })
})

describe('ticket lifetime on a custom-script connection with a store', () => {
  it('a script-side password change, email change or deletion voids the tickets, so none comes back', async () => {
    const store = await openTestStore('sqlite')
    const runner = new QuickJsRunner({ timeoutMs: 5000 })
    const c = new CustomScriptConnection({
      name: uniqueName('cstl'),
      runner,
      store,
      scripts: {
        ...legacyInGlobal,
        verify: 'function verify(email, cb) { cb(null, !!(global.users || {})[email]) }',
        change_email: `function change_email(email, newEmail, verified, cb) {
          var users = global.users || {}; var u = users[email];
          if (!u) return cb(null, false);
          delete users[email]; users[newEmail] = u; cb(null, true);
        }`,
        delete: `function remove(id, cb) {
          var users = global.users || {};
          Object.keys(users).forEach(function (e) { if (users[e].id === id) delete users[e] });
          cb(null);
        }`,
      },
    })
    const ctx = { ip: '198.51.100.80' }
    const user = await c.signup({ email: 'a@x.io', password: PASSWORD }, ctx)
    const verify = await c.createEmailVerificationTicket('a@x.io')
    const reset = await c.createPasswordResetTicket('a@x.io')
    await c.changeEmail('a@x.io', 'b@x.io')
    await c.changeEmail('b@x.io', 'a@x.io') // A → B → A
    await expect(c.verifyEmailWithTicket(verify!.ticket, ctx)).rejects.toBeInstanceOf(InvalidTicketError)
    await expect(c.resetPassword(reset!.ticket, 'N3w-horse-battery-8', ctx)).rejects.toBeInstanceOf(InvalidTicketError)

    const beforeChange = await c.createPasswordResetTicket('a@x.io')
    await c.changePassword('a@x.io', 'Adm1n-set-horse-7', ctx)
    await expect(c.resetPassword(beforeChange!.ticket, 'N3w-horse-battery-8', ctx)).rejects.toBeInstanceOf(InvalidTicketError)

    const [first, second] = [await c.createPasswordResetTicket('a@x.io'), await c.createEmailVerificationTicket('a@x.io')]
    await expect(c.resetPassword(first!.ticket, 'N3w-horse-battery-8', ctx)).resolves.toMatchObject({ user_id: user.user_id })
    await expect(c.verifyEmailWithTicket(second!.ticket, ctx)).rejects.toBeInstanceOf(InvalidTicketError) // died with the old password

    const beforeDelete = await c.createPasswordResetTicket('a@x.io')
    await c.deleteUser(user.user_id)
    const again = await c.signup({ email: 'a@x.io', password: PASSWORD }, ctx)
    expect(again.user_id).toBe(user.user_id) // the legacy store reuses the id: the old ticket must still be dead
    await expect(c.resetPassword(beforeDelete!.ticket, 'N3w-horse-battery-8', ctx)).rejects.toBeInstanceOf(InvalidTicketError)
    await runner.close()
    await store.close()
  })
})
