import { sql } from 'kysely'
import type { StoreDialect } from '../store-dialect.js'

/**
 * Buckets of the lock space per connection. A batch of a thousand users would otherwise hold two thousand advisory
 * locks, and every one takes a slot of the server's shared lock table (max_locks_per_transaction × max_connections,
 * 6400 by default); with buckets a batch holds at most this many, and a delete waits only for the import
 * transactions in flight that share a bucket with its user.
 */
const BUCKETS = 256

/**
 * Transaction-scoped advisory locks on (hash of the connection, bucket of `id:` user_id or `email:` address): shared
 * for imports, which do not block each other, exclusive for a tombstone. Taken in bucket order in one statement, so
 * two transactions never wait on each other's buckets in a cycle. Each later statement of a READ COMMITTED
 * transaction sees what was committed before the lock was granted, so:
 * - import first: the delete waits; after the import commits, its DELETE sees the imported row and removes it;
 * - delete first: the import waits; after the delete commits, its tombstone read sees the tombstone and refuses.
 */
export const postgresLockTombstoneKeys: NonNullable<StoreDialect['lockTombstoneKeys']> = async (trx, connection, keys, side) => {
  const names = [...keys.userIds.map((id) => `id:${id}`), ...keys.emails.map((email) => `email:${email}`)]
  if (names.length === 0) return
  const lock = sql.raw(side === 'import' ? 'pg_advisory_xact_lock_shared' : 'pg_advisory_xact_lock')
  // DISTINCT keeps the subquery from being flattened, so the locks are taken in the sorted order.
  await sql`select ${lock}(hashtext(${connection}), bucket) from (
      select distinct hashtext(name) & ${sql.lit(BUCKETS - 1)} as bucket from unnest(${names}::text[]) as name order by bucket
    ) as buckets`.execute(trx)
}
