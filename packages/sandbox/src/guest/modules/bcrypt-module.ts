/* eslint-disable */
import type { GuestLib } from './guest-lib.js'

/**
 * `require('bcrypt')` for scripts: hash and compare run on the host's bcrypt pool, in
 * callback and promise forms. Evaluated inside the sandbox on first `require`; self-contained.
 */
function bcryptModule(lib: GuestLib) {
  const { call, settle } = lib
  const bcryptCost = (saltOrRounds: unknown) =>
    typeof saltOrRounds === 'string' ? Number(/^\$2[aby]?\$(\d\d)\$/.exec(saltOrRounds)?.[1] ?? NaN) : saltOrRounds
  const bcrypt = {
    hash: (password: unknown, saltOrRounds: unknown, callback?: unknown) =>
      settle(call('bcrypt', 'hash', { password: String(password), cost: bcryptCost(saltOrRounds) }), callback),
    compare: (password: unknown, hash: unknown, callback?: unknown) =>
      settle(call('bcrypt', 'compare', { password: String(password), hash: String(hash) }), callback),
    genSalt(rounds?: unknown, callback?: unknown) {
      if (typeof rounds === 'function') {
        callback = rounds
        rounds = 10
      }
      const cost = Number(rounds ?? 10)
      return settle(Promise.resolve(`$2b$${cost < 10 ? '0' : ''}${cost}$`), callback)
    },
    getRounds: (hash: string) => bcryptCost(hash),
    hashSync() {
      throw new Error('bcrypt.hashSync would block the sandbox: use bcrypt.hash with a callback, or await it')
    },
    compareSync() {
      throw new Error('bcrypt.compareSync would block the sandbox: use bcrypt.compare with a callback, or await it')
    },
  }

  return bcrypt
}

export const BCRYPT_MODULE_SOURCE = `(${bcryptModule.toString()})`
