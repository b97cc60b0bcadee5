import type mysql from 'mysql2/promise'

// mysql2 is loaded by the first script that uses it, not by every worker at start-up.
let loaded: Promise<typeof mysql> | null = null
const loadDriver = () => (loaded ??= import('mysql2/promise').then((m) => m.default))
import type { SafeSqlConfig } from './sql-config.js'
import { cappedRows, SqlConnections, type SqlRun } from './sql-connections.js'
import type { SqlDriver } from './sql-pool.js'

/**
 * mysql2 for the pools: connects with only the safe settings; resets a connection with
 * COM_RESET_CONNECTION (transaction rolled back, user and session variables, temporary
 * tables, prepared statements, locks and GET_LOCK locks gone; the handshake's character
 * set kept), then checks that the default database is still the configured one, which
 * the reset leaves as a script's `USE` set it.
 */
const mysqlDriver: SqlDriver<mysql.Connection> = {
  async connect(config: SafeSqlConfig, address: string, limitMs: number) {
    const conn = await (await loadDriver()).createConnection({
      host: address,
      port: config.port,
      ...(config.user === undefined ? {} : { user: config.user }),
      ...(config.password === undefined ? {} : { password: config.password }),
      ...(config.database === undefined ? {} : { database: config.database }),
      ...(config.ssl ? { ssl: { rejectUnauthorized: true } } : {}),
      connectTimeout: limitMs,
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
    try {
      await mysqlDriver.limit(conn, limitMs)
    } catch (error) {
      conn.destroy()
      throw error
    }
    return conn
  },

  /**
   * A server-side statement timeout, so a query the run abandons stops on the server too:
   * MariaDB's max_statement_time (seconds), else MySQL's max_execution_time (ms, SELECT
   * only; a server with neither keeps the client timeout).
   */
  async limit(conn, limitMs) {
    try {
      await conn.query('SET SESSION max_statement_time = ?', [limitMs / 1000])
    } catch {
      await conn.query('SET SESSION max_execution_time = ?', [Math.ceil(limitMs)]).catch(() => undefined)
    }
  },

  async reset(conn, config, limitMs) {
    await conn.reset()
    await mysqlDriver.limit(conn, limitMs)
    const [rows] = await conn.query('SELECT DATABASE() AS db')
    const db = (rows as { db: string | null }[])[0]?.db ?? null
    return db === (config.database ?? null) ? limitMs : null
  },

  usable(conn) {
    const inner = (conn as unknown as { connection: { _fatalError?: unknown; _closing?: boolean; stream?: { destroyed?: boolean } } })
      .connection
    return !inner._fatalError && !inner._closing && inner.stream?.destroyed !== true
  },

  async close(conn) {
    // A polite quit, bounded: a server that does not answer is cut off.
    await Promise.race([conn.end(), new Promise((resolve) => setTimeout(resolve, 200))]).catch(() => undefined)
    conn.destroy()
  },
}

/**
 * `require('mysql')` on the host's mysql2. The script's SQL text and `?` parameters go to
 * the driver (`SET ?` objects included), with a statement timeout and a row cap.
 */
export class MysqlBridge extends SqlConnections<mysql.Connection> {
  protected readonly driver = mysqlDriver

  constructor(run: SqlRun) {
    super(run, 'mysql', 3306, ['mysql', 'mariadb'])
  }

  async query(id: number, sql: string, values: unknown): Promise<unknown> {
    const [result] = await this.using(id, (conn) => conn.query({ sql, timeout: this.remainingMs() }, values as never))
    if (Array.isArray(result)) {
      return { rows: cappedRows(result as object[]).map((row) => ({ ...row })) }
    }
    const header = result as unknown as Record<string, unknown>
    return { rows: null, info: { affectedRows: header['affectedRows'], insertId: header['insertId'], changedRows: header['changedRows'] } }
  }

  protected fatal(error: unknown): boolean {
    return (error as { fatal?: unknown } | null)?.fatal === true
  }
}
