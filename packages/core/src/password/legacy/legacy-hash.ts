import { z } from 'zod'

/** Text encodings a legacy store may have hashed passwords in. */
export const passwordEncodings = ['utf8', 'utf16le', 'latin1', 'ascii'] as const
export type PasswordEncoding = (typeof passwordEncodings)[number]

const b64 = z.string().max(4096)
const digests = ['md4', 'md5', 'sha1', 'sha256', 'sha512'] as const

/**
 * An imported legacy hash, normalised at import so that login needs only a few
 * primitives: a salted digest, an HMAC, PBKDF2, scrypt, argon2, phpass or Firebase's
 * scrypt. Binary fields are base64. Stored as JSON in the user's `legacy_hash` column.
 */
export const legacyHashSchema = z.discriminatedUnion('format', [
  z.object({
    format: z.literal('digest'), digest: z.enum(digests), hash: b64,
    salt: b64.optional(), saltPosition: z.enum(['prefix', 'suffix']).optional(), passwordEncoding: z.enum(passwordEncodings),
  }),
  z.object({
    format: z.literal('hmac'), digest: z.enum(['md5', 'sha1', 'sha256', 'sha512']), key: b64, hash: b64,
    salt: b64.optional(), saltPosition: z.enum(['prefix', 'suffix']).optional(), passwordEncoding: z.enum(passwordEncodings),
  }),
  z.object({
    format: z.literal('pbkdf2'), digest: z.enum(['sha1', 'sha256', 'sha512']), iterations: z.number().int().positive(),
    salt: b64, hash: b64, passwordEncoding: z.enum(passwordEncodings),
  }),
  z.object({
    format: z.literal('scrypt'), N: z.number().int().positive(), r: z.number().int().positive(), p: z.number().int().positive(),
    salt: b64, hash: b64, passwordEncoding: z.enum(passwordEncodings),
  }),
  z.object({ format: z.literal('argon2'), phc: z.string().max(1024) }),
  z.object({ format: z.literal('phpass'), stored: z.string().max(128) }),
  z.object({
    format: z.literal('firebase-scrypt'), hash: b64, salt: b64, saltSeparator: b64,
    rounds: z.number().int().positive(), memCost: z.number().int().positive(), signerKey: b64,
  }),
])
export type LegacyHash = z.infer<typeof legacyHashSchema>

/** Key-derivation limits enforced at import, so no record can become a denial of service at login. */
export const importCapsSchema = z.strictObject({
  /** Highest bcrypt cost accepted. Default 14. */
  bcryptCost: z.number().int().min(4).max(31).optional(),
  /** Most PBKDF2 iterations (PHC, Django, ASP.NET Identity). Default 1,000,000. */
  pbkdf2Iterations: z.number().int().positive().optional(),
  /** Largest scrypt N·r (Firebase scrypt included). Default 2^20·8. */
  scryptNr: z.number().int().positive().optional(),
  /** Most argon2 memory, in KiB. Default 262,144 (256 MiB). */
  argon2MemoryKiB: z.number().int().positive().optional(),
  /** Most argon2 iterations (t). Default 10. */
  argon2Iterations: z.number().int().positive().optional(),
  /** Highest phpass / Drupal iteration count, as log2. Default 20. */
  phpassLog2: z.number().int().min(7).max(30).optional(),
})
export type ImportCaps = z.input<typeof importCapsSchema>

/** Every cap, resolved to a number. */
export type ResolvedCaps = { [K in keyof ImportCaps]-?: number }

export const DEFAULT_IMPORT_CAPS = {
  bcryptCost: 14,
  pbkdf2Iterations: 1_000_000,
  scryptNr: 2 ** 20 * 8,
  argon2MemoryKiB: 256 * 1024,
  argon2Iterations: 10,
  phpassLog2: 20,
} as const satisfies ResolvedCaps
