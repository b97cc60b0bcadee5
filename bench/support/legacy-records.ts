// Import records for every legacy format, at chosen parameters, whose hash no guess matches:
// what bench/caps (at the caps) and bench/enumeration (at common parameters) log in against.
import { randomBytes } from 'node:crypto'
import bcrypt from 'bcryptjs'
import { DEFAULT_IMPORT_CAPS, type ImportRecord } from '@latchkey/core'

type Hash = Pick<ImportRecord, 'password_hash' | 'custom_password_hash'>
const b64 = (n: number) => randomBytes(n).toString('base64')
const phc64 = (n: number) => b64(n).replace(/=+$/, '')
const ITOA64 = './0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz'
const itoa = (n: number) => Array.from(randomBytes(n), (b) => ITOA64[b & 63]).join('')

/** One record per format at the dearest parameters the default caps let in. */
export function recordsAtCaps(): [string, Hash][] {
  const caps = DEFAULT_IMPORT_CAPS
  const log2N = Math.log2(caps.scryptNrp / 8)
  const argon2T = Math.floor(caps.argon2MemoryTimeKiB / caps.argon2MemoryKiB)
  return [
    [`bcrypt cost ${caps.bcryptCost}`, { password_hash: bcrypt.hashSync(randomBytes(12).toString('hex'), caps.bcryptCost) }],
    ...(['sha1', 'sha256', 'sha512'] as const).map((d): [string, Hash] => {
      const iterations = d === 'sha512' ? caps.pbkdf2Iterations / 2 : caps.pbkdf2Iterations
      return [
        `pbkdf2-${d}, ${iterations.toLocaleString('en')} iterations × 1 block`,
        {
          custom_password_hash: {
            algorithm: 'pbkdf2',
            hash: { value: `$pbkdf2-${d}$i=${iterations}$${phc64(16)}$${phc64({ sha1: 20, sha256: 32, sha512: 64 }[d])}` },
          },
        },
      ]
    }),
    [
      `scrypt N 2^${log2N}, r 8, p 1`,
      { custom_password_hash: { algorithm: 'scrypt', hash: { value: `$scrypt$ln=${log2N},r=8,p=1$${phc64(16)}$${phc64(32)}` } } },
    ],
    [
      `firebase-scrypt memCost ${log2N}, rounds 8`,
      {
        custom_password_hash: {
          algorithm: 'firebase-scrypt',
          hash: { value: b64(64) },
          salt: { value: b64(12), encoding: 'base64' },
          firebase: { signerKey: b64(64), saltSeparator: 'Bw==', rounds: 8, memCost: log2N },
        },
      },
    ],
    [
      `argon2id m ${caps.argon2MemoryKiB / 1024} MiB, t ${argon2T}`,
      {
        custom_password_hash: {
          algorithm: 'argon2',
          hash: { value: `$argon2id$v=19$m=${caps.argon2MemoryKiB},t=${argon2T},p=1$${phc64(16)}$${phc64(32)}` },
        },
      },
    ],
    [
      `phpass 2^${caps.phpassLog2}`,
      { custom_password_hash: { algorithm: 'phpass', hash: { value: `$P$${ITOA64[caps.phpassLog2]}${itoa(8)}${itoa(22)}` } } },
    ],
    [
      `drupal7 2^${caps.phpassLog2}`,
      { custom_password_hash: { algorithm: 'drupal7', hash: { value: `$S$${ITOA64[caps.phpassLog2]}${itoa(8)}${itoa(43)}` } } },
    ],
  ]
}

/** One record per format at the parameters its own software uses by default (or commonly). */
export function commonRecords(): [string, Hash][] {
  return [
    ['md5', { custom_password_hash: { algorithm: 'md5', hash: { value: randomBytes(16).toString('hex') } } }],
    [
      'sha256 salted',
      { custom_password_hash: { algorithm: 'sha256', hash: { value: randomBytes(32).toString('hex') }, salt: { value: 'pepper' } } },
    ],
    [
      'hmac-sha256',
      {
        custom_password_hash: {
          algorithm: 'hmac',
          hash: { value: randomBytes(32).toString('hex'), digest: 'sha256', key: { value: 'k3y' } },
        },
      },
    ],
    ['ldap {SSHA}', { custom_password_hash: { algorithm: 'ldap', hash: { value: `{SSHA}${b64(24)}` } } }],
    [
      'aspnet-membership-sha1',
      { custom_password_hash: { algorithm: 'aspnet-membership-sha1', hash: { value: b64(20) }, salt: { value: b64(16) } } },
    ],
    ['phpass 2^13 (WordPress)', { custom_password_hash: { algorithm: 'phpass', hash: { value: `$P$B${itoa(8)}${itoa(22)}` } } }],
    ['drupal7 2^15', { custom_password_hash: { algorithm: 'drupal7', hash: { value: `$S$D${itoa(8)}${itoa(43)}` } } }],
    [
      'django pbkdf2-sha256 260,000',
      {
        custom_password_hash: { algorithm: 'django', hash: { value: `pbkdf2_sha256$260000$${randomBytes(9).toString('hex')}$${b64(32)}` } },
      },
    ],
    [
      'aspnet-identity v2 (pbkdf2-sha1 1,000 × 2 blocks)',
      {
        custom_password_hash: {
          algorithm: 'aspnet-identity',
          hash: { value: Buffer.concat([Buffer.from([0]), randomBytes(48)]).toString('base64') },
        },
      },
    ],
    [
      'scrypt N 2^14, r 8',
      { custom_password_hash: { algorithm: 'scrypt', hash: { value: `$scrypt$ln=14,r=8,p=1$${phc64(16)}$${phc64(32)}` } } },
    ],
    [
      'firebase-scrypt memCost 14, rounds 8',
      {
        custom_password_hash: {
          algorithm: 'firebase-scrypt',
          hash: { value: b64(64) },
          salt: { value: b64(12), encoding: 'base64' },
          firebase: { signerKey: b64(64), saltSeparator: 'Bw==', rounds: 8, memCost: 14 },
        },
      },
    ],
    [
      'argon2id m 19 MiB, t 2 (OWASP)',
      { custom_password_hash: { algorithm: 'argon2', hash: { value: `$argon2id$v=19$m=19456,t=2,p=1$${phc64(16)}$${phc64(32)}` } } },
    ],
  ]
}
