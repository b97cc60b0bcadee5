import { z } from 'zod'

// A lone surrogate cannot be encoded as UTF-8; databases and bcrypt would each mangle it
// differently. With the `u` flag, \p{Cs} matches exactly the unpaired halves.
const LONE_SURROGATE = /\p{Cs}/u

/**
 * A string of 1..max UTF-16 units with no NUL byte and no lone surrogate.
 * The cap runs before the other checks, so a 10 MB string is refused cheaply.
 */
export function text(max: number) {
  return z
    .string()
    .min(1, 'must not be empty')
    .max(max, `must be at most ${max} characters`)
    .refine((s) => !s.includes('\u0000'), 'must not contain NUL characters')
    .refine((s) => !LONE_SURROGATE.test(s), 'must be well-formed Unicode (no lone surrogates)')
}

/** The largest JSON text accepted for `user_metadata` or `app_metadata`. */
export const MAX_METADATA_BYTES = 16 * 1024

/**
 * A plain JSON object of at most {@link MAX_METADATA_BYTES}. The result is a deep copy made
 * by JSON round-trip, so getters, class instances and prototype tricks in the input never
 * reach the store; `__proto__` survives only as an ordinary own key.
 */
export const metadataSchema = z
  .custom<Record<string, unknown>>(
    (v) => typeof v === 'object' && v !== null && !Array.isArray(v) &&
      (Object.getPrototypeOf(v) === Object.prototype || Object.getPrototypeOf(v) === null),
    'must be a plain object',
  )
  .transform((v, ctx) => {
    let json: string
    try {
      json = JSON.stringify(v)
    } catch {
      ctx.addIssue({ code: 'custom', message: 'must be JSON-serialisable' })
      return z.NEVER
    }
    if (Buffer.byteLength(json) > MAX_METADATA_BYTES) {
      ctx.addIssue({ code: 'custom', message: `must be at most ${MAX_METADATA_BYTES} bytes as JSON` })
      return z.NEVER
    }
    if (json.includes('\\u0000')) {
      ctx.addIssue({ code: 'custom', message: 'must not contain NUL characters' })
      return z.NEVER
    }
    return JSON.parse(json) as Record<string, unknown>
  })
