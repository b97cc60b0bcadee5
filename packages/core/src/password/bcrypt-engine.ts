import { createRequire } from 'node:module'
import bcryptjs from 'bcryptjs'

/** Which bcrypt implementation the hash pool's workers run. */
export type BcryptEngineName = 'native' | 'bcryptjs'

/** The synchronous half of a bcrypt library: the workers call nothing else. */
export interface BcryptEngine {
  readonly name: BcryptEngineName
  hashSync(password: string, cost: number): string
  compareSync(password: string, hash: string): boolean
}

/** The optional native binding, pinned in core's optionalDependencies. */
const NATIVE_PACKAGE = '@node-rs/bcrypt'

interface NativeBcrypt {
  hashSync(password: string, cost: number): string
  verifySync(password: string, hash: string): boolean
}

const pureJs: BcryptEngine = {
  name: 'bcryptjs',
  hashSync: (password, cost) => bcryptjs.hashSync(password, cost),
  compareSync: (password, hash) => bcryptjs.compareSync(password, hash),
}

/**
 * The native binding when it is installed and loads on this platform, else bcryptjs,
 * never an error. Only the synchronous API is used, inside the hash-pool workers: the
 * binding's async API would run on libuv's threadpool, which stays free for the host.
 * Both write `$2b$` hashes and read `$2a$`, `$2b$` and `$2y$` alike.
 */
export function loadBcryptEngine(preferred: BcryptEngineName = 'native'): BcryptEngine {
  if (preferred === 'bcryptjs') return pureJs
  try {
    const native = createRequire(import.meta.url)(NATIVE_PACKAGE) as NativeBcrypt
    // A binding whose platform build is missing can load and still fail on first use.
    if (!native.verifySync('probe', native.hashSync('probe', 4))) return pureJs
    return {
      name: 'native',
      hashSync: (password, cost) => native.hashSync(password, cost),
      compareSync: (password, hash) => native.verifySync(password, hash),
    }
  } catch {
    // Not installed, or no build for this platform: bcryptjs gives identical hashes, only slower.
    return pureJs
  }
}
