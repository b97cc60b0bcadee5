import { sql, type Kysely } from 'kysely'
import type { StoreDialect } from '../store-dialect.js'
import { mysqlDeadlock, mysqlUniqueViolation } from './mysql-errors.js'
import { mysqlKysely } from './mysql-pool.js'
import { mysqlTakeSlot } from './mysql-take-slot.js'
import { mysqlLockTombstoneKeys } from './mysql-tombstone-locks.js'

/** MySQL or MariaDB (mysql2): `mysql://user:pass@host:3306/db`, also spelt `mariadb://`. */
export const mysqlStoreDialect: StoreDialect = {
  name: 'mysql',
  matchesUrl: (url) => /^(mysql|mariadb):\/\//.test(url),
  open: (url, opts) => mysqlKysely(url.replace(/^mariadb:/, 'mysql:'), opts),
  openMessageIsSafe: false,
  uniqueViolation: mysqlUniqueViolation,
  isDeadlock: mysqlDeadlock,
  // No ON CONFLICT: ON DUPLICATE KEY UPDATE, and for 'keep' a no-op update of a key column
  // (not INSERT IGNORE, which would also swallow real errors).
  upsert(db, table, row, key, set) {
    const insert = (db as Kysely<any>).insertInto(table).values(row)
    const update = set === 'keep' ? { [key[0]!]: sql.ref(key[0]!) } : set
    return insert.onDuplicateKeyUpdate(update as never)
  },
  epochDay: (column) => sql<number>`${sql.ref(column)} div 86400000`,
  takeCounterSlot: mysqlTakeSlot,
  lockTombstoneKeys: mysqlLockTombstoneKeys,
}
