import type { StoreDialect } from '../store-dialect.js'
import { integerEpochDay, onConflictTakeSlot, onConflictTakeSlots, onConflictUpsert } from '../on-conflict.js'
import { postgresDeadlock, postgresUniqueViolation } from './postgres-errors.js'
import { postgresKysely } from './postgres-pool.js'
import { postgresLockTombstoneKeys } from './postgres-tombstone-locks.js'

/** PostgreSQL (pg): `postgres://user:pass@host:5432/db`. */
export const postgresStoreDialect: StoreDialect = {
  name: 'postgres',
  matchesUrl: (url) => /^postgres(ql)?:\/\//.test(url),
  open: (url, opts) => postgresKysely(url, opts),
  openMessageIsSafe: false,
  uniqueViolation: postgresUniqueViolation,
  isDeadlock: postgresDeadlock,
  upsert: onConflictUpsert,
  epochDay: integerEpochDay,
  takeCounterSlot: onConflictTakeSlot,
  takeCounterSlots: onConflictTakeSlots,
  // PostgreSQL aborts a transaction on the first error, so clashes are skipped in one statement.
  async insertSkippingClashes(db, rows) {
    const inserted = await db
      .insertInto('latchkey_users')
      .values(rows)
      .onConflict((oc) => oc.doNothing())
      .returning('user_id')
      .execute()
    return inserted.map((r) => r.user_id)
  },
  lockTombstoneKeys: postgresLockTombstoneKeys,
}
