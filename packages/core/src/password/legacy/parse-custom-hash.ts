import { z } from 'zod'
import { bcryptCost } from '../hash-pool.js'
import { DEFAULT_IMPORT_CAPS, passwordEncodings, type ImportCaps, type LegacyHash, type ResolvedCaps } from './legacy-hash.js'
import { parsePhpass } from './phpass.js'

const binaryEncodings = ['hex', 'base64', 'base64url', 'utf8', 'latin1'] as const
type BinaryEncoding = (typeof binaryEncodings)[number]
const encoded = z.strictObject({ value: z.string().min(1).max(4096), encoding: z.enum(binaryEncodings).optional() })

/** `custom_password_hash` as an import record gives it (Auth0's documented shape, extended). */
export const customPasswordHashSchema = z.strictObject({
  algorithm: z.string().min(1).max(64),
  hash: z.strictObject({
    value: z.string().min(1).max(4096),
    encoding: z.enum(binaryEncodings).optional(),
    /** hmac: the digest. */
    digest: z.string().max(16).optional(),
    /** hmac: the key. */
    key: encoded.optional(),
  }),
  salt: encoded.extend({ position: z.enum(['prefix', 'suffix']).optional() }).optional(),
  password: z.strictObject({ encoding: z.enum(passwordEncodings) }).optional(),
  /** scrypt without PHC form: key length, N, r and p. */
  keylen: z.number().int().positive().max(1024).optional(),
  cost: z.number().int().positive().optional(),
  blockSize: z.number().int().positive().optional(),
  parallelization: z.number().int().positive().optional(),
  /** Firebase scrypt: the project's hash parameters. */
  firebase: z.strictObject({
    signerKey: z.string().min(1).max(1024),
    saltSeparator: z.string().max(1024),
    rounds: z.number().int().positive().max(64),
    memCost: z.number().int().positive().max(32),
  }).optional(),
})
export type CustomPasswordHash = z.infer<typeof customPasswordHashSchema>

/** Why a record's hash was refused. `code` is what import failures report. */
export class HashRefusal extends Error {
  constructor(readonly code: 'unsupported_algorithm' | 'malformed_hash' | 'over_cap', message: string) {
    super(message)
  }
}

const DIGEST_BYTES = { md4: 16, md5: 16, sha1: 20, sha256: 32, sha512: 64 } as const
const PLAIN_DIGESTS = Object.keys(DIGEST_BYTES) as (keyof typeof DIGEST_BYTES)[]
const LDAP = { MD5: ['md5', false], SMD5: ['md5', true], SHA: ['sha1', false], SSHA: ['sha1', true], SSHA256: ['sha256', true], SSHA512: ['sha512', true] } as const

/**
 * Turns an import record's hash into what the store keeps: a bcrypt `password_hash`, or a
 * normalised {@link LegacyHash}. Unknown algorithms, malformed hashes and parameters over
 * the caps are refused here, at import, never at login.
 */
export function parseCustomHash(input: CustomPasswordHash, capsInput: ImportCaps = {}): { password_hash: string } | { legacy: LegacyHash } {
  const caps = resolveCaps(capsInput)
  const algorithm = input.algorithm.toLowerCase()
  const value = input.hash.value
  const passwordEncoding = input.password?.encoding ?? 'utf8'

  if (algorithm === 'bcrypt') return { password_hash: checkBcrypt(value, caps.bcryptCost) }

  if ((PLAIN_DIGESTS as string[]).includes(algorithm)) {
    const digest = algorithm as keyof typeof DIGEST_BYTES
    const hash = decode(value, input.hash.encoding ?? 'hex', 'hash')
    if (hash.length !== DIGEST_BYTES[digest]) throw new HashRefusal('malformed_hash', `a ${digest} hash is ${DIGEST_BYTES[digest]} bytes, not ${hash.length}`)
    return { legacy: { format: 'digest', digest, hash: hash.toString('base64'), ...saltOf(input), passwordEncoding } }
  }

  switch (algorithm) {
    case 'aspnet-membership-sha1': {
      // ASP.NET Membership: base64(sha1(salt + UTF-16LE password)), salt in base64.
      const hash = decode(value, input.hash.encoding ?? 'base64', 'hash')
      if (hash.length !== 20 || !input.salt) throw new HashRefusal('malformed_hash', 'an ASP.NET Membership hash is a 20-byte SHA-1 with a base64 salt')
      return { legacy: { format: 'digest', digest: 'sha1', hash: hash.toString('base64'), salt: decode(input.salt.value, input.salt.encoding ?? 'base64', 'salt').toString('base64'), saltPosition: 'prefix', passwordEncoding: 'utf16le' } }
    }
    case 'hmac': {
      const digest = (input.hash.digest ?? '').toLowerCase().replace('-', '')
      if (!['md5', 'sha1', 'sha256', 'sha512'].includes(digest)) throw new HashRefusal('malformed_hash', 'hmac needs hash.digest: md5, sha1, sha256 or sha512')
      if (!input.hash.key) throw new HashRefusal('malformed_hash', 'hmac needs hash.key')
      const hash = decode(value, input.hash.encoding ?? 'hex', 'hash')
      return {
        legacy: {
          format: 'hmac', digest: digest as 'md5', key: decode(input.hash.key.value, input.hash.key.encoding ?? 'utf8', 'key').toString('base64'),
          hash: hash.toString('base64'), ...saltOf(input), passwordEncoding,
        },
      }
    }
    case 'pbkdf2': {
      const parsed = parsePbkdf2Phc(value)
      capPbkdf2(parsed.iterations, caps.pbkdf2Iterations)
      return { legacy: { ...parsed, passwordEncoding } }
    }
    case 'django':
      return { legacy: { ...parseDjango(value, caps.pbkdf2Iterations), passwordEncoding: 'utf8' } }
    case 'aspnet-identity':
      return { legacy: parseAspNetIdentity(value, caps.pbkdf2Iterations) }
    case 'scrypt': {
      const parsed = value.startsWith('$scrypt$') ? parseScryptPhc(value) : {
        N: input.cost ?? 16384, r: input.blockSize ?? 8, p: input.parallelization ?? 1,
        salt: input.salt ? decode(input.salt.value, input.salt.encoding ?? 'base64', 'salt').toString('base64') : malformed('scrypt needs a salt'),
        hash: decode(value, input.hash.encoding ?? 'base64', 'hash').toString('base64'),
      }
      if (!isPowerOfTwo(parsed.N) || parsed.N < 2) throw new HashRefusal('malformed_hash', 'scrypt N must be a power of two')
      if (parsed.N * parsed.r > caps.scryptNr) throw new HashRefusal('over_cap', `scrypt N·r is ${parsed.N * parsed.r}, over the cap of ${caps.scryptNr}`)
      if (parsed.p > 16) throw new HashRefusal('over_cap', 'scrypt p is over 16')
      return { legacy: { format: 'scrypt', ...parsed, passwordEncoding } }
    }
    case 'argon2':
      return { legacy: { format: 'argon2', phc: checkArgon2(value, caps) } }
    case 'ldap':
      return { legacy: parseLdap(value) }
    case 'phpass':
    case 'drupal7': {
      const parsed = parsePhpass(value)
      if (!parsed || (algorithm === 'drupal7') !== (parsed.digest === 'sha512')) throw new HashRefusal('malformed_hash', `not a ${algorithm === 'drupal7' ? 'Drupal 7 ($S$)' : 'phpass ($P$ or $H$)'} hash`)
      if (parsed.log2 > caps.phpassLog2 || parsed.log2 < 7) throw new HashRefusal('over_cap', `2^${parsed.log2} iterations is outside 2^7 to 2^${caps.phpassLog2}`)
      return { legacy: { format: 'phpass', stored: value } }
    }
    case 'firebase-scrypt': {
      const f = input.firebase
      if (!f || !input.salt) throw new HashRefusal('malformed_hash', 'firebase-scrypt needs salt and firebase { signerKey, saltSeparator, rounds, memCost }')
      if (2 ** f.memCost * f.rounds > caps.scryptNr) throw new HashRefusal('over_cap', `scrypt N·r is ${2 ** f.memCost * f.rounds}, over the cap of ${caps.scryptNr}`)
      return {
        legacy: {
          format: 'firebase-scrypt', hash: decode(value, input.hash.encoding ?? 'base64', 'hash').toString('base64'),
          salt: decode(input.salt.value, input.salt.encoding ?? 'base64', 'salt').toString('base64'),
          saltSeparator: Buffer.from(f.saltSeparator, 'base64').toString('base64'), rounds: f.rounds, memCost: f.memCost,
          signerKey: Buffer.from(f.signerKey, 'base64').toString('base64'),
        },
      }
    }
    default:
      throw new HashRefusal('unsupported_algorithm', `unknown algorithm '${input.algorithm.slice(0, 64)}'`)
  }
}

/** A bcrypt `password_hash` as given to import, checked against the cost cap. */
export function checkBcrypt(value: string, cap: number): string {
  const cost = bcryptCost(value)
  if (cost === null) throw new HashRefusal('malformed_hash', 'not a bcrypt hash ($2a$, $2b$ or $2y$)')
  if (cost > cap || cost < 4) throw new HashRefusal('over_cap', `bcrypt cost ${cost} is outside 4 to ${cap}`)
  return value
}

function saltOf(input: CustomPasswordHash): { salt?: string; saltPosition?: 'prefix' | 'suffix' } {
  if (!input.salt) return {}
  return { salt: decode(input.salt.value, input.salt.encoding ?? 'utf8', 'salt').toString('base64'), saltPosition: input.salt.position ?? 'prefix' }
}

function decode(value: string, encoding: BinaryEncoding, what: string): Buffer {
  const valid = encoding === 'hex' ? /^(?:[0-9a-fA-F]{2})+$/.test(value)
    : encoding === 'base64' ? /^[A-Za-z0-9+/]+={0,2}$/.test(value)
      : encoding === 'base64url' ? /^[A-Za-z0-9_-]+={0,2}$/.test(value) : true
  if (!valid) throw new HashRefusal('malformed_hash', `${what} is not valid ${encoding}`)
  return Buffer.from(value, encoding)
}

/** PHC base64: no padding, and passlib's "ab64" uses '.' for '+'. */
function phcBase64(text: string, what: string): string {
  const normalized = text.replace(/\./g, '+')
  if (!/^[A-Za-z0-9+/]*={0,2}$/.test(normalized) || normalized.length === 0) throw new HashRefusal('malformed_hash', `${what} is not base64`)
  return Buffer.from(normalized, 'base64').toString('base64')
}

function phcParams(text: string): Record<string, number> {
  const params: Record<string, number> = {}
  for (const part of text.split(',')) {
    const [k, v] = part.split('=')
    if (!k || v === undefined || !/^\d+$/.test(v)) throw new HashRefusal('malformed_hash', `bad PHC parameter '${part.slice(0, 32)}'`)
    params[k] = Number(v)
  }
  return params
}

function parsePbkdf2Phc(value: string) {
  const m = /^\$pbkdf2(?:-(sha1|sha256|sha512))?\$([^$]+)\$([^$]+)\$([^$]+)$/.exec(value)
  if (!m) throw new HashRefusal('malformed_hash', 'pbkdf2 must be in PHC form: $pbkdf2-<digest>$i=…,l=…$salt$hash')
  const params = phcParams(m[2]!)
  const iterations = params['i'] ?? params['rounds']
  if (!iterations) throw new HashRefusal('malformed_hash', 'pbkdf2 PHC needs i=<iterations>')
  const hash = phcBase64(m[4]!, 'hash')
  if (params['l'] !== undefined && Buffer.from(hash, 'base64').length !== params['l']) throw new HashRefusal('malformed_hash', 'pbkdf2 hash length differs from l')
  return { format: 'pbkdf2' as const, digest: (m[1] ?? 'sha1') as 'sha1', iterations, salt: phcBase64(m[3]!, 'salt'), hash }
}

function capPbkdf2(iterations: number, cap: number): void {
  if (iterations > cap) throw new HashRefusal('over_cap', `${iterations} pbkdf2 iterations is over the cap of ${cap}`)
}

/** The caps in force: each one given, or its default. */
export function resolveCaps(input: ImportCaps): ResolvedCaps {
  return {
    bcryptCost: input.bcryptCost ?? DEFAULT_IMPORT_CAPS.bcryptCost,
    pbkdf2Iterations: input.pbkdf2Iterations ?? DEFAULT_IMPORT_CAPS.pbkdf2Iterations,
    scryptNr: input.scryptNr ?? DEFAULT_IMPORT_CAPS.scryptNr,
    argon2MemoryKiB: input.argon2MemoryKiB ?? DEFAULT_IMPORT_CAPS.argon2MemoryKiB,
    argon2Iterations: input.argon2Iterations ?? DEFAULT_IMPORT_CAPS.argon2Iterations,
    phpassLog2: input.phpassLog2 ?? DEFAULT_IMPORT_CAPS.phpassLog2,
  }
}

function parseDjango(value: string, cap: number) {
  const m = /^pbkdf2_(sha1|sha256)\$(\d+)\$([^$]+)\$([A-Za-z0-9+/]+=*)$/.exec(value)
  if (!m) throw new HashRefusal('malformed_hash', 'a Django hash looks like pbkdf2_sha256$<iterations>$<salt>$<hash>')
  const iterations = Number(m[2])
  capPbkdf2(iterations, cap)
  // Django uses the salt's text itself, not decoded bytes.
  return { format: 'pbkdf2' as const, digest: m[1] as 'sha1', iterations, salt: Buffer.from(m[3]!, 'utf8').toString('base64'), hash: m[4]! }
}

function parseAspNetIdentity(value: string, cap: number): LegacyHash {
  const blob = decode(value, 'base64', 'hash')
  if (blob[0] === 0x00 && blob.length === 49) {
    // v2: PBKDF2-HMAC-SHA1, 1000 iterations, 16-byte salt, 32-byte subkey.
    return { format: 'pbkdf2', digest: 'sha1', iterations: 1000, salt: blob.subarray(1, 17).toString('base64'), hash: blob.subarray(17).toString('base64'), passwordEncoding: 'utf8' }
  }
  if (blob[0] === 0x01 && blob.length >= 13) {
    // v3: prf (0 SHA1, 1 SHA256, 2 SHA512), iterations and salt length, big-endian.
    const prf = blob.readUInt32BE(1)
    const iterations = blob.readUInt32BE(5)
    const saltLength = blob.readUInt32BE(9)
    const digest = (['sha1', 'sha256', 'sha512'] as const)[prf]
    if (!digest || saltLength < 1 || 13 + saltLength >= blob.length) throw new HashRefusal('malformed_hash', 'malformed ASP.NET Identity v3 hash')
    capPbkdf2(iterations, cap)
    return { format: 'pbkdf2', digest, iterations, salt: blob.subarray(13, 13 + saltLength).toString('base64'), hash: blob.subarray(13 + saltLength).toString('base64'), passwordEncoding: 'utf8' }
  }
  throw new HashRefusal('malformed_hash', 'not an ASP.NET Identity v2 or v3 hash')
}

function parseScryptPhc(value: string) {
  const m = /^\$scrypt\$([^$]+)\$([^$]+)\$([^$]+)$/.exec(value)
  if (!m) throw new HashRefusal('malformed_hash', 'scrypt PHC looks like $scrypt$ln=…,r=…,p=…$salt$hash')
  const params = phcParams(m[1]!)
  const ln = params['ln']
  if (ln === undefined) throw new HashRefusal('malformed_hash', 'scrypt PHC needs ln')
  // ln of 63 or less is log2(N); a larger value is N itself, which must be a power of two.
  const N = ln <= 63 ? 2 ** ln : ln
  return { N, r: params['r'] ?? 8, p: params['p'] ?? 1, salt: phcBase64(m[2]!, 'salt'), hash: phcBase64(m[3]!, 'hash') }
}

function checkArgon2(value: string, caps: ResolvedCaps): string {
  const m = /^\$argon2(id|i|d)\$(?:v=(\d+)\$)?([^$]+)\$([A-Za-z0-9+/]+)\$([A-Za-z0-9+/]+)$/.exec(value)
  if (!m) throw new HashRefusal('malformed_hash', 'argon2 must be in PHC form: $argon2id$v=19$m=…,t=…,p=…$salt$hash')
  const params = phcParams(m[3]!)
  if (!params['m'] || !params['t'] || !params['p']) throw new HashRefusal('malformed_hash', 'argon2 PHC needs m, t and p')
  if (params['m'] > caps.argon2MemoryKiB) throw new HashRefusal('over_cap', `argon2 memory ${params['m']} KiB is over the cap of ${caps.argon2MemoryKiB}`)
  if (params['t'] > caps.argon2Iterations) throw new HashRefusal('over_cap', `argon2 t=${params['t']} is over the cap of ${caps.argon2Iterations}`)
  if (params['p'] > 16) throw new HashRefusal('over_cap', 'argon2 p is over 16')
  return value
}

function parseLdap(value: string): LegacyHash {
  const m = /^\{([A-Z0-9]+)\}([A-Za-z0-9+/]+=*)$/.exec(value)
  const scheme = m?.[1] as keyof typeof LDAP | undefined
  if (!m || !scheme || !(scheme in LDAP)) throw new HashRefusal(m ? 'unsupported_algorithm' : 'malformed_hash', 'an LDAP hash is {MD5}, {SMD5}, {SHA}, {SSHA}, {SSHA256} or {SSHA512} and base64')
  const [digest, saltedScheme] = LDAP[scheme]
  const bytes = Buffer.from(m[2]!, 'base64')
  const size = DIGEST_BYTES[digest]
  if (saltedScheme ? bytes.length <= size : bytes.length !== size) throw new HashRefusal('malformed_hash', `a {${scheme}} hash has the wrong length`)
  return {
    format: 'digest', digest, hash: bytes.subarray(0, size).toString('base64'), passwordEncoding: 'utf8',
    ...(saltedScheme ? { salt: bytes.subarray(size).toString('base64'), saltPosition: 'suffix' as const } : {}),
  }
}

function malformed(message: string): never {
  throw new HashRefusal('malformed_hash', message)
}

function isPowerOfTwo(n: number): boolean {
  return Number.isInteger(n) && n > 0 && (n & (n - 1)) === 0 || (n > 2 ** 30 && Number.isInteger(Math.log2(n)))
}
