// `latchkey import`, spawned as a user runs it: report of bad lines, Ctrl-C at a batch
// boundary and resume, on every dialect in DIALECTS.
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import bcrypt from 'bcryptjs'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { BuiltinConnection, closeHashPool } from '@latchkey/core'
import { openStore, type OpenedStore } from '@latchkey/adapters'
import { spawnSync } from 'node:child_process'
import { CLI_BIN, runCli, startCli } from './support/cli.js'
import { DIALECTS, storeUrl, uniqueName } from './support/dialects.js'
import { TEST_COST } from './support/test-cost.js'

const ctx = { ip: '203.0.113.61' }
const HASH = bcrypt.hashSync('Exported-pass-2024', 4)
const dir = mkdtempSync(join(tmpdir(), 'latchkey-cli-import-'))

afterAll(async () => {
  await closeHashPool()
})

/** Writes an NDJSON file of `lines` and returns its path. */
function ndjson(name: string, lines: string[]): string {
  const path = join(dir, name)
  writeFileSync(path, `${lines.join('\n')}\n`)
  return path
}

const user = (i: number, extra: object = {}) => JSON.stringify({ email: `user${i}@example.com`, password_hash: HASH, ...extra })

describe('latchkey import on a terminal', () => {
  it('draws a progress bar with count, rate and ETA, then a human summary', async () => {
    const url = storeUrl('sqlite')
    await runCli(['db', 'migrate', '--store', url])
    const file = ndjson('tty.ndjson', [...Array.from({ length: 3000 }, (_, i) => user(i)), '{oops'])
    // util-linux `script` gives the command a pseudo-terminal, as a person's shell would.
    const command = [process.execPath, CLI_BIN, 'import', file, '--connection', uniqueName('tty'), '--store', url, '--batch-size', '500']
      .map((a) => `'${a.replaceAll("'", "'\\''")}'`)
      .join(' ')
    const run = spawnSync('script', ['-qec', command, '/dev/null'], { encoding: 'utf8', env: { ...process.env, NO_COLOR: '1' } })
    expect(run.status).toBe(3) // the command's own status: one record failed
    const screen = run.stdout
    expect(screen).toMatch(/\d+% \| [\d,]+ records \| [\d,]+\/s \| \d+ failed \| ETA /)
    expect(screen).toContain('Imported ')
    expect(screen).toMatch(/records\s+3,001/)
    expect(screen).toMatch(/line 3001\s+invalid_json/)
  })
})

for (const dialect of DIALECTS) {
  describe(`latchkey import on ${dialect}`, () => {
    let url: string
    let store: OpenedStore
    beforeAll(async () => {
      url = storeUrl(dialect)
      store = await openStore(url) // migrated, so the command accepts it
    })
    afterAll(async () => {
      await store.close()
    })
    const count = async (connection: string) =>
      Number(
        (
          await store.db
            .selectFrom('latchkey_users')
            .select((eb) => eb.fn.countAll().as('n'))
            .where('connection', '=', connection)
            .executeTakeFirstOrThrow()
        ).n,
      )

    it('imports the good lines and reports every bad one with its 1-based line number', async () => {
      const name = uniqueName('imp')
      const file = ndjson(`mixed-${dialect}.ndjson`, [
        user(1, { user_id: 'legacy-1' }),
        '{"email": "broken@example.com"', // line 2: not JSON
        '', // line 3: blank, skipped but counted
        user(4),
        JSON.stringify({ email: 'not-an-email', password_hash: HASH }), // line 5
        JSON.stringify({ email: 'weak@example.com', password_hash: '$2b$04$short' }), // line 6: malformed hash
        user(7),
        user(7, { user_id: 'other' }), // line 8: same email, another user
      ])
      const report = join(dir, `failures-${dialect}.ndjson`)
      const r = await runCli(['import', file, '--connection', name, '--store', url, '--report', report])
      expect(r.code, r.stderr).toBe(3)
      expect(r.stdout).toContain('records: 7\nimported: 3\nupdated: 0\nskipped: 0\nfailed: 4\nline: 8\n')
      expect(r.stdout).toContain('failure: line 2 invalid_json: the line is not valid JSON\n')
      const failures = readFileSync(report, 'utf8')
        .trim()
        .split('\n')
        .map((l) => JSON.parse(l) as { line: number; code: string; email?: string })
      expect(failures.map((f) => [f.line, f.code])).toEqual([
        [2, 'invalid_json'],
        [5, 'invalid_record'],
        [6, 'malformed_hash'],
        [8, 'user_exists'],
      ])
      expect(failures[3]).toMatchObject({ email: 'user7@example.com', message: expect.stringContaining('exists already') })
      expect(readFileSync(report, 'utf8')).not.toContain(HASH)
      expect(await count(name)).toBe(3)
      const users = new BuiltinConnection({ name, store, ...TEST_COST })
      await expect(users.login({ identifier: 'user4@example.com', password: 'Exported-pass-2024' }, ctx)).resolves.toBeTruthy()

      const json = await runCli(['import', file, '--connection', name, '--store', url, '--json'])
      expect(json.code).toBe(3)
      expect(JSON.parse(json.stdout)).toMatchObject({
        processed: 7,
        imported: 0,
        skipped: 3,
        failed: 4,
        stopped: false,
        failures: [{ line: 2, code: 'invalid_json' }, {}, {}, {}],
      })
    })

    it('refuses a file it cannot read, and --upsert replaces what insert-only leaves alone', async () => {
      const name = uniqueName('imp')
      const missing = await runCli(['import', join(dir, 'nope.ndjson'), '--connection', name, '--store', url])
      expect(missing).toMatchObject({
        code: 1,
        stderr: `latchkey: file_unreadable: cannot read the import file ${join(dir, 'nope.ndjson')}: no such file\n`,
      })
      await runCli(['import', ndjson(`one-${dialect}.ndjson`, [user(1)]), '--connection', name, '--store', url])
      const renamed = ndjson(`renamed-${dialect}.ndjson`, [user(1, { name: 'Ada' })])
      expect((await runCli(['import', renamed, '--connection', name, '--store', url])).stdout).toContain(
        'imported: 0\nupdated: 0\nskipped: 1\n',
      )
      const upsert = await runCli(['import', renamed, '--connection', name, '--store', url, '--upsert'])
      expect(upsert.stdout).toContain('imported: 0\nupdated: 1\nskipped: 0\nfailed: 0\n')
      expect(await new BuiltinConnection({ name, store }).getUser('user1@example.com')).toMatchObject({ name: 'Ada' })
    })

    it('stops at a batch boundary on Ctrl-C, says how far it got, and resumes with nothing twice', async () => {
      const name = uniqueName('imp')
      const total = 20_000
      const lines = Array.from({ length: total }, (_, i) =>
        i === 1 || i === total - 2 ? '{oops' : user(i, i % 2 === 0 ? { user_id: `legacy-${i}` } : {}),
      )
      const file = ndjson(`big-${dialect}.ndjson`, lines)
      const args = ['import', file, '--connection', name, '--store', url, '--batch-size', '100', '--progress-interval', '0']
      const first = startCli(args)
      await first.waitFor(/^progress: .* imported [1-9]/)
      first.child.kill('SIGINT')
      const stopped = await first.done
      expect(stopped.code, stopped.stderr).toBe(130)
      expect(stopped.stderr).toContain('Stopping after the batch being written')
      expect(stopped.stdout).toMatch(/stopped: true\n/)
      expect(stopped.stdout).toContain('resume: run the same command again')
      const imported = Number(/^imported: (\d+)$/m.exec(stopped.stdout)![1])
      const line = Number(/^line: (\d+)$/m.exec(stopped.stdout)![1])
      expect(imported).toBeGreaterThan(0)
      expect(line).toBeLessThan(total)
      expect(await count(name)).toBe(imported) // what it says it wrote is exactly what is there

      const second = await runCli(args)
      expect(second.code, second.stderr).toBe(3)
      expect(second.stdout).toContain(`records: ${total}\nimported: ${total - 2 - imported}\nupdated: 0\nskipped: ${imported}\nfailed: 2\n`)
      expect(await count(name)).toBe(total - 2)
    })
  })
}
