import { Migrator, type Kysely, type MigrationResult } from 'kysely'
import type { DialectName } from '../dialects/dialect-name.js'
import { initialSchema } from './0001-initial-schema.js'

/** Our own table names, so a host app's Kysely migrations never collide with ours. */
export const MIGRATION_TABLE = 'latchkey_migration'
export const MIGRATION_LOCK_TABLE = 'latchkey_migration_lock'

/** Migrations ship in code, named in order. Never edit one that has shipped; add the next. */
function migrations(dialect: DialectName) {
  return { '0001-initial-schema': initialSchema(dialect) }
}

/**
 * Runs pending migrations under the dialect's lock (Kysely takes an advisory lock on
 * PostgreSQL, GET_LOCK on MySQL and a lock row on SQLite), so processes that start
 * together migrate once.
 */
export async function migrateToLatest(db: Kysely<unknown>, dialect: DialectName): Promise<MigrationResult[]> {
  const migrator = new Migrator({
    db,
    provider: { getMigrations: async () => migrations(dialect) },
    migrationTableName: MIGRATION_TABLE,
    migrationLockTableName: MIGRATION_LOCK_TABLE,
  })
  const { error, results } = await migrator.migrateToLatest()
  if (error) {
    const failed = results?.find((r) => r.status === 'Error')?.migrationName ?? 'unknown'
    throw new Error(`latchkey migration ${failed} failed: ${error instanceof Error ? error.message : String(error)}`, { cause: error })
  }
  return results ?? []
}
