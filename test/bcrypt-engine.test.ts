import { execFileSync } from 'node:child_process'
import { cpSync, mkdirSync, mkdtempSync, symlinkSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join, resolve } from 'node:path'
import { pathToFileURL } from 'node:url'
import native from '@node-rs/bcrypt'
import bcryptjs from 'bcryptjs'
import { afterAll, describe, expect, it } from 'vitest'
import { closeHashPool } from '@latchkey/core'
import { bcryptCompare, bcryptHash, hashPoolStats } from '@latchkey/core/internal'

afterAll(async () => {
  await closeHashPool()
})

const core = resolve('packages/core')

/** Runs `body` in a fresh Node process against the built core at `dist`, with `env` added. */
function inChild(dist: string, body: string, env: Record<string, string> = {}): unknown {
  const script = `
    const pool = await import(${JSON.stringify(pathToFileURL(join(dist, 'password/hash-pool.js')).href)})
    const out = await (async () => { ${body} })()
    await pool.closeHashPool()
    console.log(JSON.stringify(out))`
  // A file, not --eval: workers inherit the parent's exec arguments.
  const file = join(mkdtempSync(join(tmpdir(), 'latchkey-engine-')), 'child.mjs')
  writeFileSync(file, script)
  // Without the NODE_PATH vitest sets (pnpm's hoisted store), as a user's process runs.
  const { NODE_PATH: _hoisted, ...inherited } = process.env
  const stdout = execFileSync(process.execPath, [file], { env: { ...inherited, ...env }, timeout: 30_000 })
  return JSON.parse(stdout.toString())
}

describe('bcrypt engine', () => {
  it('the pool runs the native binding when it is installed', async () => {
    await bcryptHash('Tr0ub4dor-horse-42', 4)
    expect(hashPoolStats().engine).toBe('native')
  })

  it('falls back to bcryptjs, without an error, where the binding is not installed', () => {
    // A copy of core's build beside every dependency but the native binding.
    const root = mkdtempSync(join(tmpdir(), 'latchkey-nonative-'))
    cpSync(join(core, 'dist'), join(root, 'dist'), { recursive: true })
    mkdirSync(join(root, 'node_modules/@zxcvbn-ts'), { recursive: true })
    for (const dep of ['bcryptjs', 'zod', 'hash-wasm', '@zxcvbn-ts/language-common']) {
      symlinkSync(join(core, 'node_modules', dep), join(root, 'node_modules', dep), 'dir')
    }
    const out = inChild(
      join(root, 'dist'),
      `
      const hash = await pool.bcryptHash('Tr0ub4dor-horse-42', 4)
      return { engine: pool.hashPoolStats().engine, hash, ok: await pool.bcryptCompare('Tr0ub4dor-horse-42', hash) }`,
    ) as { engine: string; hash: string; ok: boolean }
    expect(out.engine).toBe('bcryptjs')
    expect(out.ok).toBe(true)
    expect(native.verifySync('Tr0ub4dor-horse-42', out.hash)).toBe(true)
  })

  it('LATCHKEY_BCRYPT_ENGINE=bcryptjs forces the pure-JS implementation', () => {
    const out = inChild(join(core, 'dist'), `return pool.hashPoolStats().engine`, { LATCHKEY_BCRYPT_ENGINE: 'bcryptjs' })
    expect(out).toBe('bcryptjs')
  })

  // Passwords a bridge can hand to bcrypt: NUL bytes (the sandbox's bcrypt module), the
  // 72-byte boundary, multi-byte characters across it.
  const passwords = ['Tr0ub4dor-horse-42', 'nul\u0000inside', '\u0000', 'x'.repeat(71), 'x'.repeat(72), 'é'.repeat(36), '密码'.repeat(12)]

  it('hashes of the pool verify in bcryptjs, and bcryptjs hashes verify in the pool', async () => {
    for (const password of passwords) {
      const ours = await bcryptHash(password, 4)
      expect(bcryptjs.compareSync(password, ours)).toBe(true)
      expect(bcryptjs.compareSync(`W${password.slice(1)}`, ours)).toBe(false)
      const theirs = bcryptjs.hashSync(password, 4)
      expect(await bcryptCompare(password, theirs)).toBe(true)
    }
  })

  it('a NUL byte does not end the password: what follows it counts', async () => {
    const hash = await bcryptHash('nul\u0000inside', 4)
    expect(await bcryptCompare('nul', hash)).toBe(false)
    expect(await bcryptCompare('nul\u0000outside', hash)).toBe(false)
    expect(bcryptjs.compareSync('nul', hash)).toBe(false)
  })

  it('both read only the first 72 bytes, the same way (latchkey refuses longer passwords before hashing)', async () => {
    const hash = await bcryptHash('x'.repeat(72), 4)
    expect(await bcryptCompare('x'.repeat(73), hash)).toBe(true)
    expect(bcryptjs.compareSync('x'.repeat(73), hash)).toBe(true)
    expect(await bcryptCompare('x'.repeat(71), hash)).toBe(false)
  })

  it('$2a$, $2b$ and $2y$ hashes verify in both directions', async () => {
    for (const prefix of ['$2a$', '$2b$', '$2y$']) {
      const fromJs = prefix + bcryptjs.hashSync('Tr0ub4dor-horse-42', 4).slice(4)
      expect(await bcryptCompare('Tr0ub4dor-horse-42', fromJs)).toBe(true)
      expect(await bcryptCompare('Tr0ub4dor-horse-43', fromJs)).toBe(false)
      const fromPool = prefix + (await bcryptHash('Tr0ub4dor-horse-42', 4)).slice(4)
      expect(bcryptjs.compareSync('Tr0ub4dor-horse-42', fromPool)).toBe(true)
      expect(native.verifySync('Tr0ub4dor-horse-42', fromPool)).toBe(true)
    }
  })
})
