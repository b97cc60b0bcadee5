import { createHash, createHmac, pbkdf2Sync, randomBytes, randomUUID, timingSafeEqual } from 'node:crypto'
import { BRIDGE_LIMITS } from '../limits.js'

const DIGESTS = new Set(['md5', 'sha1', 'sha256', 'sha512'])
/** Output bytes of each digest: pbkdf2 runs its iterations once per block of this size. */
const DIGEST_BYTES: Record<string, number> = { md5: 16, sha1: 20, sha256: 32, sha512: 64 }

/** The `crypto` subset scripts get: md5, sha1, sha256 and sha512 only, with capped sizes. */
export function cryptoSync(op: string, args: Record<string, unknown>): unknown {
  switch (op) {
    case 'hash':
    case 'hmac': {
      const algorithm = digest(args['algorithm'])
      const chunks = (args['chunks'] as string[]).map((c) => Buffer.from(c, 'base64'))
      if (chunks.reduce((n, c) => n + c.length, 0) > BRIDGE_LIMITS.hashInputBytes)
        throw new Error(`crypto: at most ${BRIDGE_LIMITS.hashInputBytes} bytes may be hashed`)
      const h = op === 'hash' ? createHash(algorithm) : createHmac(algorithm, Buffer.from(String(args['key'] ?? ''), 'base64'))
      for (const c of chunks) h.update(c)
      return h.digest('base64')
    }
    case 'pbkdf2Sync': {
      const p = pbkdf2Params(args, BRIDGE_LIMITS.pbkdf2SyncMaxIterations)
      return pbkdf2Sync(p.password, p.salt, p.iterations, p.keylen, p.digest).toString('base64')
    }
    case 'randomBytes':
      return randomBytes(size(args['size'], BRIDGE_LIMITS.randomBytes, 'randomBytes')).toString('base64')
    case 'randomUUID':
      return randomUUID()
    case 'timingSafeEqual': {
      const a = Buffer.from(String(args['a']), 'base64')
      const b = Buffer.from(String(args['b']), 'base64')
      if (a.length !== b.length) throw new RangeError('Input buffers must have the same byte length')
      return timingSafeEqual(a, b)
    }
    default:
      throw new Error(`crypto.${op} is not available in scripts`)
  }
}

/**
 * pbkdf2's arguments as a script gave them, checked against the caps. The cap is on the
 * work, iterations times output blocks (keylen / digest size): iterations alone would let
 * a 1024-byte md5 key cost 64 times the cap.
 */
export function pbkdf2Params(args: Record<string, unknown>, maxIterations: number) {
  const params = {
    password: Buffer.from(String(args['password']), 'base64'),
    salt: Buffer.from(String(args['salt']), 'base64'),
    iterations: size(args['iterations'], maxIterations, 'pbkdf2 iterations'),
    keylen: size(args['keylen'], BRIDGE_LIMITS.keyBytes, 'pbkdf2 keylen'),
    digest: digest(args['digest']),
  }
  const blocks = Math.ceil(params.keylen / DIGEST_BYTES[params.digest]!)
  if (params.iterations * blocks > maxIterations) {
    throw new RangeError(
      `pbkdf2 iterations times output blocks (${params.keylen} bytes of ${params.digest} is ${blocks}) must be at most ${maxIterations}`,
    )
  }
  return params
}

function digest(value: unknown): string {
  const name = String(value).toLowerCase().replace('-', '')
  if (!DIGESTS.has(name)) throw new Error(`crypto: digest '${String(value)}' is not available (md5, sha1, sha256, sha512)`)
  return name
}

function size(value: unknown, max: number, what: string): number {
  if (typeof value !== 'number' || !Number.isInteger(value) || value < 1 || value > max) {
    throw new RangeError(`${what} must be an integer from 1 to ${max}`)
  }
  return value
}
