// An import into a migrating connection racing deleteUser of the same user, on a PostgreSQL target: the import
// used to read tombstones, then insert, with nothing tying the two, so a deleteUser of a user not yet in the target
// (no row to lock) that committed its tombstone in between was missed and the deleted user came back with the
// legacy password (found by an attacker review). Both the bulk import and the lazy one (first login) are raced.
// The window is made deterministic by a trigger that parks the user's INSERT on an advisory lock the test holds;
// the delete then runs while the import is parked. Whichever of the two the store lets commit first, the end state
// must be the deleted user: no row in the target and a tombstone.
import { sql } from 'kysely'
import pg from 'pg'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { closeHashPool, importUsers } from '@latchkey/core'
import { bcryptHash } from '@latchkey/core/internal'
import type { OpenedStore } from '@latchkey/adapters'
import { QuickJsRunner } from '@latchkey/sandbox'
import { DIALECTS, openTestStore, uniqueName } from './support/dialects.js'
import { legacyDatabase, legacyKinds, type LegacyDatabase } from './support/legacy-database.js'
import { migratingConnection, outcome } from './support/migrating.js'
import { eventually } from './support/servers.js'

const runner = new QuickJsRunner({ timeoutMs: 8000, workers: 2 })
afterAll(async () => {
  await runner.close()
  await closeHashPool()
})
const kind = legacyKinds(DIALECTS)[0]
const PASSWORD = 'Tr0ub4dor-horse-42'

/** Parks one INSERT into latchkey_users on a lock the test holds, and tells who waits for a lock meanwhile. */
interface Parker {
  park(connection: string, userId: string): Promise<void>
  hold(): Promise<void>
  release(): Promise<void>
  /** Sessions waiting: for the test's lock (the parked INSERT), or for any other lock. */
  waiting(): Promise<{ parked: number; other: number }>
  close(): Promise<void>
}

async function postgresParker(store: OpenedStore, suffix: string): Promise<Parker> {
  const admin = new pg.Client({ connectionString: process.env['LATCHKEY_PG_URL'] })
  await admin.connect()
  const fn = `park_insert_${suffix}`
  const trigger = `park_insert_trg_${suffix}`
  const KEY = 7_340_000 + Math.floor(Math.random() * 1000)
  return {
    async park(connection, userId) {
      await sql
        .raw(
          `create or replace function ${fn}() returns trigger language plpgsql as $$ begin
             if new.user_id = '${userId}' and new.connection = '${connection}' then perform pg_advisory_xact_lock(${KEY}); end if;
             return new; end $$`,
        )
        .execute(store.db)
      await sql
        .raw(`create or replace trigger ${trigger} before insert on latchkey_users for each row execute function ${fn}()`)
        .execute(store.db)
    },
    hold: async () => void (await admin.query('select pg_advisory_lock($1)', [KEY])),
    release: async () => void (await admin.query('select pg_advisory_unlock($1)', [KEY])),
    async waiting() {
      const { rows } = await admin.query(
        `select count(*) filter (where locktype = 'advisory' and objsubid = 1 and objid = $1) as parked,
                count(*) filter (where not (locktype = 'advisory' and objsubid = 1 and objid = $1)) as other
           from pg_locks where not granted`,
        [KEY],
      )
      return { parked: Number(rows[0].parked), other: Number(rows[0].other) }
    },
    async close() {
      await sql.raw(`drop trigger if exists ${trigger} on latchkey_users`).execute(store.db)
      await sql.raw(`drop function if exists ${fn}()`).execute(store.db)
      await admin.end()
    },
  }
}

const parkers = { postgres: postgresParker }

// MariaDB targets take the other half of the fix (a locking read of the tombstone keys); a parked-INSERT version of
// this race on MariaDB (GET_LOCK in the trigger) was not reliable enough yet to keep.
// The race is made deterministic with a PostgreSQL trigger: without PostgreSQL the suite is listed as skipped.
for (const targetDialect of ['postgres'] as const) {
  describe.runIf(kind !== undefined && DIALECTS.includes(targetDialect))(`an import racing deleteUser on a ${targetDialect} target`, () => {
    let store: OpenedStore
    let legacy: LegacyDatabase
    let parker: Parker

    beforeAll(async () => {
      store = await openTestStore(targetDialect)
      legacy = await legacyDatabase(kind!)
      parker = await parkers[targetDialect](store, uniqueName('x').slice(2))
    })
    afterAll(async () => {
      await parker.close()
      await legacy.teardown()
      await store.close()
    })

    /**
     * Parks the INSERT of `legacyId` into the target, runs `importing` until it waits there, then deleteUser; lets
     * the INSERT go once the delete has ended or waits itself, and gives the outcomes and the end state.
     */
    async function race(users: ReturnType<typeof migratingConnection>['users'], legacyId: string, importing: () => Promise<unknown>) {
      await parker.park(users.name, legacyId)
      await parker.hold()
      let imported: Promise<string> | undefined
      let deleted: Promise<string> | undefined
      try {
        imported = outcome(importing())
        await eventually(async () => (await parker.waiting()).parked > 0, 20_000)
        // Not in the target yet: without the store's lock only a tombstone is written, and the delete ends at once.
        let ended = false
        deleted = outcome(users.deleteUser(legacyId)).finally(() => {
          ended = true
        })
        await eventually(async () => ended || (await parker.waiting()).other > 0, 20_000)
      } finally {
        await parker.release()
      }
      return {
        imported: await imported,
        deleted: await deleted,
        inTarget: (await store.findUser(users.name, { userId: legacyId })) !== null,
        tombstoned: await store.isTombstoned(users.name, { userId: legacyId }),
      }
    }

    it('a user deleted while the bulk import writes the batch does not come back', async () => {
      const { users } = migratingConnection(store, runner, legacy)
      const address = `${uniqueName('u')}@example.com`
      const legacyId = await legacy.add({ email: address, password: PASSWORD })
      const record = { user_id: legacyId, email: address, password_hash: await bcryptHash('Exp0rted-lantern-77', 4) }
      const end = await race(users, legacyId, () => importUsers(users, [record]))
      expect(end).toEqual({ imported: 'ok', deleted: 'ok', inTarget: false, tombstoned: true })
    })

    it('a user deleted while the first login imports them does not come back', async () => {
      const { users } = migratingConnection(store, runner, legacy)
      const address = `${uniqueName('u')}@example.com`
      const legacyId = await legacy.add({ email: address, password: PASSWORD })
      const end = await race(users, legacyId, () => users.login({ identifier: address, password: PASSWORD }, { ip: '203.0.113.81' }))
      expect(end).toEqual({ imported: 'ok', deleted: 'ok', inTarget: false, tombstoned: true })
    })
  })
}
