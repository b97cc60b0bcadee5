import { text } from '../input/text.js'

/** RFC 5321 caps a forward path at 254 octets; we count characters after trimming. */
export const MAX_EMAIL_LENGTH = 254

// Deliberately permissive on the local part (non-ASCII is allowed: "josé" and "jose"
// are different people), strict on structure: one @, no spaces or controls, a dotted domain.
const EMAIL_SHAPE = /^[^\s@\p{Cc}]{1,64}@[^\s@\p{Cc}.]+(\.[^\s@\p{Cc}.]+)+$/u

/**
 * Trimmed, then lower-cased: the form that is compared and unique per connection. A
 * character outside ASCII is lower-cased only if its lower case stays outside ASCII: the
 * Kelvin sign (U+212A) lower-cases to `k` and the dotted İ (U+0130) to `i̇`, which would
 * make a look-alike address the same account as an ASCII one. Such characters are kept,
 * so non-ASCII is compared by its own bytes.
 */
export function normalizeEmail(email: string): string {
  let out = ''
  for (const ch of email.trim()) {
    const lower = ch.toLowerCase()
    out += ch.codePointAt(0)! > 0x7f && ASCII.test(lower) ? ch : lower
  }
  return out
}

const ASCII = /[\u0000-\u007f]/

export function isEmail(value: string): boolean {
  const trimmed = value.trim()
  return trimmed.length <= MAX_EMAIL_LENGTH && EMAIL_SHAPE.test(trimmed)
}

/** An email as given; leading and trailing spaces are trimmed, case is kept for display. */
export const emailSchema = text(MAX_EMAIL_LENGTH + 64)
  .transform((s) => s.trim())
  .refine((s) => isEmail(s), 'must be a valid email address')
