// The MariaDB server the demo's legacy store lives on: the one LEGACY_MYSQL_URL or
// LATCHKEY_MYSQL_URL names, or else a throwaway one started (and later stopped) by
// scripts/start-databases.sh, as the test suite's servers are.
import { execFile } from 'node:child_process'
import { fileURLToPath } from 'node:url'
import { promisify } from 'node:util'

const run = promisify(execFile)
const scripts = fileURLToPath(new URL('../../scripts/', import.meta.url))
/** The variables start-databases.sh prints for a MariaDB server. */
const MARIADB_VARIABLES = ['LATCHKEY_MYSQL_URL', 'LATCHKEY_MYSQL_PORT', 'LATCHKEY_MYSQL_DATA', 'LATCHKEY_MYSQL_BIN']

export interface LegacyServer {
  url: URL
  /** True when the demo started the server itself (and `stop` stops it and deletes its data). */
  throwaway: boolean
  stop(): Promise<void>
}

/**
 * A MariaDB server for the legacy store. Without a URL and without MariaDB installed, says
 * in one line what to set or install, and exits.
 */
export async function legacyMariaDb(): Promise<LegacyServer> {
  for (const name of ['LEGACY_MYSQL_URL', 'LATCHKEY_MYSQL_URL']) {
    const value = process.env[name]
    if (value) return { url: new URL(value), throwaway: false, stop: async () => undefined }
  }
  let started: { stdout: string; stderr: string }
  try {
    started = await run(`${scripts}start-databases.sh`, ['mariadb'], { timeout: 180_000 })
  } catch (error) {
    const stderr = String((error as { stderr?: unknown }).stderr ?? '')
    const why = stderr.includes('not installed')
      ? 'MariaDB is not installed'
      : `a throwaway MariaDB did not start (${stderr.trim().split('\n').pop() ?? 'no reason given'})`
    console.error(
      `This demo needs MariaDB and ${why}: install it (apt-get install mariadb-server, as .ci/run does) so the demo can ` +
        'start a throwaway server, or set LATCHKEY_MYSQL_URL=mysql://user:pass@127.0.0.1:3306/legacy to use yours.',
    )
    process.exit(1)
  }
  process.stderr.write(started.stderr) // where the server runs and where its data lives
  const env = Object.fromEntries([...started.stdout.matchAll(/^export (\w+)='([^']*)'$/gm)].map((m) => [m[1]!, m[2]!]))
  // Only this server's variables reach stop-databases.sh, so a PostgreSQL the caller runs is never touched.
  const ownEnv = Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.startsWith('LATCHKEY_')))
  const stopEnv = { ...ownEnv, ...Object.fromEntries(MARIADB_VARIABLES.map((k) => [k, env[k] ?? ''])) }
  let stopped: Promise<void> | null = null
  return {
    url: new URL(env['LATCHKEY_MYSQL_URL']!),
    throwaway: true,
    stop: () => {
      stopped ??= run(`${scripts}stop-databases.sh`, [], { env: stopEnv, timeout: 60_000 }).then(({ stderr }) => {
        process.stderr.write(stderr)
      })
      return stopped
    },
  }
}
