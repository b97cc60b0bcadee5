import { userConstraint } from '../store-errors.js'
import type { UniqueClash } from '../store-dialect.js'

/**
 * A unique clash (ER_DUP_ENTRY), told by the key named at the end of the message:
 * MariaDB "… for key 'latchkey_users_email_uq'", MySQL 8 "… for key 'latchkey_users.latchkey_users_email_uq'".
 */
export function mysqlUniqueViolation(error: unknown): UniqueClash | null {
  if (typeof error !== 'object' || error === null) return null
  const e = error as { errno?: unknown; message?: unknown }
  if (e.errno !== 1062) return null
  const message = typeof e.message === 'string' ? e.message : ''
  const key = /for key '([^']*)'$/.exec(message)?.[1] ?? ''
  return userConstraint([key.slice(key.lastIndexOf('.') + 1)])
}

/** ER_LOCK_DEADLOCK or ER_LOCK_WAIT_TIMEOUT: InnoDB rolled the transaction back; nothing was written. */
export function mysqlDeadlock(error: unknown): boolean {
  if (typeof error !== 'object' || error === null) return false
  return (error as { errno?: unknown }).errno === 1213 || (error as { errno?: unknown }).errno === 1205
}
