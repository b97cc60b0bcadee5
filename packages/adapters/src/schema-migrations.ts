import type { Kysely } from 'kysely'
import { storeDialects } from './dialects/store-dialects.js'
import { translateStoreError } from './dialects/store-errors.js'
import type { DialectName } from './dialects/dialect-name.js'
import { listMigrations, migrateToLatest, type SchemaMigration } from './migrations/migrate.js'
import type { OpenedStore } from './open-store.js'

/**
 * The schema migrations this version ships, in order, with when each was applied
 * (`executedAt: null` means pending). Reads only; open the store with `{ migrate: false }`
 * to look before migrating.
 *
 * @example
 * const store = await openStore(url, { migrate: false })
 * const pending = (await schemaMigrations(store)).filter((m) => m.executedAt === null)
 */
export async function schemaMigrations(store: OpenedStore): Promise<SchemaMigration[]> {
  try {
    return await listMigrations(store.db as Kysely<unknown>, store.dialect as DialectName)
  } catch (error) {
    translateStoreError(storeDialects[store.dialect as DialectName], error)
  }
}

/**
 * Applies every pending schema migration and returns the names it applied, in order
 * (none when the schema is current). Safe to run from several processes at once.
 *
 * @example
 * const applied = await migrateSchema(await openStore(url, { migrate: false }))
 */
export async function migrateSchema(store: OpenedStore): Promise<string[]> {
  try {
    const results = await migrateToLatest(store.db as Kysely<unknown>, store.dialect as DialectName)
    return results.filter((r) => r.status === 'Success').map((r) => r.migrationName)
  } catch (error) {
    translateStoreError(storeDialects[store.dialect as DialectName], error)
  }
}
