import { createPool } from 'mysql2'
import { Kysely, MysqlDialect } from 'kysely'
import type { LatchkeyDatabase } from '../../database.js'
import type { DirectExecutor } from '../../prepared-queries.js'
import type { PoolOptions } from '../pool-options.js'

export function mysqlKysely(url: string, opts: PoolOptions = {}): { db: Kysely<LatchkeyDatabase>; direct: DirectExecutor } {
  const pool = createPool({
    uri: url,
    connectionLimit: opts.poolSize ?? 10,
    connectTimeout: opts.connectTimeoutMs ?? 5000,
    charset: 'utf8mb4_bin',
    timezone: 'Z',
    // BIGINT epoch milliseconds stay below 2^53; numbers, not strings.
    supportBigNumbers: true,
    bigNumberStrings: false,
  })
  const promisePool = pool.promise()
  const direct: DirectExecutor = async (_name, sql, values) => {
    // execute() prepares once per connection and caches the statement by its text.
    const [result] = await promisePool.execute(sql, values as never[])
    return Array.isArray(result)
      ? { rows: result as unknown[], affected: 0 }
      : { rows: [], affected: (result as { affectedRows: number }).affectedRows, insertId: (result as { insertId: number }).insertId }
  }
  return { db: new Kysely<LatchkeyDatabase>({ dialect: new MysqlDialect({ pool }) }), direct }
}
