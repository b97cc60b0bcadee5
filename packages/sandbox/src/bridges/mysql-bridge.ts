import mysql from 'mysql2/promise'
import type { EgressPolicy } from '../egress/egress-policy.js'
import type { RunResources } from './run-resources.js'
import { safeSqlConfig, type SafeSqlConfig } from './sql-config.js'

/** Rows a query may return to a script. */
export const MAX_ROWS = 10_000

/**
 * `require('mysql')` on the host's mysql2. The script's SQL text and `?` parameters go to
 * the driver (`SET ?` objects included); the connection goes only to an allow-listed,
 * already-resolved address, with only the settings of {@link SafeSqlConfig}.
 */
export class MysqlBridge {
  private readonly connections = new Map<number, { config: SafeSqlConfig; conn: Promise<mysql.Connection> | null }>()
  private nextId = 1

  constructor(private readonly policy: EgressPolicy, private readonly resources: RunResources, private readonly deadline: number) {}

  open(config: unknown): number {
    const id = this.nextId++
    this.connections.set(id, { config: safeSqlConfig(config, 3306, ['mysql', 'mariadb']), conn: null })
    return id
  }

  async connect(id: number): Promise<void> {
    await this.connection(id)
  }

  async query(id: number, sql: string, values: unknown): Promise<unknown> {
    const conn = await this.connection(id)
    const [result] = await conn.query({ sql, timeout: Math.max(1, this.deadline - Date.now()) }, values as never)
    if (Array.isArray(result)) {
      if (result.length > MAX_ROWS) throw new Error(`the query returned more than ${MAX_ROWS} rows`)
      return { rows: result.map((row) => ({ ...row })) }
    }
    const header = result as unknown as Record<string, unknown>
    return { rows: null, info: { affectedRows: header['affectedRows'], insertId: header['insertId'], changedRows: header['changedRows'] } }
  }

  async end(id: number): Promise<void> {
    const entry = this.connections.get(id)
    this.connections.delete(id)
    const conn = await entry?.conn?.catch(() => null)
    if (conn) await conn.end().catch(() => conn.destroy())
  }

  /**
   * A server-side statement timeout at the run's deadline, so a query the run abandons
   * stops on the server too: MariaDB's max_statement_time (seconds), else MySQL's
   * max_execution_time (ms, SELECT only).
   */
  private async limitStatements(conn: mysql.Connection): Promise<void> {
    const remaining = Math.max(1, this.deadline - Date.now())
    try {
      await conn.query('SET SESSION max_statement_time = ?', [remaining / 1000])
    } catch {
      await conn.query('SET SESSION max_execution_time = ?', [Math.ceil(remaining)]).catch(() => undefined)
    }
  }

  private connection(id: number): Promise<mysql.Connection> {
    const entry = this.connections.get(id)
    if (!entry) return Promise.reject(new Error('this connection has ended'))
    entry.conn ??= (async () => {
      const { config } = entry
      const address = await this.policy.resolve(config.host, config.port)
      const conn = await mysql.createConnection({
        host: address,
        port: config.port,
        ...(config.user === undefined ? {} : { user: config.user }),
        ...(config.password === undefined ? {} : { password: config.password }),
        ...(config.database === undefined ? {} : { database: config.database }),
        ...(config.ssl ? { ssl: { rejectUnauthorized: true } } : {}),
        connectTimeout: Math.max(1, this.deadline - Date.now()),
        // No LOAD DATA LOCAL: the server must never read the host's files.
        flags: ['-LOCAL_FILES'],
        multipleStatements: false,
        timezone: 'Z',
      })
      conn.on('error', () => { /* surfaced through the query that fails */ })
      this.resources.add({ close: async () => { conn.destroy() } })
      await this.limitStatements(conn)
      return conn
    })()
    return entry.conn
  }
}
