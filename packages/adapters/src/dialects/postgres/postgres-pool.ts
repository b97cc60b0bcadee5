import pg from 'pg'
import { Kysely, PostgresDialect } from 'kysely'
import type { LatchkeyDatabase } from '../../database.js'
import type { DirectExecutor } from '../../prepared-queries.js'
import type { PoolOptions } from '../pool-options.js'

export function postgresKysely(url: string, opts: PoolOptions = {}): { db: Kysely<LatchkeyDatabase>; direct: DirectExecutor } {
  const pool = new pg.Pool({
    connectionString: url,
    max: opts.poolSize ?? 10,
    connectionTimeoutMillis: opts.connectTimeoutMs ?? 5000,
  })
  // A client that loses its server emits 'error': on the pool while idle, on the client
  // while checked out. Unhandled, either would crash the host. The failure itself reaches
  // the caller through the query it breaks (as StoreUnavailableError), and pg-pool
  // discards a client that is no longer queryable when it is released.
  const ignoreLostConnection = () => {}
  pool.on('error', ignoreLostConnection)
  pool.on('connect', (client) => client.on('error', ignoreLostConnection))
  const direct: DirectExecutor = async (name, text, values) => {
    const result = await pool.query({ name, text, values })
    return { rows: result.rows, affected: result.rowCount ?? 0 }
  }
  return { db: new Kysely<LatchkeyDatabase>({ dialect: new PostgresDialect({ pool }) }), direct }
}
