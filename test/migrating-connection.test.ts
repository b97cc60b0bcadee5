// The migrating connection: users move from a legacy MariaDB or PostgreSQL (through the
// shipped templates, in the real sandbox) into a built-in target on SQLite or PostgreSQL.
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import {
  BuiltinConnection,
  closeHashPool,
  CustomScriptConnection,
  InvalidInputError,
  MigratingConnection,
  MigrationConflictError,
  PasswordChangeRequiredError,
  UserExistsError,
  type CustomScriptConnectionOptions,
  type MigratingConnectionOptions,
} from '@latchkey/core'
import type { OpenedStore } from '@latchkey/adapters'
import { QuickJsRunner } from '@latchkey/sandbox'
import { DIALECTS, openTestStore, storeUrl, uniqueName } from './support/dialects.js'
import { race } from './support/race.js'
import { legacyDatabase, legacyKinds, type LegacyDatabase } from './support/legacy-database.js'
import { legacyConnection, migratingConnection, outcome } from './support/migrating.js'

const runner = new QuickJsRunner({ timeoutMs: 8000, workers: 2 })
const ctx = { ip: '203.0.113.80' }
const PASSWORD = 'Tr0ub4dor-horse-42'

afterAll(async () => {
  await runner.close()
  await closeHashPool()
})

const targets = DIALECTS.filter((d) => d === 'sqlite' || d === 'postgres')

for (const kind of legacyKinds(DIALECTS)) {
  for (const targetDialect of targets) {
    describe(`migrating from a legacy ${kind} into a ${targetDialect} target`, () => {
      let store: OpenedStore
      let legacy: LegacyDatabase
      beforeAll(async () => {
        store = await openTestStore(targetDialect)
        legacy = await legacyDatabase(kind)
      })
      afterAll(async () => {
        await legacy.teardown()
        await store.close()
      })

      const connect = (opts: Partial<MigratingConnectionOptions> = {}, legacyOpts: Partial<CustomScriptConnectionOptions> = {}) =>
        migratingConnection(store, runner, legacy, { migrating: opts, legacy: legacyOpts })
      const email = () => `${uniqueName('u')}@example.com`

      it('imports a legacy user at first login with the same user_id and profile, and never asks legacy again', async () => {
        const { users, target, events } = connect()
        const address = email()
        const id = await legacy.add({ email: address, password: PASSWORD, username: 'ada_l', name: 'Ada', verified: true })
        const profile = await users.login({ identifier: address, password: PASSWORD }, ctx)
        expect(profile).toMatchObject({ user_id: id, email: address, username: 'ada_l', email_verified: true })
        expect(events.map((e) => e.type)).toEqual(['migrated', 's'])
        expect(events[0]).toMatchObject({ user_id: id, details: { flow: 'login' } })
        expect(await target.getUserById(id)).toMatchObject({ email: address, logins_count: 1 })
        // The legacy store's password changes: the target answers for the user now.
        await legacy.query('UPDATE $table SET password = ? WHERE id = ?', ['not-a-bcrypt-hash', Number(id)])
        await expect(users.login({ identifier: 'ada_l', password: PASSWORD }, ctx)).resolves.toMatchObject({ user_id: id })
        expect((await users.migrationStatus()).byFlow).toEqual({ login: 1 })
      })

      it('counts one failed login once, and pays no dummy hash before the legacy login', async () => {
        const { users, events } = connect()
        const address = email()
        await legacy.add({ email: address, password: PASSWORD })
        expect(await outcome(users.login({ identifier: address, password: 'Wr0ng-horse-4242' }, ctx))).toBe('invalid_user_password')
        expect(events.map((e) => e.type)).toEqual(['fp'])
        expect(events.some((e) => JSON.stringify(e).includes(address))).toBe(false)
      })

      it('50 simultaneous first logins of one legacy user from one IP: 50 successes, one target user', async () => {
        const { users, events } = connect()
        const address = email()
        const id = await legacy.add({ email: address, password: PASSWORD })
        const results = await Promise.all(
          Array.from({ length: 50 }, () => outcome(users.login({ identifier: address, password: PASSWORD }, ctx))),
        )
        expect(results).toEqual(Array.from({ length: 50 }, () => 'ok'))
        expect(events.filter((e) => e.type === 'migrated')).toHaveLength(1)
        const status = await users.migrationStatus()
        expect(status.imported).toBe(1)
        expect((await users.getUserById(id))?.email).toBe(address)
      }, 60_000)

      it('signs up in the target only after legacy get_user said no, and fails closed when legacy cannot answer', async () => {
        const { users, target } = connect()
        const taken = email()
        await legacy.add({ email: taken, password: PASSWORD, username: 'legacy_name' })
        await expect(users.signup({ email: taken, password: PASSWORD }, ctx)).rejects.toBeInstanceOf(UserExistsError)
        await expect(users.signup({ email: email(), password: PASSWORD, username: 'legacy_name' }, ctx)).rejects.toBeInstanceOf(
          UserExistsError,
        )
        const fresh = email()
        const created = await users.signup({ email: fresh, password: PASSWORD }, ctx)
        expect(await target.getUserById(created.user_id)).toMatchObject({ email: fresh })
        expect((await users.migrationStatus()).imported).toBe(0)
        const down = connect(
          {},
          { configuration: { ...legacy.configuration, DB_PORT: '1', DB_URL: 'postgres://nobody@127.0.0.1:1/none' }, timeoutMs: 3000 },
        )
        // The legacy store out of reach (here: its address is not on the egress list) fails the signup, typed.
        const refused = email()
        expect(await outcome(down.users.signup({ email: refused, password: PASSWORD }, ctx))).toBe('egress_denied')
        expect(await down.target.getUser(refused)).toBeNull()
      }, 30_000)

      it('getUser reads legacy without importing', async () => {
        const { users } = connect()
        const address = email()
        const id = await legacy.add({ email: address, password: PASSWORD })
        expect(await users.getUser(address)).toMatchObject({ user_id: id })
        expect((await users.migrationStatus()).imported).toBe(0)
        expect(await users.getUserById(id)).toBeNull()
      })

      it('deleteUser writes a tombstone that blocks re-import', async () => {
        const { users } = connect()
        const address = email()
        const id = await legacy.add({ email: address, password: PASSWORD })
        await users.login({ identifier: address, password: PASSWORD }, ctx)
        // The legacy template's delete runs too; put the row back to prove the tombstone, not the delete, blocks it.
        await users.deleteUser(id)
        await legacy.add({ email: address, password: PASSWORD })
        expect(await outcome(users.login({ identifier: address, password: PASSWORD }, ctx))).toBe('invalid_user_password')
        expect((await users.migrationStatus()).tombstones).toBe(1)
      })

      it('an old email changed in the target, and an old password changed in the target, never log in through legacy', async () => {
        const { users } = connect()
        const address = email()
        await legacy.add({ email: address, password: PASSWORD })
        await users.login({ identifier: address, password: PASSWORD }, ctx)
        const moved = email()
        await users.changeEmail(address, moved)
        expect(await outcome(users.login({ identifier: address, password: PASSWORD }, ctx))).toBe('invalid_user_password')
        await users.changePassword(moved, 'N3w-battery-staple-7', ctx)
        expect(await outcome(users.login({ identifier: moved, password: PASSWORD }, ctx))).toBe('invalid_user_password')
        expect(await outcome(users.login({ identifier: moved, password: 'N3w-battery-staple-7' }, ctx))).toBe('ok')
      })

      it('imports with the new password at changePassword and at reset', async () => {
        const { users, target } = connect()
        const a = email()
        const idA = await legacy.add({ email: a, password: PASSWORD })
        await users.changePassword(a, 'Chang3d-by-admin-99', ctx)
        expect(await outcome(target.login({ identifier: a, password: 'Chang3d-by-admin-99' }, ctx))).toBe('ok')
        const b = email()
        const idB = await legacy.add({ email: b, password: PASSWORD })
        const ticket = await users.createPasswordResetTicket(b, {}, ctx)
        expect(ticket).not.toBeNull()
        expect(await users.getUserById(idB)).toBeNull()
        await users.resetPassword(ticket!.ticket, 'R3set-through-mail-5', ctx)
        expect(await outcome(users.login({ identifier: b, password: 'R3set-through-mail-5' }, ctx))).toBe('ok')
        expect(await outcome(users.login({ identifier: b, password: PASSWORD }, ctx))).toBe('invalid_user_password')
        expect((await users.migrationStatus()).byFlow).toEqual({ change_password: 1, reset: 1 })
        expect((await users.getUserById(idA))?.user_id).toBe(idA)
      })

      it('writeThrough also writes the new password to the legacy store; without it legacy keeps the old one', async () => {
        const plain = connect()
        const through = connect({ writeThrough: true })
        const legacyLogin = (identifier: string, password: string) =>
          outcome(legacyConnection(uniqueName('check'), runner, legacy).login({ identifier, password }, ctx))
        const a = email()
        await legacy.add({ email: a, password: PASSWORD })
        await plain.users.changePassword(a, 'Only-in-target-31', ctx)
        expect(await legacyLogin(a, PASSWORD)).toBe('ok')
        const b = email()
        await legacy.add({ email: b, password: PASSWORD })
        await through.users.changePassword(b, 'Written-through-32', ctx)
        expect(await legacyLogin(b, 'Written-through-32')).toBe('ok')
        expect(await outcome(through.users.login({ identifier: b, password: 'Written-through-32' }, ctx))).toBe('ok')
      })

      it('a legacy store that is down gives a typed error and counts no failure; imported users still log in', async () => {
        const { users, name } = connect()
        const imported = email()
        await legacy.add({ email: imported, password: PASSWORD })
        await users.login({ identifier: imported, password: PASSWORD }, ctx)
        const left = email()
        await legacy.add({ email: left, password: PASSWORD })
        const down = migratingConnection(store, runner, legacy, {
          name,
          target: { attackProtection: { bruteForce: { threshold: 2 } } },
          legacy: {
            timeoutMs: 3000,
            configuration: { ...legacy.configuration, DB_PORT: '1', DB_URL: 'postgres://nobody@127.0.0.1:1/none' },
          },
        }).users
        for (let i = 0; i < 3; i++) expect(await outcome(down.login({ identifier: left, password: PASSWORD }, ctx))).toBe('egress_denied')
        expect(await outcome(down.login({ identifier: imported, password: PASSWORD }, ctx))).toBe('ok')
        // Nothing was counted against the pair, and nothing was half-written: the working connection imports the user.
        expect(await outcome(users.login({ identifier: left, password: PASSWORD }, ctx))).toBe('ok')
        expect((await users.migrationStatus()).imported).toBe(2)
      }, 30_000)

      it("a first login racing a password reset of one legacy user ends with one user and the reset's password", async () => {
        const { users } = connect()
        const address = email()
        await legacy.add({ email: address, password: PASSWORD })
        const ticket = await users.createPasswordResetTicket(address, {}, ctx)
        const [login, reset] = await Promise.all([
          outcome(users.login({ identifier: address, password: PASSWORD }, ctx)),
          outcome(users.resetPassword(ticket!.ticket, 'Raced-reset-wins-6', ctx)),
        ])
        expect(reset).toBe('ok')
        expect(['ok', 'invalid_user_password']).toContain(login)
        expect(await outcome(users.login({ identifier: address, password: 'Raced-reset-wins-6' }, ctx))).toBe('ok')
        expect(await outcome(users.login({ identifier: address, password: PASSWORD }, ctx))).toBe('invalid_user_password')
        expect((await users.migrationStatus()).imported).toBe(1)
      })

      it('finishMigration switches legacy off for every connection object at once', async () => {
        const { users, name } = connect()
        const imported = email()
        await legacy.add({ email: imported, password: PASSWORD })
        await users.login({ identifier: imported, password: PASSWORD }, ctx)
        const left = email()
        await legacy.add({ email: left, password: PASSWORD })
        const other = migratingConnection(store, runner, legacy, { name }).users
        await other.finishMigration()
        expect(await outcome(users.login({ identifier: left, password: PASSWORD }, ctx))).toBe('invalid_user_password')
        expect(await outcome(users.login({ identifier: imported, password: PASSWORD }, ctx))).toBe('ok')
        expect(await users.getUser(left)).toBeNull()
        expect((await users.migrationStatus()).finishedAt).toBeInstanceOf(Date)
      })

      it('conflicts: a user_id or an email that belongs to another target user', async () => {
        const { users, target, events } = connect()
        const address = email()
        const id = await legacy.add({ email: address, password: PASSWORD })
        const at = new Date()
        await store.insertUser({
          connection: target.name,
          user_id: id,
          email: email(),
          email_normalized: null,
          email_verified: true,
          username: null,
          password_hash: null,
          legacy_hash: null,
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
          origin: 'signup',
        })
        await expect(users.login({ identifier: address, password: PASSWORD }, ctx)).rejects.toBeInstanceOf(MigrationConflictError)
        expect(events.at(-1)).toMatchObject({ type: 'migration_conflict', user_id: id, details: { reason: 'user_id_taken' } })

        const shared = email()
        await legacy.add({ email: shared, password: PASSWORD })
        const owner = await target.signup({ email: shared, password: 'Someone-else-123' }, ctx)
        await target.updateUser(owner.user_id, { email_verified: true })
        await expect(users.login({ identifier: shared, password: PASSWORD }, ctx)).rejects.toBeInstanceOf(MigrationConflictError)
        const status = await users.migrationStatus()
        expect(status.conflicts.map((c) => c.reason).sort()).toEqual(['email_taken', 'user_id_taken'])
      })

      it('an unverified target signup never blocks the legacy owner of that email', async () => {
        const { users, target, events } = connect()
        const address = email()
        const id = await legacy.add({ email: address, password: PASSWORD })
        const squatter = await target.signup({ email: address, password: 'Squatter-pass-777' }, ctx)
        await expect(users.login({ identifier: address, password: PASSWORD }, ctx)).resolves.toMatchObject({ user_id: id })
        expect(await target.getUserById(squatter.user_id)).toBeNull()
        expect(events.some((e) => e.type === 'migration_conflict' && e.user_id === squatter.user_id)).toBe(true)
      })

      it('legacyPasswordPolicy require_reset: a breached legacy password imports the user marked, until a reset', async () => {
        const { users } = migratingConnection(store, runner, legacy, {
          target: { breachedPasswords: { list: ['Company-Secret-2019'] } },
          migrating: { legacyPasswordPolicy: 'require_reset' },
        })
        const address = email()
        const id = await legacy.add({ email: address, password: 'Company-Secret-2019' })
        const error = await users.login({ identifier: address, password: 'Company-Secret-2019' }, ctx).catch((e: unknown) => e)
        expect(error).toBeInstanceOf(PasswordChangeRequiredError)
        expect((error as PasswordChangeRequiredError).code).toBe('password_change_required')
        expect(JSON.stringify(error)).not.toMatch(/ticket/i)
        expect(await users.getUserById(id)).not.toBeNull()
        expect(await outcome(users.login({ identifier: address, password: 'Company-Secret-2019' }, ctx))).toBe('password_change_required')
        expect(await outcome(users.login({ identifier: address, password: 'Wr0ng-horse-4242' }, ctx))).toBe('invalid_user_password')
        const ticket = await users.createPasswordResetTicket(address, {}, ctx)
        await users.resetPassword(ticket!.ticket, 'Fresh-and-unique-88', ctx)
        expect(await outcome(users.login({ identifier: address, password: 'Fresh-and-unique-88' }, ctx))).toBe('ok')
      })
    })
  }
}

describe('constructing a migrating connection', () => {
  let store: OpenedStore
  beforeAll(async () => {
    store = await openTestStore('sqlite')
  })
  afterAll(async () => {
    await store.close()
  })
  const scripts = { login: 'function login(i, p, cb) { cb() }', get_user: 'function g(i, cb) { cb(null) }' }

  it("refuses a legacy connection with its own attack protection, a name other than the target's, and no get_user", () => {
    const target = new BuiltinConnection({ name: 'users', store, bcryptCost: 4, unsafeLowCostForTests: true })
    const protectedLegacy = new CustomScriptConnection({ name: 'legacy', runner, scripts, store })
    expect(() => new MigratingConnection({ name: 'users', target, legacy: protectedLegacy })).toThrow(InvalidInputError)
    const legacy = new CustomScriptConnection({ name: 'legacy', runner, scripts, attackProtection: false })
    expect(() => new MigratingConnection({ name: 'other', target, legacy })).toThrow(InvalidInputError)
    const noGetUser = new CustomScriptConnection({ name: 'legacy', runner, scripts: { login: scripts.login }, attackProtection: false })
    expect(() => new MigratingConnection({ name: 'users', target, legacy: noGetUser })).toThrow(InvalidInputError)
    expect(new MigratingConnection({ name: 'users', target, legacy }).name).toBe('users')
  })
})

// Two processes share the target (PostgreSQL or MariaDB) and one legacy store.
for (const targetDialect of DIALECTS.filter((d) => d !== 'sqlite')) {
  describe(`two processes sharing a ${targetDialect} target`, () => {
    it('25 first logins each of one legacy user from one IP, at once: 50 successes and exactly one target user', async () => {
      const legacy = await legacyDatabase(legacyKinds(DIALECTS)[0]!)
      const store = await openTestStore(targetDialect)
      try {
        const name = uniqueName('xmig')
        const address = `${uniqueName('u')}@example.com`
        const id = await legacy.add({ email: address, password: PASSWORD })
        // Far more attempts than the pair's threshold (10) and the account's delays (20) hold at once, from one IP:
        // each attempt refused while others are in flight, in either process, waits for them (in-flight marks).
        const task = (ip: string) => ({
          url: storeUrl(targetDialect),
          name,
          bcryptCost: 4,
          op: 'login' as const,
          email: address,
          password: PASSWORD,
          times: 25,
          fixedIp: ip,
          legacy: { scripts: legacy.scripts, configuration: legacy.configuration, egress: legacy.egress },
        })
        const outcomes = (await race([task('198.51.100.31'), task('198.51.100.31')])).flat()
        expect(outcomes).toEqual(Array.from({ length: 50 }, () => 'ok'))
        expect(await store.findUser(name, { userId: id })).toMatchObject({ email: address, origin: 'migration:login' })
        expect((await store.migrationStats(name)).byFlow).toEqual({ login: 1 })
      } finally {
        await legacy.teardown()
        await store.close()
      }
    }, 120_000)
  })
}
