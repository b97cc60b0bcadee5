import { StoreUnavailableError } from '@latchkey/core'
import type { DialectName } from './dialect-name.js'
import type { StoreDialect, UniqueClash } from './store-dialect.js'

/** The unique constraints of latchkey_users, by name (PostgreSQL, MySQL/MariaDB) and by column (SQLite). */
const USER_CONSTRAINTS: Record<string, UniqueClash> = {
  latchkey_users_pk: 'primary',
  PRIMARY: 'primary',
  latchkey_users_email_uq: 'email',
  latchkey_users_username_uq: 'username',
  'latchkey_users.email_normalized': 'email',
  'latchkey_users.username': 'username',
  'latchkey_users.user_id': 'primary',
}

/**
 * The key of latchkey_users that one of these constraint names (or, on SQLite, column
 * names) stands for; a clash on any other table's key is 'primary' all the same.
 */
export function userConstraint(names: string[]): UniqueClash {
  for (const name of names) if (USER_CONSTRAINTS[name]) return USER_CONSTRAINTS[name]
  return 'primary'
}

const NETWORK_CODES = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'ETIMEDOUT',
  'EPIPE',
  'ENOTFOUND',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'EAI_AGAIN',
  // mysql2
  'PROTOCOL_CONNECTION_LOST',
  'PROTOCOL_SEQUENCE_TIMEOUT',
  'ER_SERVER_SHUTDOWN',
  'ER_CON_COUNT_ERROR',
  'ER_CONNECTION_KILLED',
  'ER_QUERY_INTERRUPTED',
  // PostgreSQL SQLSTATEs: admin/crash shutdown, cannot connect now, too many connections
  '57P01',
  '57P02',
  '57P03',
  '53300',
  // SQLite: locked past busy_timeout, or the file went away
  'SQLITE_BUSY',
  'SQLITE_LOCKED',
  'SQLITE_IOERR',
  'SQLITE_CANTOPEN',
])

const NETWORK_MESSAGES = [
  'Connection terminated',
  'connection error',
  'not queryable',
  'closed state',
  'Pool is closed',
  'timeout exceeded when trying to connect',
  'Connection lost',
  'server has gone away',
  // A store whose pool was closed in this process (pg's Pool, Kysely's SQLite driver): unreachable all the same.
  'Cannot use a pool after calling end on the pool',
  'driver has already been destroyed',
]

/**
 * Whether an error means the store could not be reached (as opposed to a bad query).
 * Such errors surface as {@link StoreUnavailableError}: retryable, and nothing was written.
 */
export function isUnavailable(error: unknown, depth = 0): boolean {
  if (typeof error !== 'object' || error === null) return false
  const e = error as { code?: unknown; fatal?: unknown; message?: unknown; cause?: unknown }
  // A wrapped failure (a migration that could not connect, say) is judged by its cause.
  if (depth < 3 && e.cause !== undefined && isUnavailable(e.cause, depth + 1)) return true
  if (typeof e.code === 'string' && (NETWORK_CODES.has(e.code) || e.code.startsWith('08') || e.code.startsWith('SQLITE_BUSY'))) return true
  if (e.fatal === true) return true
  const message = typeof e.message === 'string' ? e.message : ''
  return NETWORK_MESSAGES.some((m) => message.includes(m))
}

/** Rethrows connection-level failures and deadlocks as StoreUnavailableError, the rest unchanged. */
export function translateStoreError(dialect: Pick<StoreDialect, 'name' | 'isDeadlock'>, error: unknown): never {
  if (dialect.isDeadlock(error)) {
    const code = (error as { code?: unknown }).code
    throw new StoreUnavailableError(
      `The ${dialect.name} user store rolled a transaction back to break a deadlock (${String(code)}); nothing was written, try again.`,
      { cause: error },
    )
  }
  throw unavailableError(dialect.name, error) ?? error
}

/** A connection-level failure as StoreUnavailableError, naming the driver's code; null for any other error. */
export function unavailableError(dialect: DialectName, error: unknown): StoreUnavailableError | null {
  if (!isUnavailable(error)) return null
  let root: unknown = error
  for (let i = 0; i < 3 && typeof root === 'object' && root !== null && !('code' in root) && 'cause' in root; i++)
    root = (root as { cause: unknown }).cause
  const detail = typeof root === 'object' && root !== null && 'code' in root ? ` (${String((root as { code: unknown }).code)})` : ''
  return new StoreUnavailableError(`The ${dialect} user store is unavailable${detail}.`, { cause: error })
}
