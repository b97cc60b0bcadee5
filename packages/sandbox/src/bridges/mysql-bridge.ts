import type mysql from 'mysql2/promise'

// mysql2 is loaded by the first script that uses it, not by every worker at start-up.
let driver: Promise<typeof mysql> | null = null
const loadDriver = () => (driver ??= import('mysql2/promise').then((m) => m.default))
import type { EgressPolicy } from '../egress/egress-policy.js'
import type { RunResources } from './run-resources.js'
import type { SafeSqlConfig } from './sql-config.js'
import { cappedRows, SqlConnections } from './sql-connections.js'

/**
 * `require('mysql')` on the host's mysql2. The script's SQL text and `?` parameters go to
 * the driver (`SET ?` objects included), with a statement timeout and a row cap.
 */
export class MysqlBridge extends SqlConnections<mysql.Connection> {
  constructor(policy: EgressPolicy, resources: RunResources, deadline: number) {
    super(policy, resources, deadline, 3306, ['mysql', 'mariadb'])
  }

  async query(id: number, sql: string, values: unknown): Promise<unknown> {
    const conn = await this.connection(id)
    const [result] = await conn.query({ sql, timeout: this.remainingMs() }, values as never)
    if (Array.isArray(result)) {
      return { rows: cappedRows(result as object[]).map((row) => ({ ...row })) }
    }
    const header = result as unknown as Record<string, unknown>
    return { rows: null, info: { affectedRows: header['affectedRows'], insertId: header['insertId'], changedRows: header['changedRows'] } }
  }

  protected async create(config: SafeSqlConfig, address: string): Promise<mysql.Connection> {
    const conn = await (await loadDriver()).createConnection({
      host: address,
      port: config.port,
      ...(config.user === undefined ? {} : { user: config.user }),
      ...(config.password === undefined ? {} : { password: config.password }),
      ...(config.database === undefined ? {} : { database: config.database }),
      ...(config.ssl ? { ssl: { rejectUnauthorized: true } } : {}),
      connectTimeout: this.remainingMs(),
      // No LOAD DATA LOCAL: the server must never read the host's files. Without the flag the
      // client does not offer it; without an infileStreamFactory mysql2 sends nothing even
      // to a server that asks anyway.
      flags: ['-LOCAL_FILES'],
      multipleStatements: false,
      timezone: 'Z',
    })
    conn.on('error', () => {
      /* surfaced through the query that fails */
    })
    this.resources.add({
      close: async () => {
        conn.destroy()
      },
    })
    await this.limitStatements(conn)
    return conn
  }

  protected async close(conn: mysql.Connection): Promise<void> {
    await conn.end().catch(() => conn.destroy())
  }

  /**
   * A server-side statement timeout at the run's deadline, so a query the run abandons
   * stops on the server too: MariaDB's max_statement_time (seconds), else MySQL's
   * max_execution_time (ms, SELECT only; a server with neither keeps the client timeout).
   */
  private async limitStatements(conn: mysql.Connection): Promise<void> {
    const remaining = this.remainingMs()
    try {
      await conn.query('SET SESSION max_statement_time = ?', [remaining / 1000])
    } catch {
      await conn.query('SET SESSION max_execution_time = ?', [Math.ceil(remaining)]).catch(() => undefined)
    }
  }
}
