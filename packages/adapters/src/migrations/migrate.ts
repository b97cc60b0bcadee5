import { Migrator, type Kysely, type MigrationResult } from 'kysely'
import type { DialectName } from '../dialects/dialect-name.js'
import { initialSchema } from './0001-initial-schema.js'
import { lazyMigrationSchema } from './0002-lazy-migration.js'

/** Our own table names, so a host app's Kysely migrations never collide with ours. */
export const MIGRATION_TABLE = 'latchkey_migration'
export const MIGRATION_LOCK_TABLE = 'latchkey_migration_lock'

/** Migrations ship in code, named in order. Never edit one that has shipped; add the next. */
function migrations(dialect: DialectName) {
  return { '0001-initial-schema': initialSchema(dialect), '0002-lazy-migration': lazyMigrationSchema(dialect) }
}

/**
 * Runs pending migrations so that processes starting together migrate once. On
 * PostgreSQL and MySQL, Kysely takes the dialect's lock (an advisory lock, GET_LOCK).
 * Kysely's SQLite lock only covers one process, so there a migration that lost the race
 * to another process (its DDL rolls back whole) is simply tried again, and then finds
 * the work done.
 */
export async function migrateToLatest(db: Kysely<unknown>, dialect: DialectName): Promise<MigrationResult[]> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await migrateOnce(db, dialect)
    } catch (error) {
      if (dialect !== 'sqlite' || attempt >= 5) throw error
      await new Promise((resolve) => setTimeout(resolve, 25 * attempt + Math.random() * 50))
    }
  }
}

/** One schema migration this version ships, and when it was applied (`null`: pending). */
export interface SchemaMigration {
  name: string
  executedAt: Date | null
}

/** Every migration this version ships, in order, with when each was applied. */
export async function listMigrations(db: Kysely<unknown>, dialect: DialectName): Promise<SchemaMigration[]> {
  const infos = await migratorOf(db, dialect).getMigrations()
  return infos.map((m) => ({ name: m.name, executedAt: m.executedAt ?? null }))
}

function migratorOf(db: Kysely<unknown>, dialect: DialectName): Migrator {
  return new Migrator({
    db,
    provider: { getMigrations: async () => migrations(dialect) },
    migrationTableName: MIGRATION_TABLE,
    migrationLockTableName: MIGRATION_LOCK_TABLE,
  })
}

async function migrateOnce(db: Kysely<unknown>, dialect: DialectName): Promise<MigrationResult[]> {
  const migrator = migratorOf(db, dialect)
  const { error, results } = await migrator.migrateToLatest()
  if (error) {
    const failed = results?.find((r) => r.status === 'Error')?.migrationName ?? 'unknown'
    throw new Error(`latchkey migration ${failed} failed: ${error instanceof Error ? error.message : String(error)}`, { cause: error })
  }
  return results ?? []
}
