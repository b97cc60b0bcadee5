// `latchkey migration status|finish` and `import --upsert` on a migrating connection, spawned
// as a user runs them, with a legacy MariaDB or PostgreSQL table behind the shipped templates.
import { mkdtempSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { BuiltinConnection, closeHashPool, type MigratingConnection } from '@latchkey/core'
import { openStore, type OpenedStore } from '@latchkey/adapters'
import { QuickJsRunner } from '@latchkey/sandbox'
import { runCli } from './support/cli.js'
import { DIALECTS, storeUrl, uniqueName } from './support/dialects.js'
import { legacyDatabase, legacyKinds, type LegacyDatabase } from './support/legacy-database.js'
import { migratingConnection } from './support/migrating.js'
import { TEST_COST } from './support/test-cost.js'

const PASSWORD = 'Tr0ub4dor-horse-42'
const ctx = { ip: '203.0.113.90' }
const runner = new QuickJsRunner({ timeoutMs: 5000, workers: 1 })
const dir = mkdtempSync(join(tmpdir(), 'latchkey-cli-migration-'))

afterAll(async () => {
  await runner.close()
  await closeHashPool()
})

// With SQLite alone there is no legacy database to migrate from: the suite is listed as skipped, not missing.
for (const kind of legacyKinds(DIALECTS).length > 0 ? legacyKinds(DIALECTS) : (['mysql'] as const)) {
  describe.runIf(DIALECTS.includes(kind))(`latchkey migration, legacy ${kind}, target SQLite`, () => {
    let legacy: LegacyDatabase
    let store: OpenedStore
    let url: string
    let config: string
    const name = uniqueName('mig')
    let users: MigratingConnection
    beforeAll(async () => {
      legacy = await legacyDatabase(kind)
      url = storeUrl('sqlite')
      store = await openStore(url)
      const templates = fileURLToPath(new URL(`../examples/custom-db/${kind}/`, import.meta.url))
      config = join(dir, `${kind}.json`)
      writeFileSync(
        config,
        JSON.stringify({
          scripts: { login: join(templates, 'login.js'), get_user: join(templates, 'get_user.js') },
          configuration: legacy.configuration,
          egress: legacy.egress,
        }),
      )
      users = migratingConnection(store, runner, legacy, { name }).users
    })
    afterAll(async () => {
      await store?.close()
      await legacy?.teardown()
    })

    it('status shows the users moved over, by flow and per day', async () => {
      await legacy.add({ email: 'ada@example.com', password: PASSWORD })
      await legacy.add({ email: 'grace@example.com', password: PASSWORD })
      await users.login({ identifier: 'ada@example.com', password: PASSWORD }, ctx)
      const r = await runCli(['migration', 'status', '--connection', name, '--config', config, '--store', url])
      expect(r.code, r.stderr).toBe(0)
      const today = new Date().toISOString().slice(0, 10)
      expect(r.stdout).toContain('imported: 1\nflow login: 1\ntombstones: 0\nconflicts: 0\nfinished: no\n')
      expect(r.stdout).toContain(`day: ${today} 1\n`)
      const json = await runCli(['migration', 'status', '--connection', name, '--config', config, '--store', url, '--json'])
      expect(JSON.parse(json.stdout)).toMatchObject({
        imported: 1,
        byFlow: { login: 1 },
        byDay: [{ day: today, count: 1 }],
        finishedAt: null,
      })
    })
    it('needs the legacy scripts in --config', async () => {
      const r = await runCli(['migration', 'status', '--connection', name, '--store', url])
      expect(r).toMatchObject({ code: 2, stderr: expect.stringMatching(/^latchkey: migration_config_required: /) })
    })
    it('refuses import --upsert on the migrating connection, with or without its config', async () => {
      const file = join(dir, 'export.ndjson')
      writeFileSync(file, `${JSON.stringify({ email: 'ada@example.com' })}\n`)
      for (const extra of [['--config', config], []]) {
        const r = await runCli(['import', file, '--connection', name, '--store', url, '--upsert', ...extra])
        expect(r.code).toBe(1)
        expect(r.stderr).toMatch(/^latchkey: migration_in_progress: --upsert is refused on /)
      }
      expect(await new BuiltinConnection({ name, store, ...TEST_COST }).getUser('ada@example.com')).toMatchObject({
        email: 'ada@example.com',
      })
    })
    it('finish asks for confirmation (or --yes), then legacy is never asked again', async () => {
      const unconfirmed = await runCli(['migration', 'finish', '--connection', name, '--config', config, '--store', url])
      expect(unconfirmed).toMatchObject({ code: 2, stderr: expect.stringMatching(/^latchkey: confirmation_required: /) })
      await expect(users.login({ identifier: 'grace@example.com', password: PASSWORD }, ctx)).resolves.toBeTruthy()
      await legacy.add({ email: 'alan@example.com', password: PASSWORD })
      const r = await runCli(['migration', 'finish', '--connection', name, '--config', config, '--store', url, '--yes'])
      expect(r.code, r.stderr).toBe(0)
      expect(r.stdout).toMatch(/^finished: \d{4}-\d\d-\d\dT/)
      await expect(users.login({ identifier: 'alan@example.com', password: PASSWORD }, ctx)).rejects.toMatchObject({
        code: 'invalid_user_password',
      })
      const status = await runCli(['migration', 'status', '--connection', name, '--config', config, '--store', url, '--json'])
      expect(JSON.parse(status.stdout)).toMatchObject({ imported: 2, finishedAt: expect.any(String) })
    })
  })
}
