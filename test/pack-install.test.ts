// The packages outside the repository: every package under packages/ is packed with pnpm and
// installed with npm into a fresh temporary app, which type-checks against the installed
// types and logs a user in. npm fetches the packages' own dependencies from the registry.
//
// Install scripts are skipped so as not to compile better-sqlite3 on every run: the app's
// login runs on PostgreSQL, and SQLite's native build is better-sqlite3's own business.
import { execFile } from 'node:child_process'
import { existsSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { promisify } from 'node:util'
import { describe, expect, it } from 'vitest'
import { DIALECTS, storeUrl } from './support/dialects.js'

const run = promisify(execFile)
const root = fileURLToPath(new URL('..', import.meta.url))

const APP = `
import { BuiltinConnection, closeHashPool, WrongUsernameOrPasswordError, type LatchkeyErrorCode } from '@latchkey/core'
import { openStore } from '@latchkey/adapters'
import type { StoreContractOptions } from '@latchkey/adapters/testing'
import { QuickJsRunner } from '@latchkey/sandbox'

declare const process: { env: Record<string, string | undefined>; pid: number } // the app has no @types/node
declare global {
  interface ImportMeta {
    resolve(specifier: string): string
  }
}
// The contract suite needs vitest, which this app has not: its types and its file must be there all the same.
const contract: StoreContractOptions = { name: 'packed' }
const testing = import.meta.resolve('@latchkey/adapters/testing')
const store = await openStore(process.env['STORE_URL']!)
const users = new BuiltinConnection({ name: 'packed-' + process.pid, store, bcryptCost: 4, unsafeLowCostForTests: true })
const ctx = { ip: '203.0.113.5' }
await users.signup({ email: 'ada@example.com', password: 'Tr0ub4dor-horse-42' }, ctx)
const profile = await users.login({ identifier: 'ada@example.com', password: 'Tr0ub4dor-horse-42' }, ctx)
const wrong: LatchkeyErrorCode = await users.login({ identifier: 'ada@example.com', password: 'Wrong-horse-battery-7' }, ctx)
  .then(() => 'user_exists' as const, (e: unknown) => (e instanceof WrongUsernameOrPasswordError ? e.code : 'script_error'))
const runner = new QuickJsRunner({ workers: 1 })
const { value } = await runner.run('function f(a, cb) { cb(null, a * 2) }', [21])
console.log(JSON.stringify({ email: profile.email, wrong, script: value, contract: contract.name, testing: testing.slice(testing.indexOf('/node_modules/')) }))
await runner.close()
await store.close()
await closeHashPool()
`

describe.runIf(DIALECTS.includes('postgres'))('the packed packages in a fresh app', () => {
  it('install with npm, type-check against their own types, and log a user in', async () => {
    const packs = mkdtempSync(join(tmpdir(), 'latchkey-packs-'))
    const { stdout } = await run('scripts/pack-packages.sh', [packs], { cwd: root, timeout: 240_000 })
    const tarballs = stdout.trim().split('\n')
    // Every package is packed, so a new one is proven installable too.
    expect(tarballs).toHaveLength(readdirSync(join(root, 'packages')).length)

    for (const tarball of tarballs) {
      const { stdout: listing } = await run('tar', ['tzf', tarball])
      expect(listing.split('\n'), tarball).toContain('package/LICENSE')
    }

    const app = mkdtempSync(join(tmpdir(), 'latchkey-app-'))
    writeFileSync(join(app, 'package.json'), JSON.stringify({ name: 'latchkey-app', private: true, type: 'module' }))
    writeFileSync(join(app, 'main.ts'), APP)
    writeFileSync(
      join(app, 'tsconfig.json'),
      JSON.stringify({
        compilerOptions: {
          target: 'ES2023',
          module: 'NodeNext',
          moduleResolution: 'NodeNext',
          strict: true,
          skipLibCheck: true,
          types: [],
        },
        files: ['main.ts'],
      }),
    )
    await run('npm', ['install', '--ignore-scripts', '--no-audit', '--no-fund', ...tarballs], { cwd: app, timeout: 300_000 })

    // tsc is the repository's; every type it sees comes from the app's node_modules. It emits main.js.
    await run(process.execPath, [join(root, 'node_modules/typescript/bin/tsc'), '-p', app], { cwd: app, timeout: 120_000 }).catch(
      (e: { stdout: string }) => {
        throw new Error(`the app does not type-check:\n${e.stdout}`)
      },
    )
    const out = await run(process.execPath, ['main.js'], {
      cwd: app,
      timeout: 120_000,
      env: { ...process.env, STORE_URL: storeUrl('postgres') },
    })
    expect(JSON.parse(out.stdout)).toEqual({
      email: 'ada@example.com',
      wrong: 'invalid_user_password',
      script: 42,
      contract: 'packed',
      testing: '/node_modules/@latchkey/adapters/dist/testing/index.js',
    })
    expect(existsSync(join(app, 'node_modules/@latchkey/adapters/dist/testing/store-contract.js'))).toBe(true)
    for (const dir of [packs, app]) rmSync(dir, { recursive: true, force: true })
  }, 600_000)
})
