import { randomBytes } from 'node:crypto'

/**
 * A new user's id: a UUIDv7 (RFC 9562) as 32 hex digits, that is 48 bits of Unix milliseconds then 74 random bits.
 * Time-ordered ids land at the right edge of every store's primary-key index instead of on a random page, so a bulk
 * import or a signup burst dirties (and on InnoDB, splits) a few pages rather than one per row; 74 random bits keep
 * them unguessable. The creation time they reveal is already on the user's profile (`created_at`).
 */
export function newUserId(now: number = Date.now()): string {
  const id = randomBytes(16)
  id.writeUIntBE(now, 0, 6)
  id[6] = (id[6]! & 0x0f) | 0x70 // version 7
  id[8] = (id[8]! & 0x3f) | 0x80 // RFC 9562 variant
  return id.toString('hex')
}
