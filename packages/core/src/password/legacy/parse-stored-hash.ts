import { z } from 'zod'
import { customPasswordHashSchema, HashRefusal, parseCustomHash, type CustomPasswordHash } from './parse-custom-hash.js'
import type { ImportCaps, LegacyHash } from './legacy-hash.js'

/**
 * A stored hash as a legacy store keeps it: a self-describing string (bcrypt, phpass,
 * Drupal 7, PHC pbkdf2 / scrypt / argon2, Django, LDAP), or, for formats whose string does
 * not say how it was made (a salted SHA-1, an HMAC, ASP.NET, Firebase), the
 * `custom_password_hash` object that bulk import takes.
 */
export const storedHashSchema = z.union([z.string().min(1).max(4096), customPasswordHashSchema])
export type StoredHash = z.infer<typeof storedHashSchema>

/** Prefixes that name their format, in the order they are tried. */
const SELF_DESCRIBING: [RegExp, string][] = [
  [/^\$2[aby]\$/, 'bcrypt'],
  [/^\$[PH]\$/, 'phpass'],
  [/^\$S\$/, 'drupal7'],
  [/^\$pbkdf2(?:-[a-z0-9]+)?\$/, 'pbkdf2'],
  [/^\$scrypt\$/, 'scrypt'],
  [/^\$argon2(?:id|i|d)\$/, 'argon2'],
  [/^pbkdf2_sha(?:1|256)\$/, 'django'],
  [/^\{[A-Z0-9]+\}/, 'ldap'],
]

/**
 * Turns a stored hash into what the hash pool verifies: a bcrypt hash, or a normalised
 * {@link LegacyHash}. The same decoders, minimum lengths and cost caps as bulk import
 * (`parseCustomHash`): a hash refused there is refused here with the same {@link HashRefusal}.
 * A string that names no format is `unsupported_algorithm`.
 */
export function parseStoredHash(hash: StoredHash, caps: ImportCaps = {}): { password_hash: string } | { legacy: LegacyHash } {
  if (typeof hash !== 'string') return parseCustomHash(hash, caps)
  const algorithm = SELF_DESCRIBING.find(([prefix]) => prefix.test(hash))?.[1]
  if (!algorithm) {
    throw new HashRefusal(
      'unsupported_algorithm',
      'this hash string names no format (bcrypt, phpass, Drupal 7, PHC pbkdf2/scrypt/argon2, Django, LDAP); ' +
        'give other formats as { algorithm, hash, salt }',
    )
  }
  const record: CustomPasswordHash = { algorithm, hash: { value: hash } }
  return parseCustomHash(record, caps)
}
