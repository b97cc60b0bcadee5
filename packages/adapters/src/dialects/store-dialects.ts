import type { DialectName } from './dialect-name.js'
import { mysqlStoreDialect } from './mysql/mysql-store-dialect.js'
import { postgresStoreDialect } from './postgres/postgres-store-dialect.js'
import { sqliteStoreDialect } from './sqlite/sqlite-store-dialect.js'
import type { StoreDialect } from './store-dialect.js'

/** Every dialect latchkey's store runs on, by name. */
export const storeDialects: Readonly<Record<DialectName, StoreDialect>> = {
  sqlite: sqliteStoreDialect,
  postgres: postgresStoreDialect,
  mysql: mysqlStoreDialect,
}

/** The dialect a store URL names, or undefined. */
export function dialectOfUrl(url: string): StoreDialect | undefined {
  return Object.values(storeDialects).find((d) => d.matchesUrl(url))
}
