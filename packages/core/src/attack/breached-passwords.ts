import { createHash } from 'node:crypto'
import { z } from 'zod'
import { commonPasswords } from '../password/dictionary.js'

/** Options of the breached-password check. Off by default. */
export const breachedPasswordsSchema = z.strictObject({
  enabled: z.boolean().optional(),
  /**
   * Where leaked passwords come from: a list you supply, or by default the ~49,000
   * most common leaked passwords of @zxcvbn-ts/language-common.
   */
  list: z.custom<Iterable<string>>((v) => typeof v === 'object' && v !== null && Symbol.iterator in v, 'must be iterable').optional(),
  /**
   * A k-anonymity range API (Have I Been Pwned's shape): given the first five hex
   * characters of a password's SHA-1, answer the remaining 35 of every leaked hash that
   * starts with them. Off unless given; the password itself never leaves the process.
   */
  rangeApi: z.custom<(prefix: string) => Promise<string[]>>((v) => typeof v === 'function', 'must be a function').optional(),
})
export type BreachedPasswordOptions = z.input<typeof breachedPasswordsSchema>

/** Refuses passwords known from breaches, at signup, change and reset. */
export class BreachedPasswords {
  private readonly enabled: boolean
  private readonly list: ReadonlySet<string>
  private readonly rangeApi: ((prefix: string) => Promise<string[]>) | undefined

  constructor(options: BreachedPasswordOptions | boolean | undefined) {
    const o = typeof options === 'object' ? options : { enabled: options ?? false }
    this.enabled = o.enabled ?? true
    this.list = 'list' in o && o.list ? new Set([...o.list].map((p) => p.toLowerCase())) : commonPasswords()
    this.rangeApi = 'rangeApi' in o ? o.rangeApi : undefined
  }

  /** Whether a (NFKC-normalised) password is known to have leaked. */
  async isLeaked(password: string): Promise<boolean> {
    if (!this.enabled) return false
    if (this.list.has(password.toLowerCase())) return true
    if (!this.rangeApi) return false
    const sha1 = createHash('sha1').update(password, 'utf8').digest('hex').toUpperCase()
    const suffixes = await this.rangeApi(sha1.slice(0, 5))
    return suffixes.some((s) => s.trim().toUpperCase().startsWith(sha1.slice(5)))
  }
}
