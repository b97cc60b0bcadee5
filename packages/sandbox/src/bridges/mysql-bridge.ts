import type mysql from 'mysql2/promise'

// mysql2 is loaded by the first script that uses it, not by every worker at start-up.
let loaded: Promise<typeof mysql> | null = null
const loadDriver = () => (loaded ??= import('mysql2/promise').then((m) => m.default))
import type { SafeSqlConfig } from './sql-config.js'
import { cappedRows, SqlConnections, type SqlRun } from './sql-connections.js'
import type { SqlDriver } from './sql-pool.js'

// Named in full: a LIKE pattern's escapes would depend on the sql_mode a script may have set.
const XA_COUNTERS = ['COMMIT', 'END', 'PREPARE', 'RECOVER', 'ROLLBACK', 'START'].map((op) => `'COM_XA_${op}'`).join(', ')
/**
 * What a session says of the state COM_RESET_CONNECTION leaves alone: its default database,
 * its role and how many XA statements it ran (session counters, MariaDB's then MySQL's table).
 */
const STATE_QUERIES = ['information_schema.SESSION_STATUS', 'performance_schema.session_status'].map(
  (table) =>
    'SELECT DATABASE() AS db, CURRENT_ROLE() AS role, ' +
    `(SELECT COALESCE(SUM(VARIABLE_VALUE), 0) FROM ${table} WHERE UPPER(VARIABLE_NAME) IN (${XA_COUNTERS})) AS xa`,
)

interface SessionState {
  db: string | null
  role: string | null
  xa: number
}

/**
 * Each connection's state query (the first of STATE_QUERIES its server answers) and its role
 * when it connected (a user's default role), or no entry: a server that answers neither
 * cannot prove a connection clean, so its connections are never reused.
 */
const startup = new WeakMap<mysql.Connection, { query: string; role: string | null }>()

async function sessionState(conn: mysql.Connection, query: string): Promise<SessionState> {
  const [rows] = await conn.query(query)
  const row = (rows as { db: string | null; role: string | null; xa: unknown }[])[0]
  return { db: row?.db ?? null, role: row?.role ?? null, xa: Number(row?.xa ?? Number.NaN) }
}

/**
 * mysql2 for the pools: connects with only the safe settings; resets a connection with
 * COM_RESET_CONNECTION (transaction rolled back, user and session variables, temporary
 * tables, prepared statements, locks and GET_LOCK locks gone; the handshake's character
 * set kept). The reset keeps three things, so the session is asked first: a default
 * database other than the configured one (a script's `USE`) or any XA statement (MariaDB
 * keeps a connection reset with a prepared XA transaction unable to read a table, and
 * `EXECUTE IMMEDIATE` can run one that no query text shows) closes the connection; a role
 * other than the one it logged in with (`SET ROLE`) is put back with `SET ROLE NONE` when
 * it had none, else the connection is closed.
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
      for (const query of STATE_QUERIES) {
        const state = await sessionState(conn, query).catch(() => null)
        if (!state) continue
        startup.set(conn, { query, role: state.role })
        break
      }
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
    const known = startup.get(conn)
    if (!known) return null
    // Asked before the reset, which zeroes the session's counters (and keeps the database and role).
    const state = await sessionState(conn, known.query)
    if (state.xa !== 0 || state.db !== (config.database ?? null)) return null
    const roleBack = state.role === known.role ? null : known.role === null || known.role === 'NONE' ? 'SET ROLE NONE' : undefined
    if (roleBack === undefined) return null
    await conn.reset()
    if (roleBack) await conn.query(roleBack)
    await mysqlDriver.limit(conn, limitMs)
    return limitMs
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
