import type { Kysely, Migration } from 'kysely'
import type { DialectName } from '../dialects/dialect-name.js'
import { createTable } from './create-table.js'

/**
 * The whole schema, designed at once so later features add no competing migrations:
 * users, password history, tickets, attack-protection counters, the lazy-migration log,
 * tombstones and per-connection settings.
 *
 * Portable types only: varchar, text, integer, bigint (epoch ms), double precision.
 * On MySQL/MariaDB every table is utf8mb4 with the binary collation, so "josé" and
 * "jose" stay distinct; SQLite's default BINARY collation and PostgreSQL's deterministic
 * collations already compare that way.
 */
export function initialSchema(dialect: DialectName): Migration {
  const table = <T extends string>(db: Kysely<unknown>, name: T) => createTable(db, dialect, name)
  const key = (n: number) => `varchar(${n})` as const

  return {
    async up(db) {
      await table(db, 'latchkey_users')
        .addColumn('connection', key(128), (c) => c.notNull())
        .addColumn('user_id', key(255), (c) => c.notNull())
        .addColumn('email', key(320))
        .addColumn('email_normalized', key(320))
        .addColumn('email_verified', 'integer', (c) => c.notNull().defaultTo(0))
        .addColumn('username', key(128))
        .addColumn('password_hash', key(255))
        .addColumn('legacy_hash', 'text')
        .addColumn('name', 'text')
        .addColumn('given_name', 'text')
        .addColumn('family_name', 'text')
        .addColumn('nickname', 'text')
        .addColumn('picture', 'text')
        .addColumn('user_metadata', 'text', (c) => c.notNull())
        .addColumn('app_metadata', 'text', (c) => c.notNull())
        .addColumn('blocked', 'integer', (c) => c.notNull().defaultTo(0))
        .addColumn('logins_count', 'integer', (c) => c.notNull().defaultTo(0))
        .addColumn('created_at', 'bigint', (c) => c.notNull())
        .addColumn('updated_at', 'bigint', (c) => c.notNull())
        .addColumn('last_login', 'bigint')
        .addColumn('last_password_reset', 'bigint')
        .addColumn('origin', key(64), (c) => c.notNull())
        .addPrimaryKeyConstraint('latchkey_users_pk', ['connection', 'user_id'])
        .addUniqueConstraint('latchkey_users_email_uq', ['connection', 'email_normalized'])
        .addUniqueConstraint('latchkey_users_username_uq', ['connection', 'username'])
        .execute()

      await table(db, 'latchkey_password_history')
        .addColumn('connection', key(128), (c) => c.notNull())
        .addColumn('user_id', key(255), (c) => c.notNull())
        .addColumn('password_hash', key(255), (c) => c.notNull())
        .addColumn('created_at', 'bigint', (c) => c.notNull())
        .addPrimaryKeyConstraint('latchkey_password_history_pk', ['connection', 'user_id', 'password_hash'])
        .execute()

      // No foreign keys from here on: tickets and counters also serve identifiers that
      // are not, or not yet, users (legacy users before import, unknown identifiers).
      await table(db, 'latchkey_tickets')
        .addColumn('token_hash', 'char(64)', (c) => c.notNull().primaryKey())
        .addColumn('connection', key(128), (c) => c.notNull())
        .addColumn('purpose', key(16), (c) => c.notNull())
        .addColumn('user_id', key(255), (c) => c.notNull())
        .addColumn('email_normalized', key(320), (c) => c.notNull())
        .addColumn('legacy_id', key(255))
        .addColumn('created_at', 'bigint', (c) => c.notNull())
        .addColumn('expires_at', 'bigint', (c) => c.notNull())
        .addColumn('used_at', 'bigint')
        .execute()
      await db.schema
        .createIndex('latchkey_tickets_email_ix')
        .on('latchkey_tickets')
        .columns(['connection', 'purpose', 'email_normalized', 'created_at'])
        .execute()
      await db.schema.createIndex('latchkey_tickets_user_ix').on('latchkey_tickets').columns(['connection', 'user_id', 'purpose']).execute()

      await table(db, 'latchkey_counters')
        .addColumn('connection', key(128), (c) => c.notNull())
        .addColumn('kind', key(32), (c) => c.notNull())
        .addColumn('counter_key', key(128), (c) => c.notNull())
        .addColumn('value', 'double precision', (c) => c.notNull())
        .addColumn('updated_at', 'bigint', (c) => c.notNull())
        .addColumn('blocked_until', 'bigint')
        .addPrimaryKeyConstraint('latchkey_counters_pk', ['connection', 'kind', 'counter_key'])
        .execute()

      await table(db, 'latchkey_migration_log')
        .addColumn('connection', key(128), (c) => c.notNull())
        .addColumn('user_id', key(255), (c) => c.notNull())
        .addColumn('flow', key(32), (c) => c.notNull())
        .addColumn('at', 'bigint', (c) => c.notNull())
        .addPrimaryKeyConstraint('latchkey_migration_log_pk', ['connection', 'user_id'])
        .execute()
      await db.schema.createIndex('latchkey_migration_log_at_ix').on('latchkey_migration_log').columns(['connection', 'at']).execute()

      await table(db, 'latchkey_tombstones')
        .addColumn('connection', key(128), (c) => c.notNull())
        .addColumn('user_id', key(255), (c) => c.notNull())
        .addColumn('email_normalized', key(320))
        .addColumn('deleted_at', 'bigint', (c) => c.notNull())
        .addPrimaryKeyConstraint('latchkey_tombstones_pk', ['connection', 'user_id'])
        .execute()
      await db.schema
        .createIndex('latchkey_tombstones_email_ix')
        .on('latchkey_tombstones')
        .columns(['connection', 'email_normalized'])
        .execute()

      await table(db, 'latchkey_settings')
        .addColumn('connection', key(128), (c) => c.notNull())
        .addColumn('setting_key', key(128), (c) => c.notNull())
        .addColumn('value', 'text', (c) => c.notNull())
        .addPrimaryKeyConstraint('latchkey_settings_pk', ['connection', 'setting_key'])
        .execute()
    },

    async down(db) {
      for (const name of [
        'latchkey_settings',
        'latchkey_tombstones',
        'latchkey_migration_log',
        'latchkey_counters',
        'latchkey_tickets',
        'latchkey_password_history',
        'latchkey_users',
      ]) {
        await db.schema.dropTable(name).ifExists().execute()
      }
    },
  }
}
