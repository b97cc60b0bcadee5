import { InvalidInputError } from '@latchkey/core'

/** A store URL that names no usable database. The URL may hold a password, so the message never repeats it. */
export function badStoreUrl(why: string): InvalidInputError {
  return new InvalidInputError([{ path: ['url'], code: 'invalid_value', message: why }])
}
