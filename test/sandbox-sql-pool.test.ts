// The mysql and pg shims keep a small pool per connection (its handle): template-style
// scripts that open a connection on every run reuse one, reset in between, so no session
// state crosses from one run to the next; two connections never share one; the pool is
// bounded; and forgetting the connection or closing the runner closes it on the server.
import { randomBytes } from 'node:crypto'
import mysql from 'mysql2/promise'
import pg from 'pg'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { closeHashPool } from '@latchkey/core'
import { QuickJsRunner } from '@latchkey/sandbox'
import { DIALECTS } from './support/dialects.js'
import { eventually } from './support/servers.js'

const suffix = randomBytes(4).toString('hex')
const handle = (name: string) => `${name}-${randomBytes(24).toString('base64url')}`
afterAll(async () => {
  await closeHashPool()
})

/** Runs `source` once per handle in turn, `times` rounds, and returns each run's value. */
async function rounds(runner: QuickJsRunner, source: string, handles: string[], times: number, opts: object) {
  const values: Record<string, unknown[]> = {}
  for (let i = 0; i < times; i++) {
    for (const h of handles) ((values[h] ??= []) as unknown[]).push((await runner.run(source, [], { ...opts, global: h })).value)
  }
  return values
}

/** The largest of `sample()` while `work` runs, sampled every 10 ms. */
async function peakDuring(sample: () => Promise<number>, work: Promise<unknown>): Promise<number> {
  let peak = 0
  let done = false
  const settled = work.finally(() => {
    done = true
  })
  while (!done) {
    peak = Math.max(peak, await sample())
    await new Promise((resolve) => setTimeout(resolve, 10))
  }
  await settled
  return peak
}

/** What the tests common to both databases need of one. */
interface PoolCase {
  runner: QuickJsRunner
  /** The expression a template-style script opens its connection with (a new one on every run, never ended). */
  connect: string
  /** The rows of a query's answer, as script code: `q` is the awaited query. */
  rows: (q: string) => string
  /** SQL that answers the server connection's id as `id`, and SQL that sleeps `s` seconds. */
  idSql: string
  sleepSql: (s: number) => string
  /** Server connections of the test's user. */
  open: () => Promise<number>
  /** Ends one server connection from the server's side. */
  kill: (id: unknown) => Promise<void>
  opts: () => { configuration: Record<string, string>; egress: { allow: string[] } }
}

/** The tests both shims must pass: reuse, no sharing between connections, a bound, closing. */
function commonPoolTests(c: PoolCase): void {
  /** Answers its server connection's id; `slow` holds the connection 0.2 s first; `hang` leaves a 20 s query running. */
  const script = (kind: 'thread' | 'slow' | 'hang') => `async function ${kind}() {
    const c = ${c.connect}
    ${kind === 'slow' ? `await c.query('${c.sleepSql(0.2)}')` : ''}
    const id = ${c.rows(`await c.query('${c.idSql}')`)}[0].id
    ${kind === 'hang' ? `c.query('${c.sleepSql(20)}').catch(() => undefined)` : ''}
    return id
  }`
  const thread = script('thread')
  // Every test counts the user's server connections: it starts when the last test's are gone (a close is not instant).
  const quiet = () => eventually(async () => (await c.open()) === 0, 10_000)
  it("reuses one server connection across a connection's runs, and keeps it open between them", async () => {
    await quiet()
    const h = handle('reuse')
    const { [h]: ids } = await rounds(c.runner, thread, [h], 5, c.opts())
    expect(new Set(ids).size).toBe(1)
    await eventually(async () => (await c.open()) === 1)
    await c.runner.forget(h)
  })

  it('never shares a pooled connection between two connections with the same settings', async () => {
    await quiet()
    const a = handle('twin-a')
    const b = handle('twin-b')
    const ids = await rounds(c.runner, thread, [a, b], 4, c.opts())
    expect(new Set(ids[a]).size).toBe(1)
    expect(new Set(ids[b]).size).toBe(1)
    expect(ids[a]![0]).not.toBe(ids[b]![0])
    await eventually(async () => (await c.open()) === 2)
    await c.runner.forget(a)
    await c.runner.forget(b)
  })

  it('is bounded: a burst of runs shares at most 4 server connections, and every run succeeds', async () => {
    await quiet()
    const h = handle('burst')
    const burst = Promise.all(Array.from({ length: 12 }, () => c.runner.run(script('slow'), [], { ...c.opts(), global: h })))
    const peak = await peakDuring(c.open, burst)
    const ids = (await burst).map((r) => r.value)
    expect(ids).toHaveLength(12)
    expect(new Set(ids).size).toBeLessThanOrEqual(4)
    expect(peak).toBeLessThanOrEqual(4)
    await c.runner.forget(h)
  })

  it('gives a run in flight when its connection is forgotten no pool: its connection closes when it ends', async () => {
    await quiet()
    const h = handle('in-flight')
    const run = c.runner.run(script('slow'), [], { ...c.opts(), global: h })
    await c.runner.forget(h)
    await run
    await eventually(async () => (await c.open()) === 0)
  })

  it('closes, never reuses, a connection its run left in the middle of a query', async () => {
    await quiet()
    const h = handle('mid-query')
    // The statement limit (the run's 1 s) ends the abandoned query on the server soon after.
    const hung = (await c.runner.run(script('hang'), [], { ...c.opts(), global: h, timeoutMs: 1000 })).value
    const next = (await c.runner.run(thread, [], { ...c.opts(), global: h })).value
    expect(next).not.toBe(hung)
    await eventually(async () => (await c.open()) === 1)
    expect((await c.runner.run(thread, [], { ...c.opts(), global: h })).value).toBe(next)
    await c.runner.forget(h)
    await eventually(async () => (await c.open()) === 0)
  })

  it('does not hand out an idle connection the server closed: the next run gets a new one', async () => {
    await quiet()
    const h = handle('killed')
    const first = (await c.runner.run(thread, [], { ...c.opts(), global: h })).value
    await c.kill(first)
    await eventually(async () => (await c.open()) === 0)
    // Time for the worker to see the socket close (a close that races the next run fails that run, once).
    await new Promise((resolve) => setTimeout(resolve, 300))
    const next = (await c.runner.run(thread, [], { ...c.opts(), global: h })).value
    expect(next).not.toBe(first)
    await c.runner.forget(h)
  })

  it('closes the pool on forget and on close: the server sees its connections go', async () => {
    await quiet()
    const h = handle('forget')
    await c.runner.run(thread, [], { ...c.opts(), global: h })
    await eventually(async () => (await c.open()) === 1)
    await c.runner.forget(h)
    await eventually(async () => (await c.open()) === 0)

    const other = new QuickJsRunner({ workers: 1, timeoutMs: 20_000 })
    await other.run(thread, [], { ...c.opts(), global: handle('close'), timeoutMs: 30_000 })
    await eventually(async () => (await c.open()) === 1)
    await other.close()
    await eventually(async () => (await c.open()) === 0)
  })
}

describe.runIf(DIALECTS.includes('mysql'))('mysql shim pools on MariaDB', () => {
  const url = new URL(process.env['LATCHKEY_MYSQL_URL'] ?? 'mysql://x@127.0.0.1/x')
  const db = url.pathname.slice(1)
  const table = `pool_notes_${suffix}`
  const user = `pool_${suffix}`
  const runner = new QuickJsRunner({ workers: 1, timeoutMs: 20_000 })
  let admin: mysql.Connection
  let configuration: Record<string, string>
  let egress: { allow: string[] }
  const open = async () => {
    const [rows] = await admin.query('select count(*) as n from information_schema.processlist where user = ?', [user])
    return Number((rows as { n: number }[])[0]!.n)
  }

  beforeAll(async () => {
    admin = await mysql.createConnection(url.toString())
    await admin.query(`create table ${table} (id int auto_increment primary key, note varchar(64))`)
    await admin.query(`create user '${user}'@'%' identified by 'pool-pw-Tr0ub4dor'`)
    await admin.query(`grant all on ${db}.* to '${user}'@'%'`)
    configuration = { HOST: url.hostname, PORT: url.port, USER: user, PASSWORD: 'pool-pw-Tr0ub4dor', DB: db, TABLE: table }
    egress = { allow: [`${url.hostname}:${url.port}`] }
    await runner.run('function warm(cb) { cb(null, 1) }', [], { timeoutMs: 30_000 })
  })
  afterAll(async () => {
    await runner.close()
    await admin.query(`drop table ${table}`)
    await admin.query(`drop user '${user}'@'%'`)
    await admin.end()
  })

  // Written as the templates are: a new connection on every run, never ended.
  const connect = `require('mysql').createConnection({ host: configuration.HOST, port: configuration.PORT,
      user: configuration.USER, password: configuration.PASSWORD, database: configuration.DB })`
  commonPoolTests({
    runner,
    connect,
    rows: (q) => `(${q})`,
    idSql: 'SELECT CONNECTION_ID() AS id',
    sleepSql: (seconds) => `SELECT SLEEP(${seconds})`,
    open,
    kill: async (id) => {
      await admin.query(`KILL CONNECTION ${Number(id)}`)
    },
    opts: () => ({ configuration, egress }),
  })

  it('lets no session state cross from one run to the next', async () => {
    const h = handle('state')
    const LEAVE = `async function leave() {
      const c = ${connect}
      const rows = await c.query('SELECT CONNECTION_ID() AS id')
      await c.query("SET @left_behind = 'user-variable'")
      await c.query("SET SESSION sql_mode = 'ANSI_QUOTES', SESSION time_zone = '+05:00'")
      await c.query('CREATE TEMPORARY TABLE left_behind (a int)')
      await c.query('START TRANSACTION')
      await c.query('INSERT INTO ' + configuration.TABLE + ' (note) VALUES (?)', ['uncommitted'])
      return rows[0].id
    }`
    const LOOK = `async function look() {
      const c = ${connect}
      const rows = await c.query("SELECT CONNECTION_ID() AS id, @left_behind AS variable, @@session.sql_mode AS mode, @@session.time_zone AS zone, @@in_transaction AS tx, DATABASE() AS db")
      let temporary = 'absent'
      try { await c.query('SELECT * FROM left_behind'); temporary = 'present' } catch (e) {}
      const count = await c.query('SELECT COUNT(*) AS n FROM ' + configuration.TABLE)
      c.end()
      return Object.assign({}, rows[0], { temporary, rows: count[0].n })
    }`
    const [[defaults]] = (await admin.query('select @@global.sql_mode as mode, @@global.time_zone as zone')) as unknown as [
      { mode: string; zone: string }[],
    ]
    const left = (await runner.run(LEAVE, [], { configuration, egress, global: h })).value
    const seen = (await runner.run(LOOK, [], { configuration, egress, global: h })).value
    // The same server connection, so the reset is what cleared it.
    expect(seen).toEqual({ id: left, variable: null, mode: defaults!.mode, zone: defaults!.zone, tx: 0, db, temporary: 'absent', rows: 0 })
    await runner.forget(h)
  })

  it("does not reuse a connection whose default database a script changed (the reset keeps USE's)", async () => {
    const h = handle('use')
    const USE = `async function use() { await ${connect}.query('USE information_schema'); return 1 }`
    const DB = `async function db() { return (await ${connect}.query('SELECT DATABASE() AS db'))[0].db }`
    await runner.run(USE, [], { configuration, egress, global: h })
    expect((await runner.run(DB, [], { configuration, egress, global: h })).value).toBe(db)
    await runner.forget(h)
  })
})

describe.runIf(DIALECTS.includes('postgres'))('pg shim pools on PostgreSQL', () => {
  const url = new URL(process.env['LATCHKEY_PG_URL'] ?? 'postgres://x@127.0.0.1/x')
  const table = `pool_notes_${suffix}`
  const role = `pool_${suffix}`
  const runner = new QuickJsRunner({ workers: 1, timeoutMs: 20_000 })
  let admin: pg.Client
  let configuration: Record<string, string>
  let egress: { allow: string[] }
  const open = async () => Number((await admin.query('select count(*) as n from pg_stat_activity where usename = $1', [role])).rows[0].n)

  beforeAll(async () => {
    admin = new pg.Client({ connectionString: url.toString() })
    await admin.connect()
    await admin.query(`create table ${table} (id serial primary key, note text)`)
    await admin.query(`create role ${role} login password 'pool-pw-Tr0ub4dor'`)
    await admin.query(`grant all on ${table} to ${role}`)
    await admin.query(`grant all on sequence ${table}_id_seq to ${role}`)
    configuration = {
      CONN: `postgres://${role}:pool-pw-Tr0ub4dor@${url.host}${url.pathname}`,
      TABLE: table,
    }
    egress = { allow: [`${url.hostname}:${url.port}`] }
    await runner.run('function warm(cb) { cb(null, 1) }', [], { timeoutMs: 30_000 })
  })
  afterAll(async () => {
    await runner.close()
    await admin.query(`drop table ${table}`)
    await admin.query(`drop owned by ${role}`)
    await admin.query(`drop role ${role}`)
    await admin.end()
  })

  commonPoolTests({
    runner,
    // Written as the templates are: a new client on every run, never ended.
    connect: `new (require('pg').Client)(configuration.CONN)`,
    rows: (q) => `(${q}).rows`,
    idSql: 'SELECT pg_backend_pid() AS id',
    sleepSql: (seconds) => `SELECT pg_sleep(${seconds})`,
    open,
    kill: async (id) => {
      await admin.query('SELECT pg_terminate_backend($1)', [Number(id)])
    },
    opts: () => ({ configuration, egress }),
  })

  it('lets no session state cross from one run to the next', async () => {
    const h = handle('state')
    const LEAVE = `async function leave() {
      const client = new (require('pg').Client)(configuration.CONN)
      await client.connect()
      const pid = (await client.query('SELECT pg_backend_pid() AS pid')).rows[0].pid
      await client.query("SET search_path = pg_catalog")
      await client.query("SET statement_timeout = 0")
      await client.query("SELECT set_config('latchkey.left_behind', 'session-variable', false)")
      await client.query('CREATE TEMPORARY TABLE left_behind (a int)')
      await client.query('PREPARE left_behind_statement AS SELECT 1')
      await client.query('BEGIN')
      await client.query('INSERT INTO public.' + configuration.TABLE + ' (note) VALUES ($1)', ['uncommitted'])
      return pid
    }`
    const LOOK = `async function look() {
      const client = new (require('pg').Client)(configuration.CONN)
      await client.connect()
      const row = (await client.query(
        "SELECT pg_backend_pid() AS pid, current_setting('search_path') AS path, current_setting('statement_timeout') AS timeout, " +
        "coalesce(current_setting('latchkey.left_behind', true), '') AS variable, to_regclass('pg_temp.left_behind') IS NULL AS no_temp, " +
        "(SELECT count(*) FROM pg_prepared_statements) AS prepared, (SELECT count(*)::int FROM public." + configuration.TABLE + ") AS rows"
      )).rows[0]
      await client.end()
      return row
    }`
    const left = (await runner.run(LEAVE, [], { configuration, egress, global: h })).value
    const seen = (await runner.run(LOOK, [], { configuration, egress, global: h })).value as Record<string, unknown>
    // The same server connection, so the reset is what cleared it.
    expect(seen).toMatchObject({ pid: left, path: '"$user", public', variable: '', no_temp: true, prepared: '0', rows: 0 })
    // Back to the limit it was connected with, not the script's "no limit".
    expect(seen['timeout']).not.toBe('0')
    await runner.forget(h)
  })
})
