import type { Kysely } from 'kysely'
import { z } from 'zod'
import { LatchkeyError, StoreUnavailableError, type UserStore } from '@latchkey/core'
import { parseInput } from '@latchkey/core/internal'
import type { LatchkeyDatabase } from './database.js'
import type { DialectName } from './dialects/dialect-name.js'
import { badStoreUrl } from './dialects/bad-store-url.js'
import type { SqliteOptions } from './dialects/sqlite/sqlite-pool.js'
import type { StoreDialect } from './dialects/store-dialect.js'
import { dialectOfUrl, storeDialects } from './dialects/store-dialects.js'
import { unavailableError } from './dialects/store-errors.js'
import { KyselyUserStore } from './kysely-user-store.js'
import { migrateToLatest } from './migrations/migrate.js'
import type { DirectExecutor } from './prepared-queries.js'

/** Options of {@link openStore}; every one is validated. */
export const openStoreOptionsSchema = z.strictObject({
  /** Run pending migrations before returning. Default true. */
  migrate: z.boolean().optional(),
  /** Connections in the pool (PostgreSQL, MySQL). Default 10. */
  poolSize: z.number().int().min(1).max(1000).optional(),
  /** How long to wait for a connection before StoreUnavailableError, in ms. Default 5000. */
  connectTimeoutMs: z.number().int().min(1).max(600_000).optional(),
  /** SQLite durability and locking; see {@link SqliteOptions}. */
  sqlite: z
    .strictObject({
      synchronous: z.enum(['normal', 'full']).optional(),
      busyTimeoutMs: z.number().int().min(0).max(600_000).optional(),
    })
    .optional(),
})
export type OpenStoreOptions = z.input<typeof openStoreOptionsSchema>

/** What {@link openStore} opens: a URL, or a Kysely the host brings (and keeps). */
export const openStoreTargetSchema = z.union([
  z.string().min(1).max(4096),
  z.strictObject({
    // Duck-typed: the host's Kysely may be another copy of the package than ours.
    kysely: z.custom<Kysely<any>>(
      (v) => typeof v === 'object' && v !== null && 'selectFrom' in v && 'destroy' in v,
      'must be a Kysely instance',
    ),
    dialect: z.enum(['sqlite', 'postgres', 'mysql']),
  }),
])

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
  const where = parseInput(openStoreTargetSchema, target)
  const options = parseInput(openStoreOptionsSchema, opts)
  const storeDialect = typeof where === 'string' ? dialectOf(where) : storeDialects[where.dialect]
  const dialect = storeDialect.name
  let opened: { db: Kysely<LatchkeyDatabase>; direct?: DirectExecutor | undefined; owned: boolean }
  try {
    opened =
      typeof where === 'string'
        ? { ...storeDialect.open(where, options), owned: true }
        : { db: where.kysely as Kysely<LatchkeyDatabase>, owned: false }
  } catch (error) {
    throw openFailure(storeDialect, error)
  }
  const { db, direct, owned } = opened
  const store = new KyselyUserStore(
    db,
    dialect,
    async () => {
      if (owned) await db.destroy()
    },
    direct,
  )
  if (options.migrate ?? true) {
    try {
      await migrateToLatest(db as Kysely<unknown>, dialect)
    } catch (error) {
      await store.close().catch(() => {
        /* the migration's failure is the one to report */
      })
      throw openFailure(storeDialect, error)
    }
  }
  return store
}

/**
 * Every failure to open is a LatchkeyError: connection-level ones as StoreUnavailableError
 * (with the driver's code), anything else too, since the store cannot be used. A URL may
 * hold a password, so only SQLite's driver message (which names a file path) is repeated.
 */
function openFailure(dialect: StoreDialect, error: unknown): LatchkeyError {
  if (error instanceof LatchkeyError) return error
  const unavailable = unavailableError(dialect.name, error)
  if (unavailable) return unavailable
  const code = typeof error === 'object' && error !== null && 'code' in error ? ` (${String(error.code)})` : ''
  const detail = dialect.openMessageIsSafe && error instanceof Error ? `: ${error.message}` : code
  return new StoreUnavailableError(`The ${dialect.name} user store could not be opened${detail}.`, { cause: error })
}

function dialectOf(url: string): StoreDialect {
  const dialect = dialectOfUrl(url)
  if (!dialect) throw badStoreUrl("expected 'sqlite:…', 'postgres://…' or 'mysql://…'")
  return dialect
}
