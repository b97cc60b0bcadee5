import { text } from '../input/text.js'

/** RFC 5321 caps a forward path at 254 octets; we count characters after trimming. */
export const MAX_EMAIL_LENGTH = 254

// Deliberately permissive on the local part (non-ASCII is allowed: "josé" and "jose"
// are different people), strict on structure: one @, no spaces or controls, a dotted domain.
const EMAIL_SHAPE = /^[^\s@\p{Cc}]{1,64}@[^\s@\p{Cc}.]+(\.[^\s@\p{Cc}.]+)+$/u

/** Trimmed, then lower-cased: the form that is compared and unique per connection. */
export function normalizeEmail(email: string): string {
  return email.trim().toLowerCase()
}

export function isEmail(value: string): boolean {
  const trimmed = value.trim()
  return trimmed.length <= MAX_EMAIL_LENGTH && EMAIL_SHAPE.test(trimmed)
}

/** An email as given; leading and trailing spaces are trimmed, case is kept for display. */
export const emailSchema = text(MAX_EMAIL_LENGTH + 64)
  .transform((s) => s.trim())
  .refine((s) => isEmail(s), 'must be a valid email address')
