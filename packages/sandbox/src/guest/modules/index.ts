import { BCRYPT_MODULE_SOURCE } from './bcrypt-module.js'
import { BUFFER_MODULE_SOURCE } from './buffer-module.js'
import { CRYPTO_MODULE_SOURCE } from './crypto-module.js'

/** Source text of each module a script can load, evaluated in its context on first use. */
export const GUEST_MODULE_SOURCES: Record<string, string> = {
  buffer: BUFFER_MODULE_SOURCE,
  crypto: CRYPTO_MODULE_SOURCE,
  bcrypt: BCRYPT_MODULE_SOURCE,
}
