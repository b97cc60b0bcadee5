// @latchkey/adapters: the public API. What is not exported here is private.
export { openStore, openStoreOptionsSchema, openStoreTargetSchema } from './open-store.js'
export type { OpenStoreOptions, OpenedStore } from './open-store.js'
export { KyselyUserStore } from './kysely-user-store.js'
export type { DialectName } from './dialects/dialect-name.js'
export type { SqliteOptions } from './dialects/sqlite.js'
export type { PoolOptions } from './dialects/postgres.js'
export type { LatchkeyDatabase } from './database.js'
export { MIGRATION_TABLE, MIGRATION_LOCK_TABLE } from './migrations/migrate.js'
