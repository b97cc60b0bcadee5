// examples/migration end to end, as `pnpm demo:migration` runs it: a seeded legacy MariaDB
// (bcrypt, phpass and salted SHA-1 hashes, checked by its login script through
// @latchkey/password-hash), some users moved at login, the rest by bulk import, then finished.
// The counts before and after finishing: none lost, none duplicated.
import { execFile } from 'node:child_process'
import { existsSync } from 'node:fs'
import { dirname } from 'node:path'
import { fileURLToPath } from 'node:url'
import { promisify } from 'node:util'
import { describe, expect, it } from 'vitest'
import { DIALECTS } from './support/dialects.js'

const run = promisify(execFile)
const root = fileURLToPath(new URL('..', import.meta.url))
/** The environment without any database settings a developer's shell may hold. */
const bareEnv = () => Object.fromEntries(Object.entries(process.env).filter(([k]) => !/^(LATCHKEY_|LEGACY_)/.test(k)))

const demo = (env: NodeJS.ProcessEnv) =>
  run(process.execPath, ['--import', 'tsx', 'examples/migration/demo.ts'], { cwd: root, env, timeout: 240_000 })

interface Status {
  imported: number
  byFlow: Record<string, number>
  tombstones: number
  conflicts: number
  finishedAt: string | null
}

/** The JSON a demo step printed after `label: `, for every step with that label. */
const printed = <T>(out: string, label: string): T[] =>
  out
    .split('\n')
    .filter((l) => l.startsWith(`  ${label}: `))
    .map((l) => JSON.parse(l.slice(label.length + 4)) as T)

function checkOutput(stdout: string): void {
  const statuses = printed<Status>(stdout, 'migrationStatus')
  // Before anything, after the lazy logins, after the bulk import, after finishing.
  expect(statuses.map((s) => s.imported)).toEqual([0, 4, 9, 9])
  expect(statuses[1]!.byFlow).toEqual({ login: 4 })
  expect(statuses[2]!.byFlow).toEqual({ login: 4, bulk: 5 })
  expect(statuses.slice(0, 3).map((s) => s.finishedAt)).toEqual([null, null, null])
  expect(statuses[3]!.finishedAt).toMatch(/^\d{4}-\d\d-\d\dT/)
  expect(statuses.every((s) => s.conflicts === 0 && s.tombstones === 0)).toBe(true)
  // Every user of the export is either imported now or skipped as moved already: none twice, none refused.
  expect(printed(stdout, 'importUsers')).toEqual([{ processed: 9, imported: 5, skipped: 4, failed: 0 }])
  // The lazy logins, one per format, by email or username, each with the legacy id; and after finishing,
  // with the legacy table dropped, bulk-imported users of each format and grace with her new password.
  for (const [label, id] of [
    ['login ada@example.com (bcrypt)', '1'],
    ['login katherine (phpass)', '4'],
    ['login dorothy@example.com (salted-sha1)', '7'],
    ['login margaret (bulk-imported phpass, verified by latchkey)', '5'],
    ['login frances (bulk-imported salted SHA-1)', '9'],
    ['login alan (bulk-imported bcrypt)', '3'],
    ["login grace with her new password (the bulk import didn't overwrite it)", '2'],
  ] as const) {
    expect(printed<{ user_id: string }>(stdout, label)).toEqual([expect.objectContaining({ user_id: id })])
  }
  expect(stdout).toContain('  login with a wrong password (phpass, not moved): invalid_user_password')
  expect(stdout).toContain('  login grace with her old legacy password: invalid_user_password')
  expect(stdout).toContain('Users: legacy 9, latchkey 9 (4 at login, 5 in bulk); lost 0, duplicated 0')
  // No password of the seed reaches the output.
  for (const secret of ['Analytical-Engine-1843', 'Apollo-Guidance-1969', 'Optimizing-Compiler-06', 'Cobol-Compiler-Pioneer-59']) {
    expect(stdout).not.toContain(secret)
  }
}

describe.runIf(DIALECTS.includes('mysql'))('examples/migration (pnpm demo:migration)', () => {
  it('on the MariaDB LATCHKEY_MYSQL_URL names: lazy logins, bulk import, finish; none lost, none duplicated', async () => {
    const { stdout, stderr } = await demo({ ...bareEnv(), LATCHKEY_MYSQL_URL: process.env['LATCHKEY_MYSQL_URL']! })
    expect(stderr).not.toMatch(/Error/)
    checkOutput(stdout)
    expect(stdout).toMatch(/Legacy store: table legacy_users_[0-9a-f]{6} on MariaDB \(127\.0\.0\.1:\d+\), 9 users:/)
  }, 240_000)

  it('without a URL: starts a throwaway MariaDB, runs the same, then stops it and deletes its data', async () => {
    const { stdout, stderr } = await demo(bareEnv())
    checkOutput(stdout)
    expect(stdout).toContain('on a throwaway MariaDB, stopped at the end')
    const data = /MariaDB on 127\.0\.0\.1:\d+ \(data (\/tmp\/latchkey-mariadb\.\w+)\)/.exec(stderr)?.[1]
    expect(data).toBeDefined()
    expect(existsSync(data!)).toBe(false)
    expect(stderr).toContain(`MariaDB stopped, ${data} removed`)
  }, 240_000)
})

describe('examples/migration without a URL and without MariaDB', () => {
  it('says in one line what to install or set, with no stack trace', async () => {
    // A PATH with node but without /usr/sbin, where Debian puts mariadbd.
    const failed = await demo({ ...bareEnv(), PATH: `${dirname(process.execPath)}:/usr/bin:/bin` }).catch(
      (e: { code: number; stdout: string; stderr: string }) => e,
    )
    expect(failed).toMatchObject({ code: 1, stdout: '' })
    expect(failed.stderr.trim().split('\n')).toHaveLength(1)
    expect(failed.stderr).toContain('MariaDB is not installed: install it (apt-get install mariadb-server')
    expect(failed.stderr).toContain('LATCHKEY_MYSQL_URL=')
  }, 60_000)
})
