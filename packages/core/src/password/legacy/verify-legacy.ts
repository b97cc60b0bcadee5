import { createCipheriv, createHash, createHmac, pbkdf2Sync, scryptSync, timingSafeEqual } from 'node:crypto'
import { argon2d, argon2i, argon2id, md4 } from 'hash-wasm'
import { parseArgon2Phc } from './argon2-phc.js'
import { MINIMUM_BYTES, type LegacyHash, type PasswordEncoding } from './legacy-hash.js'
import { parsePhpass, phpassCompute } from './phpass.js'

/**
 * Verifies a password, exactly as typed, against an imported legacy hash. Runs on the
 * hash pool's workers, one job at a time each, so PBKDF2 and scrypt run synchronously there:
 * their async forms would take threads of libuv's pool, which the host's fs and dns share. Every comparison is constant-time over equal-length buffers of at
 * least {@link MINIMUM_BYTES.compared} bytes. A record that cannot be verified (one stored
 * before import checked it as it does now) is a mismatch, never an error: an error would
 * give attack protection's counter slot back, so a guess must never be able to cause one.
 */
export async function verifyLegacy(legacy: LegacyHash, password: string): Promise<boolean> {
  try {
    return await verify(legacy, password)
  } catch {
    return false
  }
}

async function verify(legacy: LegacyHash, password: string): Promise<boolean> {
  switch (legacy.format) {
    case 'digest': {
      const message = salted(encode(password, legacy.passwordEncoding), legacy.salt, legacy.saltPosition)
      const digest = legacy.digest === 'md4' ? Buffer.from(await md4(message), 'hex') : createHash(legacy.digest).update(message).digest()
      return same(digest, legacy.hash)
    }
    case 'hmac': {
      const message = salted(encode(password, legacy.passwordEncoding), legacy.salt, legacy.saltPosition)
      return same(createHmac(legacy.digest, Buffer.from(legacy.key, 'base64')).update(message).digest(), legacy.hash)
    }
    case 'pbkdf2': {
      const expected = Buffer.from(legacy.hash, 'base64')
      const derived = pbkdf2Sync(
        encode(password, legacy.passwordEncoding),
        Buffer.from(legacy.salt, 'base64'),
        legacy.iterations,
        expected.length,
        legacy.digest,
      )
      return same(derived, legacy.hash)
    }
    case 'scrypt': {
      const expected = Buffer.from(legacy.hash, 'base64')
      const derived = scryptSync(
        encode(password, legacy.passwordEncoding),
        Buffer.from(legacy.salt, 'base64'),
        expected.length,
        scryptOptions(legacy.N, legacy.r, legacy.p),
      )
      return same(derived, legacy.hash)
    }
    case 'argon2': {
      const a = parseArgon2Phc(legacy.phc)
      if (!a || a.version !== 19) return false
      const argon2 = { id: argon2id, i: argon2i, d: argon2d }[a.type]
      const derived = await argon2({
        password,
        salt: a.salt,
        iterations: a.passes,
        parallelism: a.parallelism,
        memorySize: a.memoryKiB,
        hashLength: a.hash.length,
        outputType: 'binary',
      })
      return same(Buffer.from(derived), a.hash.toString('base64'))
    }
    case 'phpass': {
      const parsed = parsePhpass(legacy.stored)
      if (!parsed) return false
      return same(Buffer.from(phpassCompute(parsed, Buffer.from(password, 'utf8'))), Buffer.from(parsed.encoded).toString('base64'))
    }
    case 'firebase-scrypt': {
      const salt = Buffer.concat([Buffer.from(legacy.salt, 'base64'), Buffer.from(legacy.saltSeparator, 'base64')])
      const key = scryptSync(Buffer.from(password, 'utf8'), salt, 32, scryptOptions(2 ** legacy.memCost, legacy.rounds, 1))
      const cipher = createCipheriv('aes-256-ctr', key, Buffer.alloc(16))
      return same(Buffer.concat([cipher.update(Buffer.from(legacy.signerKey, 'base64')), cipher.final()]), legacy.hash)
    }
  }
}

function scryptOptions(N: number, r: number, p: number) {
  return { N, r, p, maxmem: 128 * N * r * p + 16 * 1024 * 1024 }
}

export function encode(password: string, encoding: PasswordEncoding): Buffer {
  return Buffer.from(password, encoding)
}

function salted(password: Buffer, salt: string | undefined, position: 'prefix' | 'suffix' | undefined): Buffer {
  if (salt === undefined) return password
  const bytes = Buffer.from(salt, 'base64')
  return position === 'suffix' ? Buffer.concat([password, bytes]) : Buffer.concat([bytes, password])
}

function same(actual: Buffer, expectedBase64: string): boolean {
  const expected = Buffer.from(expectedBase64, 'base64')
  // Second line of defence: 0 bytes equal 0 bytes, so a short comparison is a mismatch.
  if (expected.length < MINIMUM_BYTES.compared) return false
  // Lengths are public (they come from the stored format); contents are compared in constant time.
  return actual.length === expected.length && timingSafeEqual(actual, expected)
}
