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
    format: z.literal('digest'),
    digest: z.enum(digests),
    hash: b64,
    salt: b64.optional(),
    saltPosition: z.enum(['prefix', 'suffix']).optional(),
    passwordEncoding: z.enum(passwordEncodings),
  }),
  z.object({
    format: z.literal('hmac'),
    digest: z.enum(['md5', 'sha1', 'sha256', 'sha512']),
    key: b64,
    hash: b64,
    salt: b64.optional(),
    saltPosition: z.enum(['prefix', 'suffix']).optional(),
    passwordEncoding: z.enum(passwordEncodings),
  }),
  z.object({
    format: z.literal('pbkdf2'),
    digest: z.enum(['sha1', 'sha256', 'sha512']),
    iterations: z.number().int().positive(),
    salt: b64,
    hash: b64,
    passwordEncoding: z.enum(passwordEncodings),
  }),
  z.object({
    format: z.literal('scrypt'),
    N: z.number().int().positive(),
    r: z.number().int().positive(),
    p: z.number().int().positive(),
    salt: b64,
    hash: b64,
    passwordEncoding: z.enum(passwordEncodings),
  }),
  z.object({ format: z.literal('argon2'), phc: z.string().max(1024) }),
  z.object({ format: z.literal('phpass'), stored: z.string().max(128) }),
  z.object({
    format: z.literal('firebase-scrypt'),
    hash: b64,
    salt: b64,
    saltSeparator: b64,
    rounds: z.number().int().positive(),
    memCost: z.number().int().positive(),
    signerKey: b64,
  }),
])
export type LegacyHash = z.infer<typeof legacyHashSchema>

/**
 * Key-derivation limits enforced at import, so no record can become a denial of service at
 * login. Every parameter that multiplies the cost of one verification is bounded: PBKDF2's
 * iterations times its output blocks, scrypt's N·r·p, argon2's memory times its passes.
 * The defaults keep the dearest record that imports at about 4 bcrypt compares at cost 10
 * (measured per format by `bench/caps`).
 */
export const importCapsSchema = z.strictObject({
  /** Highest bcrypt cost accepted. Default 12 (4 compares at cost 10). */
  bcryptCost: z.number().int().min(4).max(31).optional(),
  /**
   * Most PBKDF2 work (PHC, Django, ASP.NET Identity): iterations × output blocks of the digest,
   * doubled for SHA-512. Default 600,000 (Django's 600,000 × SHA-256, or 300,000 × SHA-512).
   */
  pbkdf2Iterations: z.number().int().positive().optional(),
  /** Largest scrypt N·r·p (Firebase scrypt included, where p is 1). Default 2^19 (N 2^16, r 8, p 1; 64 MiB). */
  scryptNrp: z.number().int().positive().optional(),
  /** Most argon2 memory, in KiB. Default 65,536 (64 MiB). */
  argon2MemoryKiB: z.number().int().positive().optional(),
  /** Most argon2 passes (t). Default 10. */
  argon2Iterations: z.number().int().positive().optional(),
  /** Most argon2 memory × passes, in KiB. Default 131,072 (64 MiB × 2, or 19 MiB × 6). */
  argon2MemoryTimeKiB: z.number().int().positive().optional(),
  /** Highest phpass / Drupal 7 iteration count, as log2. Default 16 (WordPress uses 2^13, Drupal 7 2^15). */
  phpassLog2: z.number().int().min(7).max(30).optional(),
})
export type ImportCaps = z.input<typeof importCapsSchema>

/** Every cap, resolved to a number. */
export type ResolvedCaps = { [K in keyof ImportCaps]-?: number }

export const DEFAULT_IMPORT_CAPS = {
  bcryptCost: 12,
  pbkdf2Iterations: 600_000,
  scryptNrp: 2 ** 19,
  argon2MemoryKiB: 64 * 1024,
  argon2Iterations: 10,
  argon2MemoryTimeKiB: 128 * 1024,
  phpassLog2: 16,
} as const satisfies ResolvedCaps

/**
 * The shortest decoded digest, salt or key each format accepts, in bytes. A digest that
 * decodes to nothing would be compared as 0 bytes against 0 bytes and match any password,
 * so anything below these is refused at import. Plain digests, HMACs, LDAP, phpass and
 * ASP.NET Membership must have exactly their digest's length.
 */
export const MINIMUM_BYTES = {
  /** Output of PBKDF2 (PHC, Django, ASP.NET Identity), scrypt and argon2: 128 bits. */
  kdfHash: 16,
  /** A salt, wherever a format carries one. */
  salt: 1,
  /** argon2's own floor for its salt. */
  argon2Salt: 8,
  /** An HMAC key. */
  hmacKey: 1,
  /** Firebase's signer key (64 bytes in real projects); the hash is as long as the key. */
  firebaseSignerKey: 16,
  /** Verification refuses to compare fewer bytes than this, whatever the stored record says. */
  compared: 16,
} as const

/** The longest KDF output accepted, in bytes: beyond any real format, and it bounds the work. */
export const MAXIMUM_KDF_BYTES = 1024
