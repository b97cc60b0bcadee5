import { dictionary } from '@zxcvbn-ts/language-common'
import { codePointLength } from './password-text.js'

let common: ReadonlySet<string> | null = null
/** How many built-in entries reach each minimum length, counted once per process. */
const commonCountAtLength = new Map<number, number>()

/**
 * The common-password list: zxcvbn-ts's "passwords-common" (about 49,000 entries, from
 * leaked-password frequency lists), lower-cased. Decompressed on first use only.
 */
export function commonPasswords(): ReadonlySet<string> {
  common ??= new Set((dictionary['passwords-common'] as string[]).map((p) => p.toLowerCase()))
  return common
}

/**
 * The blocklist for a minimum length and how many of its entries reach it. The built-in list is kept whole (it is in
 * memory anyway, and a form should still see "common" on a short common password); a host's list, which may be
 * large, keeps only entries that reach the minimum, NFKC-normalised and lower-cased: a shorter one is refused by the
 * length rule already.
 */
export function blocklistAtLength(list: Iterable<string> | undefined, minLength: number): { set: ReadonlySet<string>; reaching: number } {
  if (list === undefined) {
    const set = commonPasswords()
    let reaching = commonCountAtLength.get(minLength)
    if (reaching === undefined) {
      reaching = 0
      for (const entry of set) if (codePointLength(entry) >= minLength) reaching += 1
      commonCountAtLength.set(minLength, reaching)
    }
    return { set, reaching }
  }
  const kept = new Set<string>()
  for (const entry of list) {
    const normalized = entry.normalize('NFKC').toLowerCase()
    if (codePointLength(normalized) >= minLength) kept.add(normalized)
  }
  return { set: kept, reaching: kept.size }
}

/** Context words shorter than this match only the whole password: inside one, they would refuse too much. */
export const CONTEXT_WORD_MIN_INSIDE = 3

/**
 * A service's context words (product, company, codenames), lower-cased after NFKC: those of 3+ code points are
 * refused anywhere inside a password, as personal info is; shorter ones only as the whole password.
 */
export function contextWordsOf(words: readonly string[]): { whole: ReadonlySet<string>; inside: readonly string[] } {
  const normalized = words.map((w) => w.normalize('NFKC').toLowerCase()).filter((w) => w.length > 0)
  return {
    whole: new Set(normalized),
    inside: [...new Set(normalized.filter((w) => codePointLength(w) >= CONTEXT_WORD_MIN_INSIDE))],
  }
}
