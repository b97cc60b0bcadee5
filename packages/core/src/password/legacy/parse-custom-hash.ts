import { z } from 'zod'
import { bcryptCost } from '../hash-pool.js'
import { parseArgon2Phc } from './argon2-phc.js'
import {
  DEFAULT_IMPORT_CAPS,
  MAXIMUM_KDF_BYTES,
  MINIMUM_BYTES,
  passwordEncodings,
  type ImportCaps,
  type LegacyHash,
  type ResolvedCaps,
} from './legacy-hash.js'
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
  firebase: z
    .strictObject({
      signerKey: z.string().min(1).max(1024),
      saltSeparator: z.string().max(1024),
      rounds: z.number().int().positive().max(64),
      memCost: z.number().int().positive().max(32),
    })
    .optional(),
})
export type CustomPasswordHash = z.infer<typeof customPasswordHashSchema>

/** Why a record's hash was refused. `code` is what import failures report. */
export class HashRefusal extends Error {
  constructor(
    readonly code: 'unsupported_algorithm' | 'malformed_hash' | 'over_cap',
    message: string,
  ) {
    super(message)
  }
}

const DIGEST_BYTES = { md4: 16, md5: 16, sha1: 20, sha256: 32, sha512: 64 } as const
const PLAIN_DIGESTS = Object.keys(DIGEST_BYTES) as (keyof typeof DIGEST_BYTES)[]
const LDAP = {
  MD5: ['md5', false],
  SMD5: ['md5', true],
  SHA: ['sha1', false],
  SSHA: ['sha1', true],
  SSHA256: ['sha256', true],
  SSHA512: ['sha512', true],
} as const

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
    if (hash.length !== DIGEST_BYTES[digest])
      throw new HashRefusal('malformed_hash', `a ${digest} hash is ${DIGEST_BYTES[digest]} bytes, not ${hash.length}`)
    return { legacy: { format: 'digest', digest, hash: hash.toString('base64'), ...saltOf(input), passwordEncoding } }
  }

  switch (algorithm) {
    case 'aspnet-membership-sha1': {
      // ASP.NET Membership: base64(sha1(salt + UTF-16LE password)), salt in base64.
      const hash = decode(value, input.hash.encoding ?? 'base64', 'hash')
      if (hash.length !== 20 || !input.salt)
        throw new HashRefusal('malformed_hash', 'an ASP.NET Membership hash is a 20-byte SHA-1 with a base64 salt')
      const salt = atLeast(decode(input.salt.value, input.salt.encoding ?? 'base64', 'salt'), MINIMUM_BYTES.salt, 'salt')
      return {
        legacy: {
          format: 'digest',
          digest: 'sha1',
          hash: hash.toString('base64'),
          salt: salt.toString('base64'),
          saltPosition: 'prefix',
          passwordEncoding: 'utf16le',
        },
      }
    }
    case 'hmac': {
      const digest = (input.hash.digest ?? '').toLowerCase().replace('-', '')
      if (!['md5', 'sha1', 'sha256', 'sha512'].includes(digest))
        throw new HashRefusal('malformed_hash', 'hmac needs hash.digest: md5, sha1, sha256 or sha512')
      if (!input.hash.key) throw new HashRefusal('malformed_hash', 'hmac needs hash.key')
      const hash = decode(value, input.hash.encoding ?? 'hex', 'hash')
      const size = DIGEST_BYTES[digest as 'md5']
      if (hash.length !== size) throw new HashRefusal('malformed_hash', `an hmac-${digest} is ${size} bytes, not ${hash.length}`)
      const key = atLeast(decode(input.hash.key.value, input.hash.key.encoding ?? 'utf8', 'key'), MINIMUM_BYTES.hmacKey, 'hmac key')
      return {
        legacy: {
          format: 'hmac',
          digest: digest as 'md5',
          key: key.toString('base64'),
          hash: hash.toString('base64'),
          ...saltOf(input),
          passwordEncoding,
        },
      }
    }
    case 'pbkdf2': {
      return { legacy: { ...checkPbkdf2(parsePbkdf2Phc(value), caps.pbkdf2Iterations), passwordEncoding } }
    }
    case 'django':
      return { legacy: { ...parseDjango(value, caps.pbkdf2Iterations), passwordEncoding: 'utf8' } }
    case 'aspnet-identity':
      return { legacy: parseAspNetIdentity(value, caps.pbkdf2Iterations) }
    case 'scrypt': {
      const parsed = value.startsWith('$scrypt$')
        ? parseScryptPhc(value)
        : {
            N: input.cost ?? 16384,
            r: input.blockSize ?? 8,
            p: input.parallelization ?? 1,
            salt: input.salt ? decode(input.salt.value, input.salt.encoding ?? 'base64', 'salt') : malformed('scrypt needs a salt'),
            hash: decode(value, input.hash.encoding ?? 'base64', 'hash'),
          }
      if (!isPowerOfTwo(parsed.N) || parsed.N < 2) throw new HashRefusal('malformed_hash', 'scrypt N must be a power of two')
      capScrypt(parsed.N, parsed.r, parsed.p, caps.scryptNrp)
      const hash = kdfOutput(parsed.hash, 'scrypt hash')
      const salt = atLeast(parsed.salt, MINIMUM_BYTES.salt, 'scrypt salt')
      return {
        legacy: {
          format: 'scrypt',
          N: parsed.N,
          r: parsed.r,
          p: parsed.p,
          salt: salt.toString('base64'),
          hash: hash.toString('base64'),
          passwordEncoding,
        },
      }
    }
    case 'argon2':
      return { legacy: { format: 'argon2', phc: checkArgon2(value, caps) } }
    case 'ldap':
      return { legacy: parseLdap(value) }
    case 'phpass':
    case 'drupal7': {
      const parsed = parsePhpass(value)
      if (!parsed || (algorithm === 'drupal7') !== (parsed.digest === 'sha512'))
        throw new HashRefusal('malformed_hash', `not a ${algorithm === 'drupal7' ? 'Drupal 7 ($S$)' : 'phpass ($P$ or $H$)'} hash`)
      if (parsed.log2 > caps.phpassLog2 || parsed.log2 < 7)
        throw new HashRefusal('over_cap', `2^${parsed.log2} iterations is outside 2^7 to 2^${caps.phpassLog2}`)
      return { legacy: { format: 'phpass', stored: value } }
    }
    case 'firebase-scrypt': {
      const f = input.firebase
      if (!f || !input.salt)
        throw new HashRefusal('malformed_hash', 'firebase-scrypt needs salt and firebase { signerKey, saltSeparator, rounds, memCost }')
      capScrypt(2 ** f.memCost, f.rounds, 1, caps.scryptNrp)
      const signerKey = atLeast(decode(f.signerKey, 'base64', 'firebase signerKey'), MINIMUM_BYTES.firebaseSignerKey, 'firebase signerKey')
      const hash = decode(value, input.hash.encoding ?? 'base64', 'hash')
      // The hash is the signer key encrypted with AES-CTR, so it is exactly as long.
      if (hash.length !== signerKey.length)
        throw new HashRefusal(
          'malformed_hash',
          `a firebase-scrypt hash is as long as its signer key (${signerKey.length} bytes), not ${hash.length}`,
        )
      const salt = atLeast(decode(input.salt.value, input.salt.encoding ?? 'base64', 'salt'), MINIMUM_BYTES.salt, 'firebase salt')
      const saltSeparator = f.saltSeparator === '' ? Buffer.alloc(0) : decode(f.saltSeparator, 'base64', 'firebase saltSeparator')
      return {
        legacy: {
          format: 'firebase-scrypt',
          hash: hash.toString('base64'),
          salt: salt.toString('base64'),
          saltSeparator: saltSeparator.toString('base64'),
          rounds: f.rounds,
          memCost: f.memCost,
          signerKey: signerKey.toString('base64'),
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
  const salt = atLeast(decode(input.salt.value, input.salt.encoding ?? 'utf8', 'salt'), MINIMUM_BYTES.salt, 'salt')
  return { salt: salt.toString('base64'), saltPosition: input.salt.position ?? 'prefix' }
}

/** Refuses a decoded digest, salt or key shorter than its format's minimum. */
function atLeast(bytes: Buffer, minimum: number, what: string): Buffer {
  if (bytes.length < minimum) throw new HashRefusal('malformed_hash', `${what} decodes to ${bytes.length} bytes; the minimum is ${minimum}`)
  return bytes
}

/** A KDF's output: at least 128 bits, and no longer than any real format makes it. */
function kdfOutput(bytes: Buffer, what: string): Buffer {
  if (bytes.length > MAXIMUM_KDF_BYTES) throw new HashRefusal('over_cap', `${what} is ${bytes.length} bytes, over ${MAXIMUM_KDF_BYTES}`)
  return atLeast(bytes, MINIMUM_BYTES.kdfHash, what)
}

function decode(value: string, encoding: BinaryEncoding, what: string): Buffer {
  const valid =
    encoding === 'hex'
      ? /^(?:[0-9a-fA-F]{2})+$/.test(value)
      : encoding === 'base64'
        ? /^[A-Za-z0-9+/]+={0,2}$/.test(value)
        : encoding === 'base64url'
          ? /^[A-Za-z0-9_-]+={0,2}$/.test(value)
          : true
  if (!valid) throw new HashRefusal('malformed_hash', `${what} is not valid ${encoding}`)
  return Buffer.from(value, encoding)
}

/** PHC base64: no padding, and passlib's "ab64" uses '.' for '+'. */
function phcBase64(text: string, what: string): Buffer {
  const normalized = text.replace(/\./g, '+')
  if (!/^[A-Za-z0-9+/]+={0,2}$/.test(normalized)) throw new HashRefusal('malformed_hash', `${what} is not base64`)
  return Buffer.from(normalized, 'base64')
}

function phcParams(text: string): Record<string, number> {
  const params: Record<string, number> = {}
  for (const part of text.split(',')) {
    const [k, v] = part.split('=')
    // The message names no part of the hash: it may reach a script's logs.
    if (!k || v === undefined || !/^\d+$/.test(v)) throw new HashRefusal('malformed_hash', 'a PHC parameter is not name=digits')
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
  if (params['l'] !== undefined && hash.length !== params['l']) throw new HashRefusal('malformed_hash', 'pbkdf2 hash length differs from l')
  return { digest: (m[1] ?? 'sha1') as Pbkdf2Digest, iterations, salt: phcBase64(m[3]!, 'salt'), hash }
}

type Pbkdf2Digest = 'sha1' | 'sha256' | 'sha512'

/**
 * Checks decoded PBKDF2 parts (PHC, Django, ASP.NET Identity alike): at least one
 * iteration, a salt, a 128-bit output, and its work within the cap: iterations × output
 * blocks (PBKDF2 runs its iterations once per block of the digest's size), doubled for SHA-512.
 */
function checkPbkdf2(
  p: { digest: Pbkdf2Digest; iterations: number; salt: Buffer; hash: Buffer },
  cap: number,
): Extract<LegacyHash, { format: 'pbkdf2' }> & { passwordEncoding: 'utf8' } {
  if (!Number.isSafeInteger(p.iterations) || p.iterations < 1) throw new HashRefusal('malformed_hash', 'pbkdf2 needs at least 1 iteration')
  // SHA-512 compresses 128-byte blocks, twice SHA-1's and SHA-256's, and costs about twice as much per iteration.
  const work = p.iterations * Math.max(1, Math.ceil(p.hash.length / DIGEST_BYTES[p.digest])) * (p.digest === 'sha512' ? 2 : 1)
  if (work > cap)
    throw new HashRefusal(
      'over_cap',
      `pbkdf2 work (iterations × output blocks${p.digest === 'sha512' ? ' × 2 for sha512' : ''}) is ${work}, over the cap of ${cap}`,
    )
  const hash = kdfOutput(p.hash, 'pbkdf2 hash')
  const salt = atLeast(p.salt, MINIMUM_BYTES.salt, 'pbkdf2 salt')
  return {
    format: 'pbkdf2',
    digest: p.digest,
    iterations: p.iterations,
    salt: salt.toString('base64'),
    hash: hash.toString('base64'),
    passwordEncoding: 'utf8',
  }
}

/** Highest scrypt parallelism accepted, as for argon2: real hashes use p = 1. */
const SCRYPT_MAX_P = 16

function capScrypt(N: number, r: number, p: number, cap: number): void {
  if (N * r * p > cap) throw new HashRefusal('over_cap', `scrypt N·r·p is ${N * r * p}, over the cap of ${cap}`)
  // N·r·p does not bound the cost when N is tiny: each of p lanes pays its own PBKDF2 and BlockMix set-up, so
  // N = 2, p = 2^18 passes the product yet costs several times the dearest record the cap stands for.
  if (p > SCRYPT_MAX_P) throw new HashRefusal('over_cap', `scrypt p is ${p}, over ${SCRYPT_MAX_P}`)
}

/** The caps in force: each one given, or its default. */
export function resolveCaps(input: ImportCaps): ResolvedCaps {
  return {
    bcryptCost: input.bcryptCost ?? DEFAULT_IMPORT_CAPS.bcryptCost,
    pbkdf2Iterations: input.pbkdf2Iterations ?? DEFAULT_IMPORT_CAPS.pbkdf2Iterations,
    scryptNrp: input.scryptNrp ?? DEFAULT_IMPORT_CAPS.scryptNrp,
    argon2MemoryKiB: input.argon2MemoryKiB ?? DEFAULT_IMPORT_CAPS.argon2MemoryKiB,
    argon2Iterations: input.argon2Iterations ?? DEFAULT_IMPORT_CAPS.argon2Iterations,
    argon2MemoryTimeKiB: input.argon2MemoryTimeKiB ?? DEFAULT_IMPORT_CAPS.argon2MemoryTimeKiB,
    phpassLog2: input.phpassLog2 ?? DEFAULT_IMPORT_CAPS.phpassLog2,
  }
}

function parseDjango(value: string, cap: number) {
  const m = /^pbkdf2_(sha1|sha256)\$(\d{1,10})\$([^$]+)\$([A-Za-z0-9+/]+=*)$/.exec(value)
  if (!m) throw new HashRefusal('malformed_hash', 'a Django hash looks like pbkdf2_sha256$<iterations>$<salt>$<hash>')
  // Django uses the salt's text itself, not decoded bytes.
  return checkPbkdf2(
    { digest: m[1] as Pbkdf2Digest, iterations: Number(m[2]), salt: Buffer.from(m[3]!, 'utf8'), hash: Buffer.from(m[4]!, 'base64') },
    cap,
  )
}

function parseAspNetIdentity(value: string, cap: number): LegacyHash {
  const blob = decode(value, 'base64', 'hash')
  if (blob[0] === 0x00 && blob.length === 49) {
    // v2: PBKDF2-HMAC-SHA1, 1000 iterations, 16-byte salt, 32-byte subkey.
    return checkPbkdf2({ digest: 'sha1', iterations: 1000, salt: blob.subarray(1, 17), hash: blob.subarray(17) }, cap)
  }
  if (blob[0] === 0x01 && blob.length >= 13) {
    // v3: prf (0 SHA1, 1 SHA256, 2 SHA512), iterations and salt length, big-endian.
    const prf = blob.readUInt32BE(1)
    const iterations = blob.readUInt32BE(5)
    const saltLength = blob.readUInt32BE(9)
    const digest = (['sha1', 'sha256', 'sha512'] as const)[prf]
    if (!digest || saltLength < 1 || 13 + saltLength >= blob.length)
      throw new HashRefusal('malformed_hash', 'malformed ASP.NET Identity v3 hash')
    return checkPbkdf2({ digest, iterations, salt: blob.subarray(13, 13 + saltLength), hash: blob.subarray(13 + saltLength) }, cap)
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
  if (params['r'] === 0 || params['p'] === 0) throw new HashRefusal('malformed_hash', 'scrypt r and p must be at least 1')
  return { N, r: params['r'] ?? 8, p: params['p'] ?? 1, salt: phcBase64(m[2]!, 'salt'), hash: phcBase64(m[3]!, 'hash') }
}

function checkArgon2(value: string, caps: ResolvedCaps): string {
  const a = parseArgon2Phc(value)
  if (!a) throw new HashRefusal('malformed_hash', 'argon2 must be in PHC form: $argon2id$v=19$m=…,t=…,p=…$salt$hash')
  if (a.version !== 19) throw new HashRefusal('unsupported_algorithm', `argon2 version ${a.version} is not supported (only v=19)`)
  if (a.passes < 1 || a.parallelism < 1 || a.memoryKiB < 8 * a.parallelism)
    throw new HashRefusal('malformed_hash', 'argon2 needs t ≥ 1, p ≥ 1 and m ≥ 8·p')
  if (a.memoryKiB > caps.argon2MemoryKiB)
    throw new HashRefusal('over_cap', `argon2 memory ${a.memoryKiB} KiB is over the cap of ${caps.argon2MemoryKiB}`)
  if (a.passes > caps.argon2Iterations)
    throw new HashRefusal('over_cap', `argon2 t=${a.passes} is over the cap of ${caps.argon2Iterations}`)
  if (a.memoryKiB * a.passes > caps.argon2MemoryTimeKiB) {
    throw new HashRefusal(
      'over_cap',
      `argon2 memory × passes is ${a.memoryKiB * a.passes} KiB, over the cap of ${caps.argon2MemoryTimeKiB}`,
    )
  }
  if (a.parallelism > 16) throw new HashRefusal('over_cap', 'argon2 p is over 16')
  atLeast(a.salt, MINIMUM_BYTES.argon2Salt, 'argon2 salt')
  kdfOutput(a.hash, 'argon2 hash')
  return value
}

function parseLdap(value: string): LegacyHash {
  const m = /^\{([A-Z0-9]+)\}([A-Za-z0-9+/]+=*)$/.exec(value)
  const scheme = m?.[1] as keyof typeof LDAP | undefined
  if (!m || !scheme || !(scheme in LDAP))
    throw new HashRefusal(
      m ? 'unsupported_algorithm' : 'malformed_hash',
      'an LDAP hash is {MD5}, {SMD5}, {SHA}, {SSHA}, {SSHA256} or {SSHA512} and base64',
    )
  const [digest, saltedScheme] = LDAP[scheme]
  const bytes = Buffer.from(m[2]!, 'base64')
  const size = DIGEST_BYTES[digest]
  if (saltedScheme ? bytes.length <= size : bytes.length !== size)
    throw new HashRefusal('malformed_hash', `a {${scheme}} hash has the wrong length`)
  return {
    format: 'digest',
    digest,
    hash: bytes.subarray(0, size).toString('base64'),
    passwordEncoding: 'utf8',
    ...(saltedScheme ? { salt: bytes.subarray(size).toString('base64'), saltPosition: 'suffix' as const } : {}),
  }
}

function malformed(message: string): never {
  throw new HashRefusal('malformed_hash', message)
}

function isPowerOfTwo(n: number): boolean {
  return (Number.isInteger(n) && n > 0 && (n & (n - 1)) === 0) || (n > 2 ** 30 && Number.isInteger(Math.log2(n)))
}
