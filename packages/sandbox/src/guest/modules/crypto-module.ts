/* eslint-disable */
import type { GuestLib } from './guest-lib.js'

/**
 * `require('crypto')` for scripts: hashes, HMACs, pbkdf2, random bytes and UUIDs, each
 * computed on the host. Evaluated inside the sandbox on first `require`; self-contained.
 */
function cryptoModule(lib: GuestLib) {
  const { sync, call, settle, toB64, Buffer } = lib
  const hashLike = (kind: 'hash' | 'hmac', algorithm: unknown, key?: unknown, keyEncoding?: string) => {
    const chunks: string[] = []
    return {
      update(data: unknown, encoding?: string) {
        chunks.push(toB64(data, encoding))
        return this
      },
      digest(encoding?: string) {
        const b64 = sync('crypto', kind, { algorithm, chunks, key: key === undefined ? undefined : toB64(key, keyEncoding) })
        const bytes = Buffer.from(b64, 'base64')
        return encoding ? bytes.toString(encoding) : bytes
      },
    }
  }
  const pbkdf2Args = (password: unknown, salt: unknown, iterations: unknown, keylen: unknown, digest: unknown) => ({
    password: toB64(password),
    salt: toB64(salt),
    iterations,
    keylen,
    digest: digest ?? 'sha1',
  })

  const crypto = {
    createHash: (algorithm: string) => hashLike('hash', algorithm),
    createHmac: (algorithm: string, key: unknown) => hashLike('hmac', algorithm, key),
    pbkdf2(password: unknown, salt: unknown, iterations: unknown, keylen: unknown, digest: unknown, callback?: unknown) {
      if (typeof digest === 'function') {
        callback = digest
        digest = 'sha1'
      }
      return settle(
        call('crypto', 'pbkdf2', pbkdf2Args(password, salt, iterations, keylen, digest)).then((b64) => Buffer.from(b64, 'base64')),
        callback,
      )
    },
    pbkdf2Sync: (password: unknown, salt: unknown, iterations: unknown, keylen: unknown, digest: unknown) =>
      Buffer.from(sync('crypto', 'pbkdf2Sync', pbkdf2Args(password, salt, iterations, keylen, digest)), 'base64'),
    randomBytes(size: unknown, callback?: unknown) {
      const bytes = Buffer.from(sync('crypto', 'randomBytes', { size }), 'base64')
      if (typeof callback === 'function') {
        lib.timer(0).then(() => lib.invoke(callback, null, bytes))
        return undefined
      }
      return bytes
    },
    randomUUID: () => sync('crypto', 'randomUUID', {}) as string,
    timingSafeEqual: (a: unknown, b: unknown) => sync('crypto', 'timingSafeEqual', { a: toB64(a), b: toB64(b) }) as boolean,
  }

  return crypto
}

export const CRYPTO_MODULE_SOURCE = `(${cryptoModule.toString()})`
