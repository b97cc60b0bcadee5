import { z } from 'zod'
import { HashRefusal, MAX_PASSWORD_INPUT, parseStoredHash, storedHashSchema, type ScriptHashJob } from '@latchkey/core/internal'
import { BRIDGE_LIMITS } from '../limits.js'

/** Why `require('@latchkey/password-hash').verify` refused a call: its guest error's `code`. */
export type PasswordHashRefusalCode = HashRefusal['code'] | 'invalid_argument'

/** A refusal, answered to the guest as a value so that it becomes a typed `PasswordHashError` there. */
export interface PasswordHashRefusal {
  ok: false
  code: PasswordHashRefusalCode
  message: string
}

const verifyArgsSchema = z.strictObject({
  password: z.string().max(MAX_PASSWORD_INPUT),
  hash: storedHashSchema,
})

/**
 * The hash-pool job for `verify(password, hash)`, or why there is none. The hash goes through
 * core's own decoders, minimum lengths and caps (those of bulk import; bcrypt up to the
 * compare cap of `require('bcrypt')`), so a hash that decodes to nothing or asks for absurd
 * work never reaches a worker. No message holds the password or any part of the hash.
 */
export function passwordHashJob(args: unknown): ScriptHashJob | PasswordHashRefusal {
  const parsed = verifyArgsSchema.safeParse(args)
  if (!parsed.success) {
    // Paths and codes only: zod's messages are safe today, but a value must never be one step away.
    const where = parsed.error.issues.map((i) => `${i.path.map(String).join('.') || 'arguments'} (${i.code})`)
    return {
      ok: false,
      code: 'invalid_argument',
      message:
        `verify(password, hash) needs a password string of at most ${MAX_PASSWORD_INPUT} characters and a hash string ` +
        `or { algorithm, hash, … } object: ${[...new Set(where)].slice(0, 5).join(', ')}`,
    }
  }
  const { password, hash } = parsed.data
  try {
    const stored = parseStoredHash(hash, { bcryptCost: BRIDGE_LIMITS.bcryptMaxCompareCost })
    return 'password_hash' in stored
      ? { op: 'compare', password, hash: stored.password_hash }
      : { op: 'legacy', password, legacy: stored.legacy }
  } catch (error) {
    if (error instanceof HashRefusal) return { ok: false, code: error.code, message: error.message }
    throw error
  }
}
