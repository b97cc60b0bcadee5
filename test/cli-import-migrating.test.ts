// Found by an attack review: `latchkey import` on a connection being migrated (its --config names legacy scripts,
// so the CLI knows: it refuses --upsert there) still imports through the plain built-in path,
// not the migrating connection's: no tombstone check. A user deleted during the migration comes
// back with the export's password hash when the operator follows the README ("bulk-import the
// remaining users first", then `latchkey migration finish`).
import { mkdtempSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { closeHashPool, type MigratingConnection } from '@latchkey/core'
import { bcryptHash } from '@latchkey/core/internal'
import { openStore, type OpenedStore } from '@latchkey/adapters'
import { QuickJsRunner } from '@latchkey/sandbox'
import { runCli } from './support/cli.js'
import { DIALECTS, storeUrl, uniqueName } from './support/dialects.js'
import { legacyDatabase, legacyKinds, type LegacyDatabase } from './support/legacy-database.js'
import { migratingConnection } from './support/migrating.js'

const PASSWORD = 'Tr0ub4dor-horse-42'
const ctx = { ip: '203.0.113.91' }
const runner = new QuickJsRunner({ timeoutMs: 8000, workers: 1 })
const dir = mkdtempSync(join(tmpdir(), 'latchkey-atk-cli-'))
afterAll(async () => {
  await runner.close()
  await closeHashPool()
})
const kind = legacyKinds(DIALECTS)[0]

describe.runIf(kind !== undefined)('latchkey import on a connection being migrated', () => {
  let legacy: LegacyDatabase
  let store: OpenedStore
  let url: string
  let config: string
  const name = uniqueName('mig')
  let users: MigratingConnection
  beforeAll(async () => {
    legacy = await legacyDatabase(kind!)
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

  it('does not bring back a user deleted during the migration', async () => {
    const address = `${uniqueName('gone')}@example.com`
    const id = await legacy.add({ email: address, password: PASSWORD })
    await users.login({ identifier: address, password: PASSWORD }, ctx) // moved over
    await users.deleteUser(id) // deleted: a tombstone, "never imported again"
    expect(await store.findUser(name, { userId: id })).toBeNull()

    // The legacy export still lists them, as exports do.
    const file = join(dir, 'export.ndjson')
    writeFileSync(file, `${JSON.stringify({ user_id: id, email: address, password_hash: await bcryptHash(PASSWORD, 4) })}\n`)
    await runCli(['import', file, '--connection', name, '--store', url, '--config', config, '--json'])

    expect(await store.findUser(name, { userId: id })).toBeNull()
  })

  it('refuses an import without the legacy scripts once the store shows the migration, rather than take the plain path', async () => {
    const file = join(dir, 'export-plain.ndjson')
    writeFileSync(file, `${JSON.stringify({ user_id: 'plain-1', email: `${uniqueName('plain')}@example.com` })}\n`)
    const r = await runCli(['import', file, '--connection', name, '--store', url])
    expect(r.code).toBe(2)
    expect(r.stderr).toMatch(/^latchkey: migration_config_required: /)
    expect(await store.findUser(name, { userId: 'plain-1' })).toBeNull()
  })
})
