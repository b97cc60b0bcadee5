import pg from 'pg'
import type { SafeSqlConfig } from './sql-config.js'
import { cappedRows, SqlConnections, type SqlRun } from './sql-connections.js'
import type { SqlDriver } from './sql-pool.js'

/** The statement limit each client was connected with: what DISCARD ALL (RESET ALL) returns it to. */
const startupLimit = new WeakMap<pg.Client, number>()

/**
 * pg for the pools: connects with only the safe settings; resets a client with ROLLBACK
 * (when a transaction is open or failed) and DISCARD ALL (session settings such as
 * search_path and roles, temporary tables, prepared statements, cursors, advisory locks,
 * LISTEN registrations).
 */
const pgDriver: SqlDriver<pg.Client> = {
  async connect(config: SafeSqlConfig, address: string, limitMs: number) {
    // pg fills any field it finds empty from PG* variables, defaults and a pgpass file. The
    // worker's environment is empty, and every field is given here, the password as a
    // function, which pg calls instead of ever reading a pgpass file: a script's server
    // learns only what the script itself said.
    const password = config.password ?? ''
    const client = new pg.Client({
      host: address,
      port: config.port,
      user: config.user ?? '',
      database: config.database ?? config.user ?? '',
      password: () => password,
      options: '',
      application_name: 'latchkey-script',
      fallback_application_name: 'latchkey-script',
      client_encoding: 'UTF8',
      ssl: config.ssl ? { rejectUnauthorized: true, servername: config.host } : false,
      connectionTimeoutMillis: limitMs,
      statement_timeout: Math.ceil(limitMs),
    })
    client.on('error', () => {
      /* surfaced through the query that fails */
    })
    try {
      await client.connect()
    } catch (error) {
      await pgDriver.close(client)
      throw error
    }
    startupLimit.set(client, Math.ceil(limitMs))
    return client
  },

  async limit(client, limitMs) {
    await client.query('SELECT set_config($1, $2, false)', ['statement_timeout', String(Math.ceil(limitMs))])
  },

  async reset(client) {
    const status = (client as unknown as { getTransactionStatus(): string | null }).getTransactionStatus()
    if (status !== 'I') await client.query('ROLLBACK')
    await client.query('DISCARD ALL')
    return startupLimit.get(client) ?? null
  },

  usable(client) {
    const c = client as unknown as { _ending?: boolean; _queryable?: boolean }
    return c._ending !== true && c._queryable !== false
  },

  async close(client) {
    await Promise.race([client.end(), new Promise((resolve) => setTimeout(resolve, 200))]).catch(() => undefined)
  },
}

/**
 * `require('pg')` on the host's pg: parameterised text plus values, a statement timeout
 * tied to the run's deadline, and a row cap.
 */
export class PgBridge extends SqlConnections<pg.Client> {
  protected readonly driver = pgDriver

  constructor(run: SqlRun) {
    super(run, 'pg', 5432, ['postgres', 'postgresql'])
  }

  async query(id: number, text: string, values: unknown): Promise<unknown> {
    const result = await this.using(id, (client) =>
      client.query({ text, values: Array.isArray(values) ? values : [], query_timeout: this.remainingMs() } as pg.QueryConfig),
    )
    return {
      rows: cappedRows(result.rows),
      rowCount: result.rowCount,
      command: result.command,
      fields: result.fields.map((f) => ({ name: f.name })),
    }
  }

  /** A server's error carries a five-character SQLSTATE; anything else is the connection's. */
  protected fatal(error: unknown): boolean {
    const code = (error as { code?: unknown } | null)?.code
    return typeof code !== 'string' || code.length !== 5
  }
}
