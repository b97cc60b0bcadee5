import { z } from 'zod'
import { MAX_METADATA_BYTES, MAX_METADATA_DEPTH, plainJsonCopy } from './plain-json.js'

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

/**
 * `user_metadata` or `app_metadata`: a plain JSON object nested at most
 * {@link MAX_METADATA_DEPTH} levels and at most {@link MAX_METADATA_BYTES} bytes as JSON,
 * the same at signup, `updateUser`, import and in a script's profile. The result is a deep
 * copy of own data properties only ({@link plainJsonCopy}), so getters, `toJSON`, class
 * instances, inherited properties and `__proto__` never reach the store or the host.
 */
export const metadataSchema = z
  .custom<Record<string, unknown>>((v) => typeof v === 'object' && v !== null && !Array.isArray(v), 'must be a plain object')
  .transform((v, ctx) => {
    const copied = plainJsonCopy(v, MAX_METADATA_DEPTH)
    if ('problem' in copied) {
      ctx.addIssue({ code: 'custom', message: copied.problem.message, path: copied.problem.path })
      return z.NEVER
    }
    const json = JSON.stringify(copied.value)
    if (Buffer.byteLength(json) > MAX_METADATA_BYTES) {
      ctx.addIssue({ code: 'custom', message: `must be at most ${MAX_METADATA_BYTES} bytes as JSON` })
      return z.NEVER
    }
    if (json.includes('\\u0000')) {
      ctx.addIssue({ code: 'custom', message: 'must not contain NUL characters' })
      return z.NEVER
    }
    return copied.value as Record<string, unknown>
  })

export { MAX_METADATA_BYTES, MAX_METADATA_DEPTH }
