import Database from 'better-sqlite3'
import { Kysely, SqliteDialect, type SqliteDatabase, type SqliteStatement } from 'kysely'
import type { LatchkeyDatabase } from '../../database.js'

export interface SqliteOptions {
  /**
   * 'normal' (default) with WAL: a committed write survives a process crash; the last
   * transactions may roll back on power loss. 'full' also survives power loss, at the
   * cost of an fsync per commit.
   */
  synchronous?: 'normal' | 'full' | undefined
  /** How long a writer waits for another process's lock, in ms. Default 5000. */
  busyTimeoutMs?: number | undefined
}

export function sqliteKysely(path: string, opts: SqliteOptions = {}): Kysely<LatchkeyDatabase> {
  const db = new Database(path)
  if (path !== ':memory:') db.pragma('journal_mode = WAL')
  db.pragma(`synchronous = ${opts.synchronous === 'full' ? 'FULL' : 'NORMAL'}`)
  db.pragma(`busy_timeout = ${Math.trunc(opts.busyTimeoutMs ?? 5000)}`)
  return new Kysely<LatchkeyDatabase>({ dialect: new SqliteDialect({ database: withStatementCache(db) }) })
}

/**
 * Kysely prepares every statement anew; a login runs the same few statements each time,
 * so reusing prepared statements takes SQLite's parse and plan off the hot path.
 * Streaming (`iterate`) gets a fresh statement, since a cached one may be mid-iteration.
 */
function withStatementCache(db: Database.Database, max = 256): SqliteDatabase {
  const cache = new Map<string, Database.Statement>()
  return {
    close: () => db.close(),
    prepare(sql: string): SqliteStatement {
      let stmt = cache.get(sql)
      if (stmt) {
        cache.delete(sql) // re-insert below: the Map's order is the LRU order
      } else {
        stmt = db.prepare(sql)
        if (cache.size >= max) cache.delete(cache.keys().next().value!)
      }
      cache.set(sql, stmt)
      const cached = stmt
      return {
        reader: cached.reader,
        all: (parameters) => cached.all(...parameters),
        run: (parameters) => cached.run(...parameters),
        iterate: (parameters) => db.prepare(sql).iterate(...parameters),
      }
    },
  }
}
