// scripts/start-databases.sh and stop-databases.sh, and the demos without a database.
import { execFile } from 'node:child_process'
import { existsSync } from 'node:fs'
import net from 'node:net'
import { fileURLToPath } from 'node:url'
import { promisify } from 'node:util'
import { describe, expect, it } from 'vitest'
import { openStore } from '@latchkey/adapters'
import { sql } from 'kysely'
import { DIALECTS } from './support/dialects.js'

const run = promisify(execFile)
const root = fileURLToPath(new URL('..', import.meta.url))
/** The environment without any database settings a developer's shell may hold. */
const bareEnv = () => Object.fromEntries(Object.entries(process.env).filter(([k]) => !/^(LATCHKEY_|LEGACY_)/.test(k)))

/** Listens on `port` if it is free (null if something else holds it already). */
async function occupy(port: number): Promise<net.Server | null> {
  const server = net.createServer()
  return new Promise((resolve) => {
    server.once('error', () => resolve(null))
    server.listen(port, '127.0.0.1', () => resolve(server))
  })
}

const listening = (port: number) =>
  new Promise<boolean>((resolve) => {
    const socket = net.connect(port, '127.0.0.1', () => {
      socket.destroy()
      resolve(true)
    })
    socket.once('error', () => resolve(false))
  })

const parseEnv = (text: string) => Object.fromEntries([...text.matchAll(/^export (\w+)='([^']*)'$/gm)].map((m) => [m[1]!, m[2]!]))

// Needs the PostgreSQL and MariaDB binaries, which a run that names both dialects has.
describe.runIf(DIALECTS.includes('postgres') && DIALECTS.includes('mysql'))('scripts/start-databases.sh', () => {
  it('picks free ports when the usual ones are taken, prints them, and stop-databases.sh stops both', async () => {
    // The ports the script once had fixed: held here, it must go around them.
    const held = await Promise.all([55432, 53306].map(occupy))
    try {
      const started = await run('scripts/start-databases.sh', [], { cwd: root, env: bareEnv(), timeout: 120_000 })
      const env = parseEnv(started.stdout)
      expect(started.stderr).toContain(`PostgreSQL on 127.0.0.1:${env['LATCHKEY_PG_PORT']}`)
      expect(started.stderr).toContain(`MariaDB on 127.0.0.1:${env['LATCHKEY_MYSQL_PORT']}`)
      for (const url of [env['LATCHKEY_PG_URL']!, env['LATCHKEY_MYSQL_URL']!]) {
        const store = await openStore(url, { migrate: false })
        await expect(sql`select 1 as one`.execute(store.db)).resolves.toMatchObject({ rows: [{ one: 1 }] })
        await store.close()
      }
      await run('scripts/stop-databases.sh', [], { cwd: root, env: { ...bareEnv(), ...env }, timeout: 60_000 })
      expect(existsSync(env['LATCHKEY_PG_DATA']!)).toBe(false)
      expect(existsSync(env['LATCHKEY_MYSQL_DATA']!)).toBe(false)
      expect(await listening(Number(env['LATCHKEY_PG_PORT']))).toBe(false)
      expect(await listening(Number(env['LATCHKEY_MYSQL_PORT']))).toBe(false)
    } finally {
      for (const server of held) server?.close()
    }
  }, 180_000)
})

describe('scripts/start-databases.sh with a port asked for', () => {
  it('fails at once, naming the taken port and the variable, and creates nothing', async () => {
    const held = (await occupy(0))!
    const port = (held.address() as net.AddressInfo).port
    try {
      const failed = await run('scripts/start-databases.sh', [], {
        cwd: root,
        env: { ...bareEnv(), LATCHKEY_PG_PORT: String(port) },
        timeout: 30_000,
      }).catch((e: { code: number; stdout: string; stderr: string }) => e)
      expect(failed).toMatchObject({ code: 1, stdout: '' })
      expect(failed.stderr).toContain(`port ${port} (LATCHKEY_PG_PORT) is taken`)
    } finally {
      held.close()
    }
  })
})

describe('the database demos without a database URL', () => {
  for (const demo of ['mysql', 'postgres']) {
    it(`${demo}: one line saying how to start one, no stack trace`, async () => {
      const failed = await run(process.execPath, ['--import', 'tsx', `examples/custom-db/${demo}/demo.ts`], {
        cwd: root,
        env: bareEnv(),
        timeout: 30_000,
      }).catch((e: { code: number; stdout: string; stderr: string }) => e)
      expect(failed).toMatchObject({ code: 1, stdout: '' })
      expect(failed.stderr.trim().split('\n')).toHaveLength(1)
      expect(failed.stderr).toContain('scripts/start-databases.sh')
    })
  }
})
