// Faults around a lazy import, made real: the target refuses the import's write (a trigger or
// a constraint in the target database), the target's pool closes while the legacy login runs,
// the legacy script times out, the target is down. Each gives a typed error, leaves no
// half-created user, and a retry works.
import { sql } from 'kysely'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { closeHashPool } from '@latchkey/core'
import { openStore, type OpenedStore } from '@latchkey/adapters'
import { QuickJsRunner } from '@latchkey/sandbox'
import { DIALECTS, openTestStore, storeUrl, uniqueName } from './support/dialects.js'
import { legacyDatabase, legacyKinds, type LegacyDatabase } from './support/legacy-database.js'
import { migratingConnection, outcome, whileParked } from './support/migrating.js'

const runner = new QuickJsRunner({ timeoutMs: 8000, workers: 2 })
const ctx = { ip: '203.0.113.95' }
const PASSWORD = 'Tr0ub4dor-horse-42'
const email = () => `${uniqueName('u')}@example.com`

afterAll(async () => {
  await runner.close()
  await closeHashPool()
})

/** Makes the target refuse migration-log rows of one connection, in the database itself; returns the undo. */
async function refuseImportsOf(store: OpenedStore, dialect: string, connection: string): Promise<() => Promise<void>> {
  const name = `fault_${uniqueName('x').slice(2)}`
  if (dialect === 'sqlite') {
    await sql
      .raw(`create trigger ${name} before insert on latchkey_migration_log when new.connection = '${connection}'
            begin select raise(abort, 'import refused'); end`)
      .execute(store.db)
    return async () => void (await sql.raw(`drop trigger ${name}`).execute(store.db))
  }
  await sql
    .raw(`alter table latchkey_migration_log add constraint ${name} check (connection <> '${connection}') not valid`)
    .execute(store.db)
  return async () => void (await sql.raw(`alter table latchkey_migration_log drop constraint ${name}`).execute(store.db))
}

const kind = legacyKinds(DIALECTS)[0]

for (const targetDialect of DIALECTS.filter((d) => d === 'sqlite' || d === 'postgres')) {
  describe.runIf(kind !== undefined)(`faults of a migration into a ${targetDialect} target`, () => {
    let store: OpenedStore
    let legacy: LegacyDatabase
    beforeAll(async () => {
      store = await openTestStore(targetDialect)
      legacy = await legacyDatabase(kind!)
    })
    afterAll(async () => {
      await legacy.teardown()
      await store.close()
    })

    it('the target refuses the write after the legacy login succeeded: a typed error, no half user, nothing counted, and a retry works', async () => {
      const { users, name, events } = migratingConnection(store, runner, legacy, {
        target: { attackProtection: { bruteForce: { threshold: 2 } } },
      })
      const address = email()
      const id = await legacy.add({ email: address, password: PASSWORD, username: 'half_user' })
      const undo = await refuseImportsOf(store, targetDialect, name)
      try {
        // More refusals than the brute-force threshold: none of them counts as a failed login.
        for (let i = 0; i < 3; i++)
          expect(await outcome(users.login({ identifier: address, password: PASSWORD }, ctx))).toBe('store_unavailable')
      } finally {
        await undo()
      }
      // The user's row went with the refused log row: one transaction.
      expect(await store.findUser(name, { userId: id })).toBeNull()
      expect(await store.findLegacyIdentifier(name, { kind: 'email', value: address })).toBeNull()
      expect((await users.migrationStatus()).imported).toBe(0)
      expect(events.some((e) => e.type === 'migrated')).toBe(false)
      await expect(users.login({ identifier: 'half_user', password: PASSWORD }, ctx)).resolves.toMatchObject({ user_id: id })
      expect((await users.migrationStatus()).byFlow).toEqual({ login: 1 })
    })

    it.runIf(targetDialect === 'postgres')(
      "the target's pool closes while the legacy login runs: a typed error, no half user, and a retry on a new pool works",
      async () => {
        const own = await openStore(storeUrl(targetDialect))
        const first = migratingConnection(own, runner, legacy)
        const address = email()
        const id = await legacy.add({ email: address, password: PASSWORD })
        // The legacy login is parked on its table while the target's pool goes away under it.
        const login = await whileParked(
          await legacy.hold('table'),
          () => first.users.login({ identifier: address, password: PASSWORD }, ctx),
          () => own.close(),
        )
        expect(login).toBe('store_unavailable')
        expect(await store.findUser(first.name, { userId: id })).toBeNull()
        const again = migratingConnection(store, runner, legacy, { name: first.name })
        await expect(again.users.login({ identifier: address, password: PASSWORD }, ctx)).resolves.toMatchObject({ user_id: id })
        expect((await again.users.migrationStatus()).imported).toBe(1)
      },
    )

    it('a legacy script that times out gives a typed error and writes nothing; imported users still log in meanwhile', async () => {
      const { users, name } = migratingConnection(store, runner, legacy, { legacy: { timeoutMs: 1000 } })
      const moved = email()
      await legacy.add({ email: moved, password: PASSWORD })
      await users.login({ identifier: moved, password: PASSWORD }, ctx)
      const waiting = email()
      const id = await legacy.add({ email: waiting, password: PASSWORD })
      let duringHang = ''
      const login = await whileParked(
        await legacy.hold('table'),
        () => users.login({ identifier: waiting, password: PASSWORD }, ctx),
        async () => {
          // The legacy store hangs (its table is locked): a user who moved over does not need it.
          duringHang = await outcome(users.login({ identifier: moved, password: PASSWORD }, ctx))
          await new Promise((r) => setTimeout(r, 1500))
        },
      )
      expect(login).toBe('script_timeout')
      expect(duringHang).toBe('ok')
      expect(await store.findUser(name, { userId: id })).toBeNull()
      await expect(users.login({ identifier: waiting, password: PASSWORD }, ctx)).resolves.toMatchObject({ user_id: id })
    }, 30_000)
  })
}

describe.runIf(kind !== undefined && DIALECTS.includes('postgres'))('a migration whose target is down', () => {
  let legacy: LegacyDatabase
  beforeAll(async () => {
    legacy = await legacyDatabase(kind!)
  })
  afterAll(async () => {
    await legacy.teardown()
  })

  it('gives a typed error at login, signup and status, and never reaches the legacy store', async () => {
    // Nothing listens on port 1: the store cannot be reached at all.
    const down = await openStore('postgres://latchkey@127.0.0.1:1/latchkey', { migrate: false })
    try {
      const { users } = migratingConnection(down, runner, legacy)
      const address = email()
      await legacy.add({ email: address, password: PASSWORD })
      expect(await outcome(users.login({ identifier: address, password: PASSWORD }, ctx))).toBe('store_unavailable')
      expect(await outcome(users.signup({ email: email(), password: PASSWORD }, ctx))).toBe('store_unavailable')
      expect(await outcome(users.migrationStatus())).toBe('store_unavailable')
      expect(await outcome(users.getUser(address))).toBe('store_unavailable')
    } finally {
      await down.close()
    }
  })
})
