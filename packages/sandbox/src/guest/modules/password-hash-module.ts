/* eslint-disable */
import type { GuestLib } from './guest-lib.js'

/**
 * `require('@latchkey/password-hash')` for scripts: `verify(password, hash)` checks a password
 * against any stored hash bulk import accepts (bcrypt, phpass, a salted SHA-1, PBKDF2, …) in one
 * host call, on the host's hash pool, with core's own decoders and caps. In callback and promise
 * forms. Evaluated inside the sandbox on first `require`; self-contained.
 */
function passwordHashModule(lib: GuestLib) {
  const { call, settle } = lib

  /** A hash the host would not verify: `code` is `malformed_hash`, `over_cap`, `unsupported_algorithm` or `invalid_argument`. */
  class PasswordHashError extends Error {
    code: string
    constructor(code: string, message: string) {
      super(message)
      this.name = 'PasswordHashError'
      this.code = code
    }
  }

  // The host checks every argument; these two limits are also checked here because a string
  // this long would be refused by the sandbox's host-call cap before the host could say why.
  const tooLong = (value: unknown, max: number) => typeof value === 'string' && value.length > max

  function verify(password: unknown, hash: unknown, callback?: unknown) {
    if (tooLong(password, 1024) || tooLong(hash, 4096)) {
      const refused = new PasswordHashError(
        'invalid_argument',
        'verify(password, hash): the password is over 1024 characters or the hash over 4096',
      )
      return settle(Promise.reject(refused), callback)
    }
    const promise = call('password-hash', 'verify', { password, hash }).then((answer: any) => {
      if (answer.ok) return answer.matches === true
      throw new PasswordHashError(answer.code, answer.message)
    })
    return settle(promise, callback)
  }

  return { verify, PasswordHashError }
}

export const PASSWORD_HASH_MODULE_SOURCE = `(${passwordHashModule.toString()})`
