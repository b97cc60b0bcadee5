import { BCRYPT_MODULE_SOURCE } from './bcrypt-module.js'
import { BUFFER_MODULE_SOURCE } from './buffer-module.js'
import { CLIENT_CREDENTIALS_MODULE_SOURCE } from './client-credentials-module.js'
import { CRYPTO_MODULE_SOURCE } from './crypto-module.js'
import { HTTP_MODULE_SOURCE } from './http-module.js'
import { MYSQL_MODULE_SOURCE } from './mysql-module.js'
import { PASSWORD_HASH_MODULE_SOURCE } from './password-hash-module.js'
import { PG_MODULE_SOURCE } from './pg-module.js'

/** Source text of each module a script can load, evaluated in its context on first use. */
export const GUEST_MODULE_SOURCES: Record<string, string> = {
  buffer: BUFFER_MODULE_SOURCE,
  crypto: CRYPTO_MODULE_SOURCE,
  bcrypt: BCRYPT_MODULE_SOURCE,
  http: HTTP_MODULE_SOURCE,
  mysql: MYSQL_MODULE_SOURCE,
  pg: PG_MODULE_SOURCE,
  '@latchkey/client-credentials': CLIENT_CREDENTIALS_MODULE_SOURCE,
  '@latchkey/password-hash': PASSWORD_HASH_MODULE_SOURCE,
}

/** What `require` accepts, in the order its error message lists them. */
export const REQUIRABLE = ['bcrypt', 'crypto', 'request', 'mysql', 'pg', '@latchkey/client-credentials', '@latchkey/password-hash']
