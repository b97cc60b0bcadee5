// Hostile scripts against the mysql and pg shims' pools (found by an attacker review): state
// COM_RESET_CONNECTION keeps (a role, a prepared XA transaction) must not reach the next run;
// one run must not leave more than sqlPoolSize idle connections by varying its settings; and
// a run still queued when its connection is forgotten must not make a pool nobody closes.
import { randomBytes } from 'node:crypto'
import mysql from 'mysql2/promise'
import pg from 'pg'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { closeHashPool } from '@latchkey/core'
import { QuickJsRunner } from '@latchkey/sandbox'
import { DIALECTS } from './support/dialects.js'
import { eventually } from './support/servers.js'

const suffix = randomBytes(4).toString('hex')
const PASSWORD = 'atk-pw-Tr0ub4dor'
const handle = (name: string) => `${name}-${randomBytes(24).toString('base64url')}`
afterAll(async () => {
  await closeHashPool()
})

describe.runIf(DIALECTS.includes('mysql'))('mysql shim pool: state COM_RESET_CONNECTION keeps', () => {
  const url = new URL(process.env['LATCHKEY_MYSQL_URL'] ?? 'mysql://x@127.0.0.1/x')
  const db = url.pathname.slice(1)
  const user = `atkpool_${suffix}`
  const role = `atk_admin_${suffix}`
  const table = `atk_xa_${suffix}`
  const xid = `atk_xid_${suffix}`
  const runner = new QuickJsRunner({ workers: 1, timeoutMs: 20_000 })
  let admin: mysql.Connection
  let configuration: Record<string, string>
  let egress: { allow: string[] }

  beforeAll(async () => {
    admin = await mysql.createConnection(url.toString())
    await admin.query(`create table ${table} (id int auto_increment primary key, note varchar(64))`)
    await admin.query(`create user '${user}'@'%' identified by '${PASSWORD}'`)
    await admin.query(`grant all on ${db}.* to '${user}'@'%'`)
    await admin.query(`create role ${role}`)
    await admin.query(`grant ${role} to '${user}'@'%'`)
    configuration = { HOST: url.hostname, PORT: url.port, USER: user, PASSWORD, DB: db, ROLE: role, TABLE: table, XID: xid }
    egress = { allow: [`${url.hostname}:${url.port}`] }
  })
  afterAll(async () => {
    await runner.close()
    await admin.query(`xa rollback '${xid}'`).catch(() => undefined)
    await admin.query(`drop table ${table}`)
    await admin.query(`drop user '${user}'@'%'`)
    await admin.query(`drop role ${role}`)
    await admin.end()
  })

  const connect = `require('mysql').createConnection({ host: configuration.HOST, port: configuration.PORT,
      user: configuration.USER, password: configuration.PASSWORD, database: configuration.DB })`

  it("a later run on the same pooled connection does not inherit an earlier run's role", async () => {
    const h = handle('role')
    const LEAVE = `async function leave() {
      const c = ${connect}
      await c.query('SET ROLE ' + configuration.ROLE)
      return (await c.query('SELECT CONNECTION_ID() AS id'))[0].id
    }`
    const LOOK = `async function look() {
      const c = ${connect}
      return (await c.query('SELECT CONNECTION_ID() AS id, CURRENT_ROLE() AS role'))[0]
    }`
    const left = (await runner.run(LEAVE, [], { configuration, egress, global: h })).value
    const seen = (await runner.run(LOOK, [], { configuration, egress, global: h })).value
    // Same server connection: only the pool's reset stands between the two runs.
    expect(seen).toEqual({ id: left, role: null })
    await runner.forget(h)
  })

  it("the next run's queries work whatever XA state an earlier run left", async () => {
    const h = handle('xa')
    const LEAVE = `async function leave() {
      const c = ${connect}
      await c.query("XA START '" + configuration.XID + "'")
      await c.query('INSERT INTO ' + configuration.TABLE + " (note) VALUES ('prepared')")
      await c.query("XA END '" + configuration.XID + "'")
      await c.query("XA PREPARE '" + configuration.XID + "'")
      return 'left'
    }`
    // An ordinary login-style run of the same connection, written as the templates are.
    const LOGIN = `async function login() {
      const c = ${connect}
      try {
        const rows = await c.query('SELECT COUNT(*) AS n FROM ' + configuration.TABLE)
        return 'ok'
      } catch (e) {
        return 'failed: ' + e.message
      }
    }`
    expect((await runner.run(LEAVE, [], { configuration, egress, global: h })).value).toBe('left')
    const next = (await runner.run(LOGIN, [], { configuration, egress, global: h })).value
    const after = (await runner.run(LOGIN, [], { configuration, egress, global: h })).value
    expect([next, after]).toEqual(['ok', 'ok'])
    await runner.forget(h)
  })

  it('closes a connection whose run used XA through EXECUTE IMMEDIATE, which no query text shows', async () => {
    const h = handle('xa-hidden')
    const xidHidden = `${xid}h`
    const LEAVE = `async function leave() {
      const c = ${connect}
      const x = "'${xidHidden}'"
      for (const step of ['START ', 'END ', 'PREPARE ']) await c.query("EXECUTE IMMEDIATE CONCAT('X', ?)", ['A ' + step + x])
      return (await c.query('SELECT CONNECTION_ID() AS id'))[0].id
    }`
    const LOGIN = `async function login() {
      const c = ${connect}
      await c.query('SELECT COUNT(*) AS n FROM ' + configuration.TABLE)
      return (await c.query('SELECT CONNECTION_ID() AS id'))[0].id
    }`
    try {
      const left = (await runner.run(LEAVE, [], { configuration, egress, global: h })).value
      const next = (await runner.run(LOGIN, [], { configuration, egress, global: h })).value
      expect(next).not.toBe(left)
      // The clean one is reused as before.
      expect((await runner.run(LOGIN, [], { configuration, egress, global: h })).value).toBe(next)
    } finally {
      await runner.forget(h)
      await admin.query(`xa rollback '${xidHidden}'`).catch(() => undefined)
    }
  })
})

describe.runIf(DIALECTS.includes('postgres'))('pg shim pool: bounds and forget against hostile runs', () => {
  const url = new URL(process.env['LATCHKEY_PG_URL'] ?? 'postgres://x@127.0.0.1/x')
  const trusted = `atkmany_${suffix}`
  const role = `atkq_${suffix}`
  const runner = new QuickJsRunner({ workers: 1, concurrencyPerWorker: 1, timeoutMs: 20_000 })
  let admin: pg.Client
  const egress = { allow: [`${url.hostname}:${url.port}`] }
  const open = async (name: string) =>
    Number((await admin.query('select count(*) as n from pg_stat_activity where usename = $1', [name])).rows[0].n)

  beforeAll(async () => {
    admin = new pg.Client({ connectionString: url.toString() })
    await admin.connect()
    // No password: the test server trusts local TCP connections, as many development and some hosted servers do.
    await admin.query(`create role ${trusted} login`)
    await admin.query(`create role ${role} login password '${PASSWORD}'`)
    await runner.run('function warm(cb) { cb(null, 1) }', [], { timeoutMs: 30_000 })
  })
  afterAll(async () => {
    await runner.close()
    await admin.query(`drop role ${trusted}`)
    await admin.query(`drop role ${role}`)
    await admin.end()
  })

  it('one run cannot leave more than sqlPoolSize idle connections behind, whatever settings it varies', async () => {
    const h = handle('many')
    const configuration = { HOST: url.hostname, PORT: url.port, USER: trusted, DB: url.pathname.slice(1) }
    const client = (password: string) => `new Client({ host: configuration.HOST, port: configuration.PORT, user: configuration.USER,
          database: configuration.DB, password: ${password} })`
    const HOARD = `async function hoard() {
      const { Client } = require('pg')
      for (let i = 0; i < 12; i++) {
        const c = ${client("'ignored-' + i")}
        await c.connect()
        await c.query('SELECT 1')
      }
      return 'done'
    }`
    expect((await runner.run(HOARD, [], { configuration, egress, global: h })).value).toBe('done')
    // The run is over; give the resets time to finish, then count what the worker still holds.
    await new Promise((resolve) => setTimeout(resolve, 500))
    expect(await open(trusted)).toBeLessThanOrEqual(4)
    // A full group makes room by closing its least recently used idle connection: a run of new settings still pools.
    const ONE = `async function one() {
      const { Client } = require('pg')
      const c = ${client("'fresh-settings'")}
      await c.connect()
      return (await c.query('SELECT pg_backend_pid() AS pid')).rows[0].pid
    }`
    const first = (await runner.run(ONE, [], { configuration, egress, global: h })).value
    expect((await runner.run(ONE, [], { configuration, egress, global: h })).value).toBe(first)
    expect(await open(trusted)).toBeLessThanOrEqual(4)
    await runner.forget(h)
    await eventually(async () => (await open(trusted)) === 0)
  })

  it('leaves no server connection behind once the connection is forgotten and its runs are over', async () => {
    const h = handle('queued')
    const configuration = { CONN: `postgres://${role}:${PASSWORD}@${url.host}${url.pathname}` }
    // Another connection's run keeps the only slot busy, so h's run waits in the queue.
    const busy = runner.run('async function busy() { await new Promise((r) => setTimeout(r, 500)); return 1 }', [], {
      global: handle('busy'),
    })
    const queued = runner.run(
      `async function login() { const c = new (require('pg').Client)(configuration.CONN); await c.connect(); return (await c.query('SELECT 1 AS x')).rows[0].x }`,
      [],
      { configuration, egress, global: h },
    )
    await runner.forget(h) // the connection is closed while its run is still queued
    await busy
    expect((await queued).value).toBe(1)
    // forget() resolved before the run even began; once it is over nothing of h may stay open.
    await eventually(async () => (await open(role)) === 0)
  })
})
