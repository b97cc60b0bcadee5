import { z } from 'zod'

const text = z.string().max(1024)
const metadata = z.record(z.string().max(256), z.unknown())

/**
 * A user as this API answers it: a whitelist of profile fields. Every other field a
 * callback returns (a `password`, a `password_hash`, a `salt` column of the legacy row) is
 * dropped here, so handing over a database row as it is never leaks its hash.
 */
export const legacyUserSchema = z.object({
  user_id: z.union([z.string().min(1).max(256), z.number().int().nonnegative()]).transform(String),
  email: text.optional(),
  email_verified: z.boolean().optional(),
  username: text.optional(),
  name: text.optional(),
  nickname: text.optional(),
  given_name: text.optional(),
  family_name: text.optional(),
  picture: text.optional(),
  user_metadata: metadata.optional(),
  app_metadata: metadata.optional(),
})
export type LegacyUser = z.input<typeof legacyUserSchema>
export type PublicLegacyUser = z.output<typeof legacyUserSchema>

/** Words of a key (`passwordHash`, `password_hash`, `pwd-salt`) that name a credential. */
const SECRET_WORDS = new Set(['password', 'passwd', 'pwd', 'pass', 'hash', 'hashed', 'salt', 'secret', 'credential', 'credentials'])
const isSecretKey = (key: string) =>
  key
    .replace(/([a-z0-9])([A-Z])/g, '$1_$2')
    .toLowerCase()
    .split(/[^a-z0-9]+/)
    .some((w) => SECRET_WORDS.has(w))
const HASH_VALUE = [
  /^\$2[abxy]?\$\d\d\$/, // bcrypt
  /^\$(argon2(id|i|d)|scrypt|pbkdf2[-\w]*|[1256]|[PHS]|sha(256|512)?crypt|y|7)\$/i, // PHC and crypt(3) forms, phpass, Drupal
  /^\{(s?sha(256|384|512)?|s?md5|crypt|pbkdf2[-\w]*)\}/i, // LDAP
  /^(pbkdf2_sha(1|256)|bcrypt(_sha256)?|argon2|scrypt|sha1|md5)\$/, // Django
]

/** The first place in `value` that holds a password or a hash of one, or null. */
export function findSecret(value: unknown, path: string[] = []): string | null {
  if (typeof value === 'string') return HASH_VALUE.some((re) => re.test(value)) ? path.join('.') || '(value)' : null
  if (value === null || typeof value !== 'object') return null
  for (const [key, inner] of Object.entries(value)) {
    if (isSecretKey(key) && inner !== null && inner !== undefined && inner !== '') return [...path, key].join('.')
    const found = findSecret(inner, [...path, key])
    if (found !== null) return found
  }
  return null
}
