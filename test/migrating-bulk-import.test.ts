// The bulk import that finishes a migration: importUsers into a MigratingConnection is
// insert-only, never overwrites a user who moved over already, refuses deleted users and
// upsert, applies the migration's conflict rules, and logs the `bulk` flow with the users.
import { sql } from 'kysely'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { closeHashPool, type ImportRecord, importUsers, NotSupportedError } from '@latchkey/core'
import { bcryptHash } from '@latchkey/core/internal'
import type { OpenedStore } from '@latchkey/adapters'
import { QuickJsRunner } from '@latchkey/sandbox'
import { DIALECTS, openTestStore, uniqueName } from './support/dialects.js'
import { legacyDatabase, legacyKinds, type LegacyDatabase } from './support/legacy-database.js'
import { migratingConnection, outcome } from './support/migrating.js'

const runner = new QuickJsRunner({ timeoutMs: 8000, workers: 2 })
const ctx = { ip: '203.0.113.90' }
const PASSWORD = 'Tr0ub4dor-horse-42'
const BULK_PASSWORD = 'Exp0rted-lantern-77'

afterAll(async () => {
  await runner.close()
  await closeHashPool()
})

const kind = legacyKinds(DIALECTS)[0]

for (const targetDialect of DIALECTS) {
  describe.runIf(kind !== undefined)(`bulk import into a migrating connection on a ${targetDialect} target`, () => {
    let store: OpenedStore
    let legacy: LegacyDatabase
    let bulkHash: string
    beforeAll(async () => {
      store = await openTestStore(targetDialect)
      legacy = await legacyDatabase(kind!)
      bulkHash = await bcryptHash(BULK_PASSWORD, 4)
    })
    afterAll(async () => {
      await legacy.teardown()
      await store.close()
    })

    const connect = () => migratingConnection(store, runner, legacy)
    const email = () => `${uniqueName('u')}@example.com`
    const record = (user_id: string, address: string, extra: Partial<ImportRecord> = {}): ImportRecord => ({
      user_id,
      email: address,
      password_hash: bulkHash,
      ...extra,
    })

    it('imports the rest, skips users who moved over (kept as they are), refuses deleted users, and counts them under bulk', async () => {
      const { users, target, events } = connect()
      // Moved over at login, then changed password and email in the target.
      const movedEmail = email()
      const moved = await legacy.add({ email: movedEmail, password: PASSWORD })
      await users.login({ identifier: movedEmail, password: PASSWORD }, ctx)
      const newEmail = email()
      await users.changeEmail(movedEmail, newEmail)
      await users.changePassword(newEmail, 'Changed-in-target-58', ctx)
      // Moved over, then deleted: a tombstone.
      const goneEmail = email()
      const gone = await legacy.add({ email: goneEmail, password: PASSWORD })
      await users.login({ identifier: goneEmail, password: PASSWORD }, ctx)
      await users.deleteUser(gone)
      // Never logged in: the bulk import brings them.
      const restA = email()
      const idA = await legacy.add({ email: restA, password: PASSWORD, username: 'rest_a' })
      const restB = email()
      const idB = await legacy.add({ email: restB, password: PASSWORD })
      events.length = 0

      const result = await importUsers(users, [
        record(moved, movedEmail, { name: 'Stale export' }),
        record(gone, goneEmail),
        record(`${gone}-other-id`, goneEmail),
        record(idA, restA, { username: 'rest_a', email_verified: true }),
        record(idB, restB),
      ])
      expect(result).toMatchObject({ imported: 2, skipped: 1, failed: 2, updated: 0 })
      expect(result.failures.map((f) => [f.index, f.code])).toEqual([
        [1, 'tombstoned'],
        [2, 'tombstoned'],
      ])
      // The user who moved over keeps the email and password set in the target.
      const kept = await target.getUserById(moved)
      expect(kept).toMatchObject({ email: newEmail })
      expect(kept?.name).toBeFalsy()
      expect(await outcome(users.login({ identifier: newEmail, password: 'Changed-in-target-58' }, ctx))).toBe('ok')
      expect(await outcome(users.login({ identifier: movedEmail, password: BULK_PASSWORD }, ctx))).toBe('invalid_user_password')
      expect(await target.getUserById(gone)).toBeNull()

      const status = await users.migrationStatus()
      expect(status.byFlow).toEqual({ login: 2, bulk: 2 })
      expect(status.imported).toBe(4)
      expect(events.filter((e) => e.type === 'migrated').map((e) => [e.user_id, e.details])).toEqual([
        [idA, { flow: 'bulk' }],
        [idB, { flow: 'bulk' }],
      ])
      expect(await store.findUser(users.name, { userId: idA })).toMatchObject({ origin: 'migration:bulk', email_verified: true })

      // Bulk-imported users are the target's now: legacy is never asked about them (its password changes there).
      await legacy.query('UPDATE $table SET password = ? WHERE id = ?', ['not-a-bcrypt-hash', Number(idA)])
      expect(await outcome(users.login({ identifier: 'rest_a', password: BULK_PASSWORD }, ctx))).toBe('ok')
      expect(await outcome(users.login({ identifier: restB, password: PASSWORD }, ctx))).toBe('invalid_user_password')
      expect(await store.findLegacyIdentifier(users.name, { kind: 'username', value: 'rest_a' })).toBe(idA)

      // Running the same import again changes nothing: all there, or deleted.
      const again = await importUsers(users, [record(idA, restA), record(idB, restB), record(gone, goneEmail)])
      expect(again).toMatchObject({ imported: 0, skipped: 2, failed: 1 })
      expect((await users.migrationStatus()).byFlow).toEqual({ login: 2, bulk: 2 })
    }, 30_000)

    it('refuses upsert with a typed error and writes nothing; a record without its legacy user_id fails', async () => {
      const { users } = connect()
      const address = email()
      const error = await importUsers(users, [record('legacy-1', address)], { upsert: true }).catch((e: unknown) => e)
      expect(error).toBeInstanceOf(NotSupportedError)
      expect(await users.getUserById('legacy-1')).toBeNull()
      const result = await importUsers(users, [{ email: address, password_hash: bulkHash }])
      expect(result.failures).toEqual([expect.objectContaining({ index: 0, code: 'invalid_record', email: address })])
      expect((await users.migrationStatus()).imported).toBe(0)
    })

    it("applies the migration's conflict rules, recorded for migrationStatus() with an event each", async () => {
      const { users, target, events } = connect()
      const signedUp = await target.signup({ email: email(), password: 'Someone-else-123' }, ctx)
      const verifiedEmail = email()
      const verified = await target.signup({ email: verifiedEmail, password: 'Someone-else-456' }, ctx)
      await target.updateUser(verified.user_id, { email_verified: true })
      const squatted = email()
      const squatter = await target.signup({ email: squatted, password: 'Squatter-pass-777', username: 'taken_name' }, ctx)
      const shared = email()
      events.length = 0

      const result = await importUsers(users, [
        record(signedUp.user_id, email()), // 0: the id is a signup's
        record('legacy-20', verifiedEmail), // 1: the email is a verified user's
        record('legacy-21', squatted, { username: 'taken_name' }), // 2: an unverified squatter has the email and the username
        record('legacy-22', shared), // 3
        record('legacy-23', shared.toUpperCase()), // 4: the same email as 3, but for case
      ])
      expect(result).toMatchObject({ imported: 2, skipped: 0, failed: 3 })
      expect(result.failures.map((f) => [f.index, f.code])).toEqual([
        [0, 'user_id_taken'],
        [1, 'email_taken'],
        [4, 'email_case_clash'],
      ])
      // The legacy owner wins over the unverified squatter, who is removed; their username went with them.
      expect(await target.getUserById(squatter.user_id)).toBeNull()
      expect(await target.getUserById('legacy-21')).toMatchObject({ email: squatted, username: 'taken_name' })
      expect(await target.getUserById(verified.user_id)).toMatchObject({ email: verifiedEmail })
      const status = await users.migrationStatus()
      expect(status.conflicts.map((c) => `${c.reason}:${c.legacyId}`).sort()).toEqual(
        [
          `email_case_clash:legacy-23`,
          `email_taken:legacy-20`,
          `unverified_signup_removed:${squatter.user_id}`,
          `user_id_taken:${signedUp.user_id}`,
        ].sort(),
      )
      expect(
        events
          .filter((e) => e.type === 'migration_conflict')
          .map((e) => (e.details as { reason: string }).reason)
          .sort(),
      ).toEqual(['email_case_clash', 'email_taken', 'unverified_signup_removed', 'user_id_taken'].sort())
      expect(status.byFlow).toEqual({ bulk: 2 })
    })

    it('a username taken by a verified user is dropped: the user is imported and logs in by email, with a username_taken conflict', async () => {
      const { users, target } = connect()
      const holder = await target.signup({ email: email(), password: 'Someone-else-789', username: 'ada_b' }, ctx)
      await target.updateUser(holder.user_id, { email_verified: true })
      const address = email()
      const result = await importUsers(users, [record('legacy-30', address, { username: 'ada_b' })])
      expect(result).toMatchObject({ imported: 1, failed: 0 })
      expect(await store.findUser(users.name, { userId: 'legacy-30' })).toMatchObject({ email: address, username: null })
      expect(await outcome(users.login({ identifier: address, password: BULK_PASSWORD }, ctx))).toBe('ok')
      expect((await users.migrationStatus()).conflicts.map((c) => c.reason)).toEqual(['username_taken'])
    })

    it.runIf(targetDialect === 'postgres')(
      'the users, their log rows and their legacy identifiers go in together: a failed log write leaves no user',
      async () => {
        const { users } = connect()
        const address = email()
        // A real failure inside the batch's transaction, after the users' rows: the log refuses this connection.
        const check = `bulk_fault_${uniqueName('c').slice(2)}`
        await sql
          .raw(`alter table latchkey_migration_log add constraint ${check} check (connection <> '${users.name}') not valid`)
          .execute(store.db)
        try {
          expect(await outcome(importUsers(users, [record('legacy-40', address)]))).not.toBe('ok')
          expect(await users.getUserById('legacy-40')).toBeNull()
          expect(await store.findLegacyIdentifier(users.name, { kind: 'id', value: 'legacy-40' })).toBeNull()
        } finally {
          await sql.raw(`alter table latchkey_migration_log drop constraint ${check}`).execute(store.db)
        }
        expect(await importUsers(users, [record('legacy-40', address)])).toMatchObject({ imported: 1 })
        expect((await users.migrationStatus()).byFlow).toEqual({ bulk: 1 })
      },
    )
  })
}
