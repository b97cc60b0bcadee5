import { createHash } from 'node:crypto'
import { z } from 'zod'
import { commonPasswords } from '../password/dictionary.js'

/** Options of the breached-password check. */
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
   * starts with them. Off unless given (`pwnedPasswordsRangeApi()` is a ready one); the
   * password itself never leaves the process. When it fails, the local list alone decides.
   */
  rangeApi: z.custom<(prefix: string) => Promise<string[]>>((v) => typeof v === 'function', 'must be a function').optional(),
})
export type BreachedPasswordOptions = z.input<typeof breachedPasswordsSchema>

/** Refuses passwords known from breaches, at signup, change and reset. */
export class BreachedPasswords {
  private readonly enabled: boolean
  private readonly list: ReadonlySet<string>
  private readonly rangeApi: ((prefix: string) => Promise<string[]>) | undefined

  constructor(options: BreachedPasswordOptions | boolean) {
    const o = typeof options === 'object' ? options : { enabled: options }
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
    let suffixes: string[]
    try {
      suffixes = await this.rangeApi(sha1.slice(0, 5))
    } catch (error) {
      // An outage of a remote service must not stop every signup; the local list has already been checked.
      // The warning names neither the password nor its prefix.
      process.emitWarning(`The breached-password range API failed, so only the local list was checked: ${messageOf(error)}`, {
        code: 'LATCHKEY_RANGE_API_FAILED',
      })
      return false
    }
    return suffixes.some((s) => s.trim().toUpperCase().startsWith(sha1.slice(5)))
  }
}

function messageOf(error: unknown): string {
  return error instanceof Error ? `${error.name}: ${error.message}` : 'unknown error'
}
