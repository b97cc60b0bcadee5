import { createHash } from 'node:crypto'

export const PHPASS_ITOA64 = './0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz'

/** Parses `$P$`, `$H$` (phpass, md5) and `$S$` (Drupal 7, sha512) hashes; null if malformed. */
export function parsePhpass(stored: string): { digest: 'md5' | 'sha512'; log2: number; salt: string; encoded: string } | null {
  const m = /^\$([PHS])\$([./0-9A-Za-z])([./0-9A-Za-z]{8})([./0-9A-Za-z]+)$/.exec(stored)
  if (!m) return null
  const digest = m[1] === 'S' ? 'sha512' : 'md5'
  const expected = digest === 'md5' ? 22 : 43
  if (m[4]!.length !== expected) return null
  return { digest, log2: PHPASS_ITOA64.indexOf(m[2]!), salt: m[3]!, encoded: m[4]! }
}

/** phpass's own base64: little-endian groups over ./0-9A-Za-z. */
function encode64(input: Buffer, count: number): string {
  let out = ''
  let i = 0
  while (i < count) {
    let value = input[i++]!
    out += PHPASS_ITOA64[value & 0x3f]
    if (i < count) value |= input[i]! << 8
    out += PHPASS_ITOA64[(value >> 6) & 0x3f]
    if (i++ >= count) break
    if (i < count) value |= input[i]! << 16
    out += PHPASS_ITOA64[(value >> 12) & 0x3f]
    if (i++ >= count) break
    out += PHPASS_ITOA64[(value >> 18) & 0x3f]
  }
  return out
}

/** The encoded hash part phpass (or Drupal 7) would compute for this password. */
export function phpassCompute(parsed: NonNullable<ReturnType<typeof parsePhpass>>, password: Buffer): string {
  let hash = createHash(parsed.digest).update(parsed.salt).update(password).digest()
  for (let n = 2 ** parsed.log2; n > 0; n--) hash = createHash(parsed.digest).update(hash).update(password).digest()
  return encode64(hash, hash.length).slice(0, parsed.encoded.length)
}
