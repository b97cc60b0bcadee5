import { sql } from 'kysely'
import type { StoreDialect } from '../store-dialect.js'

/**
 * InnoDB: the import reads the tombstone keys with a locking read (LOCK IN SHARE MODE), which reads the newest
 * committed rows rather than the transaction's snapshot and locks each key, or the index gap where an absent key
 * would go. A tombstone INSERT into that gap waits for the import to commit; a tombstone already written but not
 * committed makes the locking read wait for the delete. The tombstone side takes nothing: its INSERT is the step
 * that conflicts, and the shared code runs it first in the delete's transaction, so the delete holds no other lock
 * (on latchkey_users, say) that the import could wait for while the delete waits for the import:
 * - import first: the tombstone INSERT waits; after the import commits, the delete's DELETE removes the imported row;
 * - delete first: the locking read waits; after the delete commits, it finds the tombstone and the import refuses.
 * The import's plain tombstone read that follows opens the snapshot (nothing read before it), so it sees the same.
 */
export const mysqlLockTombstoneKeys: NonNullable<StoreDialect['lockTombstoneKeys']> = async (trx, connection, keys, side) => {
  if (side === 'tombstone') return
  for (const [column, values] of [
    ['user_id', keys.userIds],
    ['email_normalized', keys.emails],
  ] as const) {
    if (values.length === 0) continue
    await trx
      .selectFrom('latchkey_tombstones')
      .select('user_id')
      .where('connection', '=', connection)
      .where(column, 'in', values)
      .modifyEnd(sql`lock in share mode`)
      .execute()
  }
}
