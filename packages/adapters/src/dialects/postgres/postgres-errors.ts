import { userConstraint } from '../store-errors.js'
import type { UniqueClash } from '../store-dialect.js'

/** A unique clash (23505), told by the constraint's name the driver reports. */
export function postgresUniqueViolation(error: unknown): UniqueClash | null {
  if (typeof error !== 'object' || error === null) return null
  const e = error as { code?: unknown; constraint?: unknown }
  if (e.code !== '23505') return null
  return userConstraint(typeof e.constraint === 'string' ? [e.constraint] : [])
}

/** A deadlock (40P01) or serialization failure (40001): the transaction was rolled back whole. */
export function postgresDeadlock(error: unknown): boolean {
  if (typeof error !== 'object' || error === null) return false
  const e = error as { code?: unknown }
  return e.code === '40P01' || e.code === '40001'
}
