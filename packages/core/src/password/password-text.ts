/** bcrypt reads only the first 72 bytes; latchkey refuses longer passwords rather than truncate. */
export const BCRYPT_MAX_BYTES = 72

/** The largest password input accepted at all, in UTF-16 units (legacy stores included). */
export const MAX_PASSWORD_INPUT = 1024

/** Passwords latchkey hashes are NFKC-normalised before hashing and before comparing. */
export function normalizePassword(password: string): string {
  return password.normalize('NFKC')
}

/** Length in code points, the unit every policy rule counts in. */
export function codePointLength(s: string): number {
  let n = 0
  for (const _ of s) n += 1
  return n
}

/** Whether a normalised password fits in bcrypt's 72 bytes of UTF-8. */
export function fitsBcrypt(normalized: string): boolean {
  return Buffer.byteLength(normalized, 'utf8') <= BCRYPT_MAX_BYTES
}
