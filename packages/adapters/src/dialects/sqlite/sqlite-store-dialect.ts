import type { StoreDialect } from '../store-dialect.js'
import { badStoreUrl } from '../bad-store-url.js'
import { integerEpochDay, onConflictTakeSlot, onConflictTakeSlots, onConflictUpsert } from '../on-conflict.js'
import { sqliteUniqueViolation } from './sqlite-errors.js'
import { sqliteKysely } from './sqlite-pool.js'

/** SQLite, embedded (better-sqlite3): `sqlite:path/to/file.db` or `sqlite::memory:`. */
export const sqliteStoreDialect: StoreDialect = {
  name: 'sqlite',
  matchesUrl: (url) => url.startsWith('sqlite:'),
  open(url, opts) {
    const path = url.slice('sqlite:'.length).replace(/^\/\//, '')
    if (path === '') throw badStoreUrl('a SQLite URL needs a path, or :memory:')
    return { db: sqliteKysely(path, opts.sqlite) }
  },
  // Its driver's messages name a file path, and a SQLite URL holds no password.
  openMessageIsSafe: true,
  uniqueViolation: sqliteUniqueViolation,
  // One writer at a time: SQLite waits for the lock (busy_timeout) and never picks a deadlock victim.
  isDeadlock: () => false,
  upsert: onConflictUpsert,
  epochDay: integerEpochDay,
  takeCounterSlot: onConflictTakeSlot,
  takeCounterSlots: onConflictTakeSlots,
}
