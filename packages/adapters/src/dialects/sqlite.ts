import Database from 'better-sqlite3'
import { Kysely, SqliteDialect } from 'kysely'
import type { LatchkeyDatabase } from '../database.js'

export interface SqliteOptions {
  /**
   * 'normal' (default) with WAL: a committed write survives a process crash; the last
   * transactions may roll back on power loss. 'full' also survives power loss, at the
   * cost of an fsync per commit.
   */
  synchronous?: 'normal' | 'full'
  /** How long a writer waits for another process's lock, in ms. Default 5000. */
  busyTimeoutMs?: number
}

export function sqliteKysely(path: string, opts: SqliteOptions = {}): Kysely<LatchkeyDatabase> {
  const db = new Database(path)
  if (path !== ':memory:') db.pragma('journal_mode = WAL')
  db.pragma(`synchronous = ${opts.synchronous === 'full' ? 'FULL' : 'NORMAL'}`)
  db.pragma(`busy_timeout = ${Math.trunc(opts.busyTimeoutMs ?? 5000)}`)
  return new Kysely<LatchkeyDatabase>({ dialect: new SqliteDialect({ database: db }) })
}
