import type { Kysely, Migration } from 'kysely'
import type { DialectName } from '../dialects/dialect-name.js'
import { createTable } from './create-table.js'

/**
 * What a lazy migration needs beyond 0001's migration log and tombstones: the legacy
 * identifiers of every imported user (never deleted, so an old email or username is
 * never sent to the legacy store again), and the conflicts an admin must look at.
 */
export function lazyMigrationSchema(dialect: DialectName): Migration {
  const table = <T extends string>(db: Kysely<unknown>, name: T) => createTable(db, dialect, name)
  return {
    async up(db) {
      await table(db, 'latchkey_legacy_identifiers')
        .addColumn('connection', 'varchar(128)', (c) => c.notNull())
        .addColumn('kind', 'varchar(16)', (c) => c.notNull())
        .addColumn('value', 'varchar(320)', (c) => c.notNull())
        .addColumn('user_id', 'varchar(255)', (c) => c.notNull())
        .addColumn('at', 'bigint', (c) => c.notNull())
        .addPrimaryKeyConstraint('latchkey_legacy_identifiers_pk', ['connection', 'kind', 'value'])
        .execute()
      await table(db, 'latchkey_migration_conflicts')
        .addColumn('connection', 'varchar(128)', (c) => c.notNull())
        .addColumn('legacy_id', 'varchar(255)', (c) => c.notNull())
        .addColumn('reason', 'varchar(64)', (c) => c.notNull())
        .addColumn('at', 'bigint', (c) => c.notNull())
        .addPrimaryKeyConstraint('latchkey_migration_conflicts_pk', ['connection', 'legacy_id', 'reason'])
        .execute()
    },
    async down(db) {
      await db.schema.dropTable('latchkey_migration_conflicts').ifExists().execute()
      await db.schema.dropTable('latchkey_legacy_identifiers').ifExists().execute()
    },
  }
}
