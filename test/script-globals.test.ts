// @latchkey/sandbox's script-globals.d.ts: shipped with the package, referenced by every
// script under examples/ (checked by `pnpm typecheck`), and strict enough to catch mistakes.
import { execFile } from 'node:child_process'
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs'
import { join, relative } from 'node:path'
import { fileURLToPath } from 'node:url'
import { promisify } from 'node:util'
import { describe, expect, it } from 'vitest'
import { InvalidInputError } from '@latchkey/core'
import { loadScripts } from '@latchkey/sandbox'

const run = promisify(execFile)
const root = fileURLToPath(new URL('..', import.meta.url))
const HEADER = '// @ts-check\n/// <reference types="@latchkey/sandbox/script-globals" />\n'

function scriptsUnder(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) =>
    e.isDirectory()
      ? e.name === 'node_modules'
        ? []
        : scriptsUnder(join(dir, e.name))
      : /\.[cm]?js$/.test(e.name)
        ? [join(dir, e.name)]
        : [],
  )
}

/** Type-checks `files` (name → source) the way `pnpm typecheck` checks the examples; returns tsc's output. */
async function check(files: Record<string, string>): Promise<string> {
  const dir = mkdtempSync(join(root, '.tmp', 'scripts-'))
  for (const [name, source] of Object.entries(files)) writeFileSync(join(dir, name), source)
  const base = relative(dir, join(root, 'examples', 'tsconfig.scripts.json'))
  writeFileSync(
    join(dir, 'tsconfig.json'),
    JSON.stringify({
      extends: base,
      include: ['*.js', relative(dir, join(root, 'packages', 'sandbox', 'script-globals.d.ts'))],
    }),
  )
  return run(process.execPath, [join(root, 'node_modules/typescript/bin/tsc'), '-p', dir], { cwd: dir }).then(
    ({ stdout }) => stdout,
    (e: { stdout: string }) => e.stdout,
  )
}

describe('script-globals.d.ts', () => {
  it('ships in @latchkey/sandbox under its own entry point', () => {
    const pkg = JSON.parse(readFileSync(join(root, 'packages/sandbox/package.json'), 'utf8'))
    expect(pkg.files).toContain('script-globals.d.ts')
    expect(pkg.exports['./script-globals']).toEqual({ types: './script-globals.d.ts' })
  })

  it('is referenced, with // @ts-check, by every script under examples/', () => {
    const scripts = scriptsUnder(join(root, 'examples'))
    expect(scripts.length).toBeGreaterThanOrEqual(21)
    for (const file of scripts) expect(readFileSync(file, 'utf8').startsWith(HEADER), relative(root, file)).toBe(true)
  })

  it('accepts a correct script and catches the usual mistakes', async () => {
    mkdirSync(join(root, '.tmp'), { recursive: true })
    const good = `${HEADER}/** @param {string} identifier @param {string} password @param {LoginCallback} callback */
function login(identifier, password, callback) {
  const mysql = require('mysql');
  const bcrypt = require('bcrypt');
  const connection = mysql.createConnection({ host: configuration.DB_HOST, user: configuration.DB_USER });
  connection.query('SELECT id, password FROM users WHERE email = ?', [identifier], function (err, rows) {
    if (err) return callback(err);
    if (!rows[0]) return callback(new WrongUsernameOrPasswordError(identifier));
    bcrypt.compare(password, rows[0].password, function (err, ok) {
      if (err || !ok) return callback(err || new WrongUsernameOrPasswordError(identifier));
      global.seen = (Number(global.seen) || 0) + 1;
      callback(null, { user_id: rows[0].id, email: identifier, email_verified: Buffer.from('1').toString('hex') === '31' });
    });
  });
}
`
    expect(await check({ 'login.js': good })).toBe('')
    const bad = `${HEADER}/** @param {string} identifier @param {string} password @param {LoginCallback} callback */
async function login(identifier, password, callback) {
  const fs = require('fs');
  configuration.DB_HOST = 'elsewhere';
  const res = await fetch(configuration.API_URL, { method: 'POST', body: 42 });
  callback(null, { user_id: 1, email_verified: 'yes' });
  throw new ValidationError();
}
`
    const errors = await check({ 'login.js': bad })
    // Lines 1-3 are the header and the JSDoc.
    expect(errors).toMatch(/login\.js\(5,\d+\): error TS2307: Cannot find module 'fs'/) // not a sandbox module
    expect(errors).toMatch(/login\.js\(6,\d+\): error TS2542: .*only permits reading/) // configuration is frozen
    expect(errors).toMatch(/login\.js\(7,\d+\): error TS2322/) // fetch's body
    expect(errors).toMatch(/login\.js\(8,\d+\): error TS2322/) // a profile field of the wrong type
    expect(errors).toMatch(/login\.js\(9,\d+\): error TS2554/) // ValidationError needs its code
  }, 60_000)
})

describe("require('@latchkey/password-hash') in script-globals.d.ts", () => {
  it('types verify with a hash string or a custom_password_hash record, and its error', async () => {
    mkdirSync(join(root, '.tmp'), { recursive: true })
    const good = `${HEADER}/** @param {string} identifier @param {string} password */
async function login(identifier, password) {
  const { verify, PasswordHashError } = require('@latchkey/password-hash');
  const phpass = await verify(password, '$P$9IQRaTwmfeRo7ud9Fh4E2PdI0S3r.L0');
  const salted = await verify(password, { algorithm: 'sha1', hash: { value: 'ab' }, salt: { value: 's', position: 'suffix' } });
  verify(password, '$2b$04$x', function (err, ok) { if (err instanceof PasswordHashError) return err.code === 'over_cap'; return ok; });
  return { user_id: identifier, email_verified: phpass && salted };
}
`
    expect(await check({ 'login.js': good })).toBe('')
    const bad = `${HEADER}/** @param {string} identifier @param {string} password */
async function login(identifier, password) {
  const { verify } = require('@latchkey/password-hash');
  await verify(password, 42);
  await verify(password, { algorithm: 'sha1', hash: { value: 'ab' }, salt: { value: 's', position: 'middle' } });
  return { user_id: identifier };
}
`
    const errors = await check({ 'login.js': bad })
    expect(errors).toMatch(/login\.js\(6,\d+\): error TS2345/) // a number is no hash
    expect(errors).toMatch(/login\.js\(7,\d+\): error TS2322/) // a salt goes before or after, nowhere else
  }, 60_000)
})

describe('loadScripts', () => {
  it("reads a template folder's scripts as source strings", () => {
    const scripts = loadScripts(join(root, 'examples/custom-db/mysql'))
    expect(Object.keys(scripts).sort()).toEqual(['change_email', 'change_password', 'create', 'delete', 'get_user', 'login', 'verify'])
    expect(scripts.login).toContain('function login(identifier, password, callback)')
  })

  it('refuses a folder without login.js, or none at all, with InvalidInputError', () => {
    const empty = mkdtempSync(join(root, '.tmp', 'no-scripts-'))
    expect(() => loadScripts(empty)).toThrow(InvalidInputError)
    expect(() => loadScripts(join(empty, 'missing'))).toThrow(InvalidInputError)
  })
})
