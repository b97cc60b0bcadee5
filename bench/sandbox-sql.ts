// bench/sandbox, SQL rows: the shipped login template (examples/custom-db: a new
// connection on every run, a query, a bcrypt compare) against the same query and compare
// written as host code on one kept connection. The difference is what the sandbox and the
// script's connection cost a login; with the shims' pools it should be about the sandbox's.
import { randomBytes } from 'node:crypto'
import { readFileSync } from 'node:fs'
import { performance } from 'node:perf_hooks'
import bcrypt from 'bcryptjs'
import mysql from 'mysql2/promise'
import pg from 'pg'
import { bcryptCompare } from '@latchkey/core/internal'
import { QuickJsRunner } from '@latchkey/sandbox'
import { fmt, median, type Row } from './support/stats.js'

const PASSWORD = 'right-Tr0ub4dor-7'
const ROUNDS = 200

/** A database reached two ways: by the shipped login template in the sandbox, and by host code. */
interface Dialect {
  name: string
  script: string
  configuration: Record<string, string>
  egress: string[]
  /** The template's query and compare as host code, on a connection opened once. */
  host: (identifier: string, password: string) => Promise<unknown>
  /** Connections the server has accepted so far (MariaDB counts them as they come; PostgreSQL's stats, as they end: not used). */
  accepted: (() => Promise<number>) | null
  cleanup: () => Promise<void>
}

/** Just enough of a client: parameterised text in, rows out. */
interface Sql {
  query(text: string, params: unknown[]): Promise<Record<string, unknown>[]>
  end(): Promise<void>
}

async function connect(kind: 'mysql' | 'postgres', url: URL): Promise<Sql> {
  if (kind === 'mysql') {
    const c = await mysql.createConnection(url.toString())
    return { query: async (text, params) => (await c.query(text, params))[0] as Record<string, unknown>[], end: () => c.end() }
  }
  const c = new pg.Client({ connectionString: url.toString() })
  await c.connect()
  return { query: async (text, params) => (await c.query(text, params)).rows, end: () => c.end() }
}

const examples = new URL('../examples/custom-db/', import.meta.url)
const read = (kind: string, file: string) => readFileSync(new URL(`${kind}/${file}`, examples), 'utf8')

async function dialect(kind: 'mysql' | 'postgres', url: URL, hash: string, table: string): Promise<Dialect> {
  const admin = await connect(kind, url)
  // The table the templates expect (their schema.sql), under a throwaway name.
  await admin.query(read(kind, 'schema.sql').replace('CREATE TABLE users', `CREATE TABLE ${table}`), [])
  const mark = kind === 'mysql' ? ['?', '?'] : ['$1', '$2']
  await admin.query(`INSERT INTO ${table} (email, password) VALUES (${mark.join(', ')})`, ['ada@example.com', hash])
  const kept = await connect(kind, url)
  const name = kind === 'mysql' ? 'nickname' : 'name'
  const where = kind === 'mysql' ? 'email = ? OR username = ?' : 'email = $1 OR username = $1'
  const select = `SELECT id, email, username, ${name}, email_verified, password FROM ${table} WHERE ${where}`
  const [user, password] = [url.username, url.password].map(decodeURIComponent)
  return {
    name: kind === 'mysql' ? 'MariaDB' : 'PostgreSQL',
    script: read(kind, 'login.js'),
    configuration:
      kind === 'mysql'
        ? {
            DB_HOST: url.hostname,
            DB_PORT: url.port,
            DB_USER: user!,
            DB_PASSWORD: password!,
            DB_NAME: url.pathname.slice(1),
            USERS_TABLE: table,
          }
        : { DB_URL: url.toString(), USERS_TABLE: table },
    egress: [`${url.hostname}:${url.port}`],
    host: async (identifier, given) => {
      const row = (await kept.query(select, kind === 'mysql' ? [identifier, identifier] : [identifier]))[0]
      if (!row || !(await bcryptCompare(given, String(row['password'])))) throw new Error('wrong email or password')
      return row
    },
    accepted: kind === 'mysql' ? async () => Number((await admin.query("SHOW GLOBAL STATUS LIKE 'Connections'", []))[0]!['Value']) : null,
    cleanup: async () => {
      await kept.end()
      await admin.query(`DROP TABLE ${table}`, [])
      await admin.end()
    },
  }
}

/**
 * Rows for each database whose URL is set: script login p50 minus host-code login p50,
 * with the pools (target ≤ 1 ms) and without them (one connection per run, as before).
 * The three are interleaved round by round, so load on the machine falls on all alike.
 */
export async function benchSandboxSql(): Promise<Row[]> {
  const rows: Row[] = []
  const hash = bcrypt.hashSync(PASSWORD, 4)
  const dialects: Dialect[] = []
  const table = `bench_sql_${randomBytes(4).toString('hex')}`
  if (process.env['LATCHKEY_MYSQL_URL']) dialects.push(await dialect('mysql', new URL(process.env['LATCHKEY_MYSQL_URL']), hash, table))
  if (process.env['LATCHKEY_PG_URL']) dialects.push(await dialect('postgres', new URL(process.env['LATCHKEY_PG_URL']), hash, table))
  const pooled = new QuickJsRunner({ workers: 2, timeoutMs: 10_000 })
  const unpooled = new QuickJsRunner({ workers: 2, timeoutMs: 10_000, sqlPoolSize: 0 })
  try {
    for (const d of dialects) {
      const global = randomBytes(32).toString('base64url')
      const opts = { configuration: d.configuration, egress: { allow: d.egress }, redact: [PASSWORD], global, scriptName: 'login' }
      const args = ['ada@example.com', PASSWORD]
      const times = { host: [] as number[], pooled: [] as number[], unpooled: [] as number[] }
      for (let i = 0; i < ROUNDS + 10; i++) {
        let t0 = performance.now()
        await d.host('ada@example.com', PASSWORD)
        const host = performance.now() - t0
        t0 = performance.now()
        await pooled.run(d.script, args, opts)
        const withPool = performance.now() - t0
        t0 = performance.now()
        await unpooled.run(d.script, args, opts)
        const withoutPool = performance.now() - t0
        // The first rounds start workers and fill the pools.
        if (i < 10) continue
        times.host.push(host)
        times.pooled.push(withPool)
        times.unpooled.push(withoutPool)
      }
      const overhead = median(times.pooled) - median(times.host)
      rows.push({
        measure: `${d.name}: template script login p50 - host code p50 (pooled)`,
        value: `${fmt(overhead, 3)} ms`,
        target: '<= 1 ms',
        ok: overhead <= 1,
      })
      // What the database sees: connections opened for the timed logins, with and without pools.
      for (const [runner, label] of [
        [pooled, 'pooled'],
        [unpooled, 'without pools'],
      ] as const) {
        if (!d.accepted) break
        const before = await d.accepted()
        for (let i = 0; i < 100; i++) await runner.run(d.script, args, opts)
        const opened = (await d.accepted()) - before
        rows.push({
          measure: `${d.name}: server connections per 100 template logins, ${label}`,
          value: String(opened),
          target: label === 'pooled' ? '<= 8 (2 workers x 4)' : 'reported',
          ok: label === 'pooled' ? opened <= 8 : null,
        })
      }
      rows.push({
        measure: `${d.name}: the same without pools (a connection per run)`,
        value: `${fmt(median(times.unpooled) - median(times.host), 3)} ms`,
        target: 'reported',
        ok: null,
      })
      rows.push({
        measure: `${d.name}: host code login p50 (query + bcrypt cost 4 compare)`,
        value: `${fmt(median(times.host), 3)} ms`,
        target: 'reported',
        ok: null,
      })
    }
  } finally {
    await pooled.close()
    await unpooled.close()
    for (const d of dialects) await d.cleanup()
  }
  return rows
}
