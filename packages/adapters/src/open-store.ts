import type { Kysely } from 'kysely'
import type { UserStore } from '@latchkey/core'
import { InvalidInputError } from '@latchkey/core'
import type { LatchkeyDatabase } from './database.js'
import type { DialectName } from './dialects/dialect-name.js'
import { mysqlKysely } from './dialects/mysql.js'
import { postgresKysely, type PoolOptions } from './dialects/postgres.js'
import { sqliteKysely, type SqliteOptions } from './dialects/sqlite.js'
import { translateStoreError } from './dialects/store-errors.js'
import { KyselyUserStore } from './kysely-user-store.js'
import { migrateToLatest } from './migrations/migrate.js'
import type { DirectExecutor } from './prepared-queries.js'

export interface OpenStoreOptions extends PoolOptions {
  /** Run pending migrations before returning. Default true. */
  migrate?: boolean
  /** SQLite durability and locking; see {@link SqliteOptions}. */
  sqlite?: SqliteOptions
}

export type OpenedStore = UserStore & { readonly db: Kysely<LatchkeyDatabase>; close(): Promise<void> }

/**
 * Opens a user store and, unless `{ migrate: false }`, runs pending migrations.
 *
 * - `'sqlite::memory:'`, `'sqlite:path/to/file.db'`: embedded, WAL, durable across a process crash;
 * - `'postgres://user:pass@host:5432/db'`;
 * - `'mysql://user:pass@host:3306/db'` (MySQL or MariaDB);
 * - `{ kysely, dialect }`: bring your own Kysely instance. Closing the store does not
 *   destroy a Kysely you brought.
 *
 * @example
 * const store = await openStore('sqlite:latchkey.db')
 * // ... on shutdown:
 * await store.close()
 */
export async function openStore(
  target: string | { kysely: Kysely<any>; dialect: DialectName },
  opts: OpenStoreOptions = {},
): Promise<OpenedStore> {
  const { db, dialect, direct, owned } = typeof target === 'string'
    ? { ...fromUrl(target, opts), owned: true }
    : { db: target.kysely as Kysely<LatchkeyDatabase>, dialect: checkDialect(target.dialect), direct: undefined, owned: false }
  const store = new KyselyUserStore(db, dialect, async () => {
    if (owned) await db.destroy()
  }, direct)
  if (opts.migrate ?? true) {
    try {
      await migrateToLatest(db as Kysely<unknown>, dialect)
    } catch (error) {
      await store.close()
      translateStoreError(dialect, error)
    }
  }
  return store
}

function fromUrl(url: string, opts: OpenStoreOptions): { db: Kysely<LatchkeyDatabase>; dialect: DialectName; direct?: DirectExecutor } {
  if (url.startsWith('sqlite:')) {
    const path = url.slice('sqlite:'.length).replace(/^\/\//, '')
    if (path === '') throw badUrl('a SQLite URL needs a path, or :memory:')
    return { db: sqliteKysely(path, opts.sqlite), dialect: 'sqlite' }
  }
  if (/^postgres(ql)?:\/\//.test(url)) return { ...postgresKysely(url, opts), dialect: 'postgres' }
  if (/^(mysql|mariadb):\/\//.test(url)) return { ...mysqlKysely(url.replace(/^mariadb:/, 'mysql:'), opts), dialect: 'mysql' }
  throw badUrl("expected 'sqlite:…', 'postgres://…' or 'mysql://…'")
}

function checkDialect(dialect: string): DialectName {
  if (dialect === 'sqlite' || dialect === 'postgres' || dialect === 'mysql') return dialect
  throw new InvalidInputError([{ path: ['dialect'], code: 'invalid_value', message: "must be 'sqlite', 'postgres' or 'mysql'" }])
}

// The URL may hold a password, so the message never repeats it.
function badUrl(why: string): InvalidInputError {
  return new InvalidInputError([{ path: ['url'], code: 'invalid_value', message: why }])
}
