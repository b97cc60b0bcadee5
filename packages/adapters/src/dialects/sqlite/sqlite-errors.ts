import { userConstraint } from '../store-errors.js'
import type { UniqueClash } from '../store-dialect.js'

/**
 * SQLite names no constraint, so a unique clash is told by its columns:
 * "UNIQUE constraint failed: latchkey_users.connection, latchkey_users.email_normalized".
 * Never by searching text that may hold the clashing value itself (a username `email`).
 */
export function sqliteUniqueViolation(error: unknown): UniqueClash | null {
  if (typeof error !== 'object' || error === null) return null
  const e = error as { code?: unknown; message?: unknown }
  if (e.code !== 'SQLITE_CONSTRAINT_UNIQUE' && e.code !== 'SQLITE_CONSTRAINT_PRIMARYKEY') return null
  const message = typeof e.message === 'string' ? e.message : ''
  return userConstraint((/constraint failed: (.*)$/.exec(message)?.[1] ?? '').split(', ').filter((c) => !c.endsWith('.connection')))
}
