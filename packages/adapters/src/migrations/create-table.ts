import { sql, type CreateTableBuilder, type Kysely } from 'kysely'
import type { DialectName } from '../dialects/dialect-name.js'

/**
 * `create table` for every migration: on MySQL/MariaDB, InnoDB and utf8mb4 with the binary
 * collation, so "josé" and "jose" stay distinct as they do on SQLite and PostgreSQL.
 */
export function createTable<T extends string>(db: Kysely<unknown>, dialect: DialectName, name: T): CreateTableBuilder<T, never> {
  const builder = db.schema.createTable(name)
  return (
    dialect === 'mysql' ? builder.modifyEnd(sql`engine = InnoDB default character set utf8mb4 collate utf8mb4_bin`) : builder
  ) as CreateTableBuilder<T, never>
}
