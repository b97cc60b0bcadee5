import { createPool } from 'mysql2'
import { Kysely, MysqlDialect } from 'kysely'
import type { LatchkeyDatabase } from '../database.js'
import type { PoolOptions } from './postgres.js'

export function mysqlKysely(url: string, opts: PoolOptions = {}): Kysely<LatchkeyDatabase> {
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
  return new Kysely<LatchkeyDatabase>({ dialect: new MysqlDialect({ pool }) })
}
