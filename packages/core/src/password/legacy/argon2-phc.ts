/** An argon2 hash in PHC form, parsed: `$argon2id$v=19$m=…,t=…,p=…$salt$hash`. */
export interface Argon2Phc {
  type: 'id' | 'i' | 'd'
  version: number
  memoryKiB: number
  passes: number
  parallelism: number
  salt: Buffer
  hash: Buffer
}

/** Parses an argon2 PHC string; null when it is not one. Base64 is PHC's, unpadded. */
export function parseArgon2Phc(value: string): Argon2Phc | null {
  const m = /^\$argon2(id|i|d)\$(?:v=(\d{1,3})\$)?m=(\d{1,10}),t=(\d{1,10}),p=(\d{1,3})\$([A-Za-z0-9+/]+)\$([A-Za-z0-9+/]+)$/.exec(value)
  if (!m) return null
  return {
    type: m[1] as Argon2Phc['type'],
    // A PHC string without v= is version 0x10 by the format's convention.
    version: m[2] === undefined ? 16 : Number(m[2]),
    memoryKiB: Number(m[3]),
    passes: Number(m[4]),
    parallelism: Number(m[5]),
    salt: Buffer.from(m[6]!, 'base64'),
    hash: Buffer.from(m[7]!, 'base64'),
  }
}
