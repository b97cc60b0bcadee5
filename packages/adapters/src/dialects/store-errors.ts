import { StoreUnavailableError } from '@latchkey/core'
import type { DialectName } from './dialect-name.js'

/** The unique constraints of latchkey_users, by name (PostgreSQL, MySQL/MariaDB) and by column (SQLite). */
const USER_CONSTRAINTS: Record<string, 'email' | 'username' | 'primary'> = {
  latchkey_users_pk: 'primary',
  PRIMARY: 'primary',
  latchkey_users_email_uq: 'email',
  latchkey_users_username_uq: 'username',
  'latchkey_users.email_normalized': 'email',
  'latchkey_users.username': 'username',
  'latchkey_users.user_id': 'primary',
}

/**
 * Which unique constraint a failed insert or update hit, or null if it was no unique clash.
 * Decided by the constraint's name (PostgreSQL's `constraint`, the key MySQL/MariaDB name
 * at the end of their message) or, on SQLite, which names no constraint, by its columns;
 * never by searching text that may hold the clashing value itself (a username `email`).
 */
export function uniqueViolation(dialect: DialectName, error: unknown): 'email' | 'username' | 'primary' | null {
  if (typeof error !== 'object' || error === null) return null
  const e = error as { code?: unknown; errno?: unknown; message?: unknown; constraint?: unknown }
  const message = typeof e.message === 'string' ? e.message : ''
  let names: string[] = []
  if (dialect === 'sqlite') {
    if (e.code !== 'SQLITE_CONSTRAINT_UNIQUE' && e.code !== 'SQLITE_CONSTRAINT_PRIMARYKEY') return null
    // "UNIQUE constraint failed: latchkey_users.connection, latchkey_users.email_normalized"
    names = (/constraint failed: (.*)$/.exec(message)?.[1] ?? '').split(', ').filter((c) => !c.endsWith('.connection'))
  } else if (dialect === 'postgres') {
    if (e.code !== '23505') return null
    names = typeof e.constraint === 'string' ? [e.constraint] : []
  } else {
    if (e.errno !== 1062) return null
    // MariaDB: "… for key 'latchkey_users_email_uq'"; MySQL 8: "… for key 'latchkey_users.latchkey_users_email_uq'".
    const key = /for key '([^']*)'$/.exec(message)?.[1] ?? ''
    names = [key.slice(key.lastIndexOf('.') + 1)]
  }
  for (const name of names) if (USER_CONSTRAINTS[name]) return USER_CONSTRAINTS[name]
  // Another table's key (a setting, a ticket): a clash all the same.
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

/**
 * Whether the database rolled a transaction back to break a deadlock or a serialization
 * conflict (PostgreSQL 40P01, 40001; MySQL/MariaDB ER_LOCK_DEADLOCK, ER_LOCK_WAIT_TIMEOUT).
 * Nothing was written, and running it again is safe.
 */
export function isDeadlock(dialect: DialectName, error: unknown): boolean {
  if (typeof error !== 'object' || error === null) return false
  const e = error as { code?: unknown; errno?: unknown }
  if (dialect === 'postgres') return e.code === '40P01' || e.code === '40001'
  if (dialect === 'mysql') return e.errno === 1213 || e.errno === 1205
  return false
}

/** Rethrows connection-level failures and deadlocks as StoreUnavailableError, the rest unchanged. */
export function translateStoreError(dialect: DialectName, error: unknown): never {
  if (isDeadlock(dialect, error)) {
    const code = (error as { code?: unknown }).code
    throw new StoreUnavailableError(
      `The ${dialect} user store rolled a transaction back to break a deadlock (${String(code)}); nothing was written, try again.`,
      { cause: error },
    )
  }
  throw unavailableError(dialect, error) ?? error
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
