import { z } from 'zod'
import type { PolicyRuleResult } from '../errors/errors.js'
import { blocklistAtLength, contextWordsOf } from './dictionary.js'
import { BCRYPT_MAX_BYTES, codePointLength, fitsBcrypt } from './password-text.js'

/**
 * `nist` is NIST SP 800-63B rev 4 for a password that is the only factor: 15+ characters, no
 * composition rules, blocklist and breached list on. `fair`, `good` and `excellent` impose
 * character classes, which ASVS 5.0 (6.2.5) and NIST advise against; they exist only for
 * compatibility with the products latchkey replaces.
 */
export const passwordPolicyLevels = ['none', 'low', 'fair', 'good', 'excellent', 'nist'] as const
export type PasswordPolicyLevel = (typeof passwordPolicyLevels)[number]

/** Options of a built-in connection's password policy. Existing passwords keep working. */
export const passwordPolicyOptionsSchema = z.strictObject({
  /**
   * Without a level: ≥8, no composition rules (ASVS 5.0 V6). nist: ≥15, no composition rules. Compatibility only
   * (they impose character classes): fair: ≥8 with lower, upper and digit; good: ≥8 from 3 of 4 classes; excellent:
   * ≥10 from 3 of 4 classes, no more than 2 identical characters in a row. Also none: ≥1; low: ≥6.
   */
  level: z.enum(passwordPolicyLevels).optional(),
  /** Overrides the level's minimum length, in code points after NFKC (1–72). */
  minLength: z.number().int().min(1).max(72).optional(),
  /** Refuses any of the last n passwords, the current one included (0–24). */
  history: z.number().int().min(0).max(24).optional(),
  /**
   * Refuses common passwords (whole password, case-insensitive); on unless `false`. The built-in list, or `list`, a larger one
   * of your own instead (only entries that reach the minimum length are kept). `custom` adds context words (your
   * product, company, codenames), refused anywhere inside the password, case-insensitively.
   */
  dictionary: z
    .union([
      z.boolean(),
      z.strictObject({
        enabled: z.boolean().optional(),
        list: z.custom<Iterable<string>>((v) => typeof v === 'object' && v !== null && Symbol.iterator in v, 'must be iterable').optional(),
        custom: z.array(z.string().max(1024)).max(1_000_000).optional(),
      }),
    ])
    .optional(),
  /** Refuses passwords containing the user's name, username, nickname, user_metadata name/first/last, or email local part. */
  noPersonalInfo: z.boolean().optional(),
})
export type PasswordPolicyOptions = z.input<typeof passwordPolicyOptionsSchema>

/** What the personal-info rule may look at. */
export interface PersonalInfo {
  email?: string | null | undefined
  username?: string | null | undefined
  name?: string | null | undefined
  nickname?: string | null | undefined
  user_metadata?: Record<string, unknown> | null | undefined
}

// OWASP's special characters: space and !"#$%&'()*+,-./:;<=>?@[\]^_`{|}~
const SPECIAL = /[ !"#$%&'()*+,\-./:;<=>?@[\\\]^_`{|}~]/
const LOWER = /\p{Ll}/u
const UPPER = /\p{Lu}/u
const DIGIT = /\p{Nd}/u
const LEVEL_MIN_LENGTH: Record<PasswordPolicyLevel, number> = { none: 1, low: 6, fair: 8, good: 8, excellent: 10, nist: 15 }
/** The minimum length without a level: ASVS 5.0 6.2.1. */
export const DEFAULT_MIN_LENGTH = 8
/** ASVS 5.0 6.2.4: the blocklist should hold at least the top 3,000 passwords that the policy would otherwise allow. */
export const MIN_BLOCKLIST_ENTRIES = 3000

/**
 * A compiled password policy. `evaluate` runs every synchronous rule and returns all of
 * them, met or not; password history needs bcrypt and is checked by the connection.
 */
export class PasswordPolicy {
  /** The level asked for; undefined for the default (8+ characters, no composition rules). */
  readonly level: PasswordPolicyLevel | undefined
  readonly minLength: number
  readonly history: number
  /** The common passwords; empty when the dictionary is off. */
  private readonly blocklist: ReadonlySet<string>
  /** How many common passwords of at least the minimum length the dictionary rule refuses. */
  readonly blocklistSize: number
  private readonly contextWords: { whole: ReadonlySet<string>; inside: readonly string[] }
  private readonly noPersonalInfo: boolean

  constructor(options: PasswordPolicyOptions = {}) {
    const o = passwordPolicyOptionsSchema.parse(options)
    this.level = o.level
    this.minLength = o.minLength ?? (o.level ? LEVEL_MIN_LENGTH[o.level] : DEFAULT_MIN_LENGTH)
    this.history = o.history ?? 0
    // Secure by default: the common-password list is on unless the host turns it off.
    const dict = typeof o.dictionary === 'object' ? o.dictionary : { enabled: o.dictionary ?? true }
    const enabled = dict.enabled ?? true
    const blocklist = enabled
      ? blocklistAtLength(('list' in dict && dict.list) || undefined, this.minLength)
      : { set: new Set<string>(), reaching: 0 }
    this.blocklist = blocklist.set
    this.blocklistSize = blocklist.reaching
    if (enabled && this.blocklistSize < MIN_BLOCKLIST_ENTRIES) {
      // A minimum this long leaves too few of the list's entries to matter; say so once, at construction.
      process.emitWarning(
        `The password blocklist has only ${this.blocklistSize} entries of ${this.minLength}+ characters (ASVS 6.2.4 asks for ` +
          `${MIN_BLOCKLIST_ENTRIES}): pass a larger list as passwordPolicy.dictionary.list, and consider breachedPasswords.rangeApi.`,
        { code: 'LATCHKEY_SMALL_BLOCKLIST' },
      )
    }
    this.contextWords = contextWordsOf(('custom' in dict ? dict.custom : undefined) ?? [])
    this.noPersonalInfo = o.noPersonalInfo ?? false
  }

  /** Every synchronous rule for a NFKC-normalised candidate. */
  evaluate(password: string, info: PersonalInfo = {}): PolicyRuleResult[] {
    const rules: PolicyRuleResult[] = []
    const rule = (id: string, message: string, verified: boolean) => rules.push({ id, message, verified })
    const length = codePointLength(password)

    rule('min_length', `At least ${this.minLength} characters`, length >= this.minLength)
    rule('max_bytes', `At most ${BCRYPT_MAX_BYTES} bytes`, fitsBcrypt(password))
    const classes = {
      lower: LOWER.test(password),
      upper: UPPER.test(password),
      digit: DIGIT.test(password),
      special: SPECIAL.test(password),
    }
    if (this.level === 'fair') {
      rule('lower_case', 'Lower case letters (a-z)', classes.lower)
      rule('upper_case', 'Upper case letters (A-Z)', classes.upper)
      rule('digits', 'Numbers (0-9)', classes.digit)
    }
    if (this.level === 'good' || this.level === 'excellent') {
      const count = Object.values(classes).filter(Boolean).length
      rule('character_classes', 'At least 3 of: lower case, upper case, numbers, special characters', count >= 3)
    }
    if (this.level === 'excellent') {
      rule('no_repeats', 'No more than 2 identical characters in a row', !/(.)\1\1/su.test(password))
    }
    if (this.blocklist.size > 0 || this.contextWords.whole.size > 0) {
      const lower = password.toLowerCase()
      const common =
        this.blocklist.has(lower) || this.contextWords.whole.has(lower) || this.contextWords.inside.some((w) => lower.includes(w))
      rule('dictionary', 'Not a common password, and no word specific to this service', !common)
    }
    if (this.noPersonalInfo) {
      const lower = password.toLowerCase()
      const hit = personalFragments(info).some((f) => lower.includes(f))
      rule('personal_info', 'Does not contain your name, username or email', !hit)
    }
    return rules
  }
}

/**
 * The personal-info fragments: each value, and each word of it, lower-cased, keeping those
 * of 3 or more code points. "Ana María" gives "ana maría", "ana" and "maría".
 */
export function personalFragments(info: PersonalInfo): string[] {
  const meta = info.user_metadata ?? {}
  const values = [
    info.name,
    info.username,
    info.nickname,
    meta['name'],
    meta['first'],
    meta['last'],
    info.email ? info.email.slice(0, info.email.lastIndexOf('@')) : null,
  ]
  const fragments = new Set<string>()
  for (const value of values) {
    if (typeof value !== 'string') continue
    const lower = value.toLowerCase()
    for (const piece of [lower, ...lower.split(/[\s._\-+@]+/u)]) {
      if (codePointLength(piece) >= 3) fragments.add(piece)
    }
  }
  return [...fragments]
}
