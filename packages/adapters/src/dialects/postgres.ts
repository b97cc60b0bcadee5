import pg from 'pg'
import { Kysely, PostgresDialect } from 'kysely'
import type { LatchkeyDatabase } from '../database.js'

export interface PoolOptions {
  /** Connections in the pool. Default 10. */
  poolSize?: number
  /** How long to wait for a connection before StoreUnavailableError, in ms. Default 5000. */
  connectTimeoutMs?: number
}

export function postgresKysely(url: string, opts: PoolOptions = {}): Kysely<LatchkeyDatabase> {
  const pool = new pg.Pool({
    connectionString: url,
    max: opts.poolSize ?? 10,
    connectionTimeoutMillis: opts.connectTimeoutMs ?? 5000,
  })
  // An idle client that loses its server emits 'error' on the pool; unhandled, that would
  // crash the host. The pool discards the client itself, and the next query reconnects.
  pool.on('error', () => {})
  return new Kysely<LatchkeyDatabase>({ dialect: new PostgresDialect({ pool }) })
}
