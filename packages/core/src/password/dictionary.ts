import { dictionary } from '@zxcvbn-ts/language-common'

let common: ReadonlySet<string> | null = null

/**
 * The common-password list: zxcvbn-ts's "passwords-common" (about 49,000 entries, from
 * leaked-password frequency lists), lower-cased. Decompressed on first use only.
 */
export function commonPasswords(): ReadonlySet<string> {
  common ??= new Set((dictionary['passwords-common'] as string[]).map((p) => p.toLowerCase()))
  return common
}
