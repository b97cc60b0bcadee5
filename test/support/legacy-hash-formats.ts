// Every hash format bulk import accepts, each with a password that verifies: published
// vectors (test/fixtures) and hashes made here with node:crypto, never with latchkey's own code.
import { createCipheriv, createHash, createHmac, pbkdf2Sync, randomBytes, scryptSync } from 'node:crypto'
import { readFileSync } from 'node:fs'
import type { ImportRecord } from '@latchkey/core'

const fixtures = JSON.parse(readFileSync(new URL('../fixtures/legacy-hash-vectors.json', import.meta.url), 'utf8')) as {
  vectors: { format: string; password: string; hash: string; params?: Record<string, string | number> }[]
}

export const b64 = (b: Buffer) => b.toString('base64')
export const b64nopad = (b: Buffer) => b.toString('base64').replace(/=+$/, '')

/** [label, password, custom_password_hash or password_hash] for every format. */
export function formats(): [string, string, Pick<ImportRecord, 'password_hash' | 'custom_password_hash'>][] {
  const out: [string, string, Pick<ImportRecord, 'password_hash' | 'custom_password_hash'>][] = []
  const algorithm: Record<string, string> = { 'django-pbkdf2': 'django', 'scrypt-phc': 'scrypt' }
  for (const v of fixtures.vectors) {
    if (v.format === 'bcrypt') {
      out.push([`fixture bcrypt ${v.hash.slice(0, 4)}`, v.password, { password_hash: v.hash }])
      continue
    }
    const custom: ImportRecord['custom_password_hash'] = { algorithm: algorithm[v.format] ?? v.format, hash: { value: v.hash } }
    if (v.format === 'firebase-scrypt') {
      const p = v.params!
      Object.assign(custom, {
        salt: { value: p['salt'], encoding: 'base64' },
        firebase: { signerKey: p['signerKey'], saltSeparator: p['saltSeparator'], rounds: p['rounds'], memCost: p['memCost'] },
      })
    }
    out.push([`fixture ${v.format} ${v.hash.slice(0, 12)}`, v.password, { custom_password_hash: custom }])
  }
  // Drupal 7 ($S$): published examples (ruby-drupal-hash README, drupal7-password README).
  out.push([
    'drupal7 D',
    'password1234',
    { custom_password_hash: { algorithm: 'drupal7', hash: { value: '$S$DeIZ1KTE.VzRvudZ5.xgOakipuMFrVyPmRdWTjAdYieWj27NMglI' } } },
  ])
  out.push([
    'drupal7 D (2)',
    'password',
    { custom_password_hash: { algorithm: 'drupal7', hash: { value: '$S$DI7p94K2RG7Nq2OJp2/T55TfjT/K8UYdDVSUELOgCNbNoHU2sdtq' } } },
  ])
  // md4: RFC 1320's test suite, md4("abc").
  out.push([
    'md4',
    'abc',
    { custom_password_hash: { algorithm: 'md4', hash: { value: 'a448017aaf21d8525fc10ae87aa6729d', encoding: 'hex' } } },
  ])
  const pw = 'Pässword-1'
  for (const digest of ['md5', 'sha1', 'sha256', 'sha512'] as const) {
    out.push([
      `${digest} unsalted hex`,
      pw,
      { custom_password_hash: { algorithm: digest, hash: { value: createHash(digest).update(pw).digest('hex') } } },
    ])
    out.push([
      `${digest} salt prefix base64`,
      pw,
      {
        custom_password_hash: {
          algorithm: digest,
          hash: { value: b64(createHash(digest).update('s4lt').update(pw).digest()), encoding: 'base64' },
          salt: { value: 's4lt', position: 'prefix' },
        },
      },
    ])
    out.push([
      `${digest} salt suffix hex-encoded salt`,
      pw,
      {
        custom_password_hash: {
          algorithm: digest,
          hash: { value: createHash(digest).update(pw).update(Buffer.from('beef', 'hex')).digest('hex') },
          salt: { value: 'beef', encoding: 'hex', position: 'suffix' },
        },
      },
    ])
  }
  out.push([
    'hmac sha256',
    pw,
    {
      custom_password_hash: {
        algorithm: 'hmac',
        hash: { value: createHmac('sha256', 'k3y').update(pw).digest('hex'), digest: 'sha256', key: { value: 'k3y' } },
      },
    },
  ])
  const salt = randomBytes(16)
  out.push([
    'pbkdf2 PHC sha256',
    pw,
    {
      custom_password_hash: {
        algorithm: 'pbkdf2',
        hash: { value: `$pbkdf2-sha256$i=1000,l=32$${b64nopad(salt)}$${b64nopad(pbkdf2Sync(pw, salt, 1000, 32, 'sha256'))}` },
      },
    },
  ])
  out.push([
    'pbkdf2 PHC sha512',
    pw,
    {
      custom_password_hash: {
        algorithm: 'pbkdf2',
        hash: { value: `$pbkdf2-sha512$i=500$${b64nopad(salt)}$${b64nopad(pbkdf2Sync(pw, salt, 500, 64, 'sha512'))}` },
      },
    },
  ])
  out.push([
    'scrypt PHC ln as log2',
    pw,
    {
      custom_password_hash: {
        algorithm: 'scrypt',
        hash: { value: `$scrypt$ln=10,r=8,p=1$${b64(salt)}$${b64(scryptSync(pw, salt, 32, { N: 1024, r: 8, p: 1 }))}` },
      },
    },
  ])
  out.push([
    'ldap {SMD5}',
    pw,
    {
      custom_password_hash: {
        algorithm: 'ldap',
        hash: {
          value: `{SMD5}${b64(Buffer.concat([createHash('md5').update(pw).update(salt.subarray(0, 4)).digest(), salt.subarray(0, 4)]))}`,
        },
      },
    },
  ])
  out.push([
    'ldap {SSHA256}',
    pw,
    {
      custom_password_hash: {
        algorithm: 'ldap',
        hash: { value: `{SSHA256}${b64(Buffer.concat([createHash('sha256').update(pw).update(salt).digest(), salt]))}` },
      },
    },
  ])
  out.push([
    'ldap {SSHA512}',
    pw,
    {
      custom_password_hash: {
        algorithm: 'ldap',
        hash: { value: `{SSHA512}${b64(Buffer.concat([createHash('sha512').update(pw).update(salt).digest(), salt]))}` },
      },
    },
  ])
  out.push([
    'ASP.NET Membership SHA1',
    pw,
    {
      custom_password_hash: {
        algorithm: 'aspnet-membership-sha1',
        hash: { value: b64(createHash('sha1').update(salt).update(Buffer.from(pw, 'utf16le')).digest()) },
        salt: { value: b64(salt), encoding: 'base64' },
      },
    },
  ])
  // A Firebase project of our own, to cover a second parameter set.
  const signer = randomBytes(64)
  const fbSalt = randomBytes(12)
  const key = scryptSync(pw, Buffer.concat([fbSalt, Buffer.from([7])]), 32, { N: 2 ** 10, r: 4, p: 1 })
  const cipher = createCipheriv('aes-256-ctr', key, Buffer.alloc(16))
  out.push([
    'firebase scrypt (own project)',
    pw,
    {
      custom_password_hash: {
        algorithm: 'firebase-scrypt',
        hash: { value: b64(Buffer.concat([cipher.update(signer), cipher.final()])) },
        salt: { value: b64(fbSalt), encoding: 'base64' },
        firebase: { signerKey: b64(signer), saltSeparator: 'Bw==', rounds: 4, memCost: 10 },
      },
    },
  ])
  return out
}
