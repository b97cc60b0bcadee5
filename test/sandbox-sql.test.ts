// The mysql and pg shims against the real MariaDB and PostgreSQL, driven by scripts
// written the way custom-DB scripts are written.
import { randomBytes } from 'node:crypto'
import bcrypt from 'bcryptjs'
import mysql from 'mysql2/promise'
import pg from 'pg'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { closeHashPool, EgressDeniedError, UserExistsError, WrongUsernameOrPasswordError } from '@latchkey/core'
import { QuickJsRunner } from '@latchkey/sandbox'
import { DIALECTS } from './support/dialects.js'
import { eventually } from './support/servers.js'

const runner = new QuickJsRunner({ timeoutMs: 3000, workers: 2 })
const suffix = randomBytes(4).toString('hex')
const hash = bcrypt.hashSync('right-password', 4)
afterAll(async () => {
  await runner.close()
  await closeHashPool()
})
// A fresh runner's first run also starts its workers and the hash pool: not what the 3 s
// deadlines below are about, so it runs first with a generous one.
beforeAll(async () => {
  await runner.run('function f(h, cb) { require("bcrypt").compare("x", h, cb) }', [hash], { timeoutMs: 30_000 })
})

describe.runIf(DIALECTS.includes('mysql'))('mysql shim on MariaDB', () => {
  const url = new URL(process.env['LATCHKEY_MYSQL_URL'] ?? 'mysql://x@127.0.0.1/x')
  const table = `legacy_users_${suffix}`
  const leakUser = `leak_${suffix}`
  let admin: mysql.Connection
  let configuration: Record<string, string>
  let egress: { allow: string[] }

  beforeAll(async () => {
    admin = await mysql.createConnection(url.toString())
    await admin.query(
      `create table ${table} (id int auto_increment primary key, email varchar(255) unique, password varchar(60), nickname varchar(64))`,
    )
    await admin.query(`insert into ${table} set ?`, [{ email: 'ada@example.com', password: hash, nickname: 'ada' }])
    await admin.query(`create user '${leakUser}'@'%' identified by 'leak-pw'`)
    await admin.query(`grant select on ${url.pathname.slice(1)}.* to '${leakUser}'@'%'`)
    configuration = {
      HOST: url.hostname,
      PORT: url.port,
      USER: decodeURIComponent(url.username),
      PASSWORD: decodeURIComponent(url.password),
      DB: url.pathname.slice(1),
      TABLE: table,
    }
    egress = { allow: [`${url.hostname}:${url.port}`] }
  })
  afterAll(async () => {
    await admin.query(`drop table ${table}`)
    await admin.query(`drop user '${leakUser}'@'%'`)
    await admin.end()
  })

  const LOGIN = `function login(email, password, callback) {
  const mysql = require('mysql');
  const bcrypt = require('bcrypt');
  const connection = mysql.createConnection({
    host: configuration.HOST, port: configuration.PORT, user: configuration.USER,
    password: configuration.PASSWORD, database: configuration.DB
  });
  connection.connect();
  const query = 'SELECT id, nickname, email, password FROM ' + configuration.TABLE + ' WHERE email = ?';
  connection.query(query, [email], function (err, results) {
    if (err) return callback(err);
    if (results.length === 0) return callback(new WrongUsernameOrPasswordError(email));
    const user = results[0];
    bcrypt.compare(password, user.password, function (err, isValid) {
      if (err || !isValid) return callback(err || new WrongUsernameOrPasswordError(email));
      callback(null, { user_id: user.id.toString(), nickname: user.nickname, email: user.email });
    });
  });
}`
  const CREATE = `function create(user, callback) {
  const mysql = require('mysql');
  const bcrypt = require('bcrypt');
  const connection = mysql.createConnection({
    host: configuration.HOST, port: configuration.PORT, user: configuration.USER,
    password: configuration.PASSWORD, database: configuration.DB
  });
  connection.connect();
  bcrypt.hash(user.password, 4, function (err, hash) {
    if (err) return callback(err);
    connection.query('INSERT INTO ' + configuration.TABLE + ' SET ?', { email: user.email, password: hash }, function (err) {
      if (err && err.message.indexOf('Duplicate') !== -1) return callback(new ValidationError('user_exists', 'the user already exists'));
      if (err) return callback(err);
      callback(null);
    });
  });
}`

  it('logs in with ? placeholders and bcrypt', async () => {
    const { value } = await runner.run(LOGIN, ['ada@example.com', 'right-password'], { scriptName: 'login', configuration, egress })
    expect(value).toEqual({ user_id: '1', nickname: 'ada', email: 'ada@example.com' })
    await expect(runner.run(LOGIN, ['ada@example.com', 'wrong'], { configuration, egress })).rejects.toBeInstanceOf(
      WrongUsernameOrPasswordError,
    )
    await expect(runner.run(LOGIN, ['nobody@example.com', 'x'], { configuration, egress })).rejects.toBeInstanceOf(
      WrongUsernameOrPasswordError,
    )
  })
  it('creates with INSERT … SET ? and maps a duplicate to UserExistsError', async () => {
    await runner.run(CREATE, [{ email: 'grace@example.com', password: 'cobol' }], { configuration, egress })
    const { value } = await runner.run(LOGIN, ['grace@example.com', 'cobol'], { configuration, egress })
    expect(value).toMatchObject({ email: 'grace@example.com' })
    await expect(runner.run(CREATE, [{ email: 'grace@example.com', password: 'x' }], { configuration, egress })).rejects.toBeInstanceOf(
      UserExistsError,
    )
  })
  it('is denied without the server on the allow-list', async () => {
    await expect(runner.run(LOGIN, ['ada@example.com', 'right-password'], { configuration })).rejects.toBeInstanceOf(EgressDeniedError)
  })
  it('refuses a config with socketPath', async () => {
    const source = `const mysql = require('mysql'); function f(cb) { const c = mysql.createConnection({ socketPath: '/run/mysqld/mysqld.sock', user: 'root' }); c.query('select 1', cb) }`
    await expect(runner.run(source, [], { egress })).rejects.toBeInstanceOf(EgressDeniedError)
  })
  it('a query that outlives the run ends in a timeout, and its connection is closed', async () => {
    const source = `const mysql = require('mysql')
    function f(callback) {
      const c = mysql.createConnection({ host: configuration.HOST, port: configuration.PORT, user: '${leakUser}', password: 'leak-pw' })
      c.query('SELECT SLEEP(20) AS s', function (err, rows) { callback(err, rows) })
    }`
    const started = Date.now()
    await expect(runner.run(source, [], { configuration, egress, timeoutMs: 800 })).rejects.toThrow(/timed out after 800 ms/)
    expect(Date.now() - started).toBeLessThan(1800)
    await eventually(async () => {
      const [rows] = await admin.query(`select count(*) as n from information_schema.processlist where user = ?`, [leakUser])
      return Number((rows as { n: number }[])[0]!.n) === 0
    })
  })

  it('closes a connection the script never closes', async () => {
    const source = `const mysql = require('mysql')
    function getUser(email, callback) {
      const connection = mysql.createConnection({ host: configuration.HOST, port: configuration.PORT, user: '${leakUser}', password: 'leak-pw', database: configuration.DB })
      connection.query('SELECT 1 AS one', function (err, rows) { callback(err, rows && rows[0]) })
    }`
    const open = async () => {
      const [rows] = await admin.query(`select count(*) as n from information_schema.processlist where user = ?`, [leakUser])
      return Number((rows as { n: number }[])[0]!.n)
    }
    for (let i = 0; i < 3; i++) expect((await runner.run(source, ['a'], { configuration, egress })).value).toEqual({ one: 1 })
    await eventually(async () => (await open()) === 0)
  })
})

describe.runIf(DIALECTS.includes('postgres'))('pg shim on PostgreSQL', () => {
  const url = new URL(process.env['LATCHKEY_PG_URL'] ?? 'postgres://x@127.0.0.1/x')
  const table = `legacy_users_${suffix}`
  const leakRole = `leak_${suffix}`
  let admin: pg.Client
  let configuration: Record<string, string>
  let egress: { allow: string[] }

  beforeAll(async () => {
    admin = new pg.Client({ connectionString: url.toString() })
    await admin.connect()
    await admin.query(`create table ${table} (id serial primary key, email text unique, password text, name text)`)
    await admin.query(`insert into ${table} (email, password, name) values ($1, $2, $3)`, ['ada@example.com', hash, 'Ada'])
    await admin.query(`create role ${leakRole} login password 'leak-pw'`)
    configuration = { CONN: url.toString(), TABLE: table, LEAK: `postgres://${leakRole}:leak-pw@${url.host}${url.pathname}` }
    egress = { allow: [`${url.hostname}:${url.port}`] }
  })
  afterAll(async () => {
    await admin.query(`drop table ${table}`)
    await admin.query(`drop role ${leakRole}`)
    await admin.end()
  })

  const LOGIN = `function login(email, password, callback) {
  const bcrypt = require('bcrypt');
  const postgres = require('pg');
  postgres.connect(configuration.CONN, function (err, client, done) {
    if (err) return callback(err);
    const query = 'SELECT id, name, email, password FROM ' + configuration.TABLE + ' WHERE email = $1';
    client.query(query, [email], function (err, result) {
      done();
      if (err || result.rows.length === 0) return callback(err || new WrongUsernameOrPasswordError(email));
      const user = result.rows[0];
      bcrypt.compare(password, user.password, function (err, isValid) {
        if (err || !isValid) return callback(err || new WrongUsernameOrPasswordError(email));
        callback(null, { user_id: user.id, name: user.name, email: user.email });
      });
    });
  });
}`

  it('logs in with pg.connect and $1 parameters', async () => {
    const { value } = await runner.run(LOGIN, ['ada@example.com', 'right-password'], { configuration, egress })
    expect(value).toEqual({ user_id: 1, name: 'Ada', email: 'ada@example.com' })
    await expect(runner.run(LOGIN, ['ada@example.com', 'nope'], { configuration, egress })).rejects.toBeInstanceOf(
      WrongUsernameOrPasswordError,
    )
  })
  it('works with new pg.Client, in promise form', async () => {
    const source = `const { Client } = require('pg')
    async function changePassword(email, newPassword) {
      const client = new Client({ connectionString: configuration.CONN })
      await client.connect()
      const result = await client.query('UPDATE ' + configuration.TABLE + ' SET password = $1 WHERE email = $2', ['x', email])
      await client.end()
      return result.rowCount === 1
    }`
    expect((await runner.run(source, ['ada@example.com', 'x'], { configuration, egress })).value).toBe(true)
    await admin.query(`update ${table} set password = $1 where email = $2`, [hash, 'ada@example.com'])
  })
  it('refuses a postgres:// string that names a Unix socket', async () => {
    for (const conn of [
      'postgres://postgres@%2Fvar%2Frun%2Fpostgresql/db',
      'postgres:///db?host=/var/run/postgresql',
      'postgresql://u@/db?host=%2Ftmp',
    ]) {
      const source = `const pg = require('pg'); function f(c, cb) { pg.connect(c, function (err) { cb(err) }) }`
      await expect(runner.run(source, [conn], { egress })).rejects.toBeInstanceOf(EgressDeniedError)
    }
  })
  it('passes no driver options from the script', async () => {
    // A script may not switch on options like this one, which would run code on connect.
    const source = `const pg = require('pg'); async function f() { const c = new pg.Client({ connectionString: configuration.CONN, options: '-c statement_timeout=1', application_name: 'x' }); await c.connect(); const r = await c.query("select current_setting('statement_timeout') as t, current_setting('application_name') as a"); return r.rows[0] }`
    const { value } = await runner.run(source, [], { configuration, egress })
    expect(value).not.toEqual({ t: '1ms', a: 'x' })
    expect((value as { a: string }).a).not.toBe('x')
  })
  it('a statement that outlives the run ends in a timeout, and its client is closed', async () => {
    const source = `const pg = require('pg'); function f(cb) { const c = new pg.Client(configuration.LEAK); c.connect(function () { c.query('select pg_sleep(20)', function (err) { cb(err) }) }) }`
    await expect(runner.run(source, [], { configuration, egress, timeoutMs: 800 })).rejects.toThrow(
      /timed out after 800 ms while awaiting pg.query/,
    )
    await eventually(
      async () => Number((await admin.query('select count(*) as n from pg_stat_activity where usename = $1', [leakRole])).rows[0].n) === 0,
    )
  })

  it('closes a client the script never ends', async () => {
    const source = `const pg = require('pg'); function f(cb) { const c = new pg.Client(configuration.LEAK); c.connect(function (err) { if (err) return cb(err); c.query('select 1 as one', function (err, r) { cb(err, r && r.rows[0]) }) }) }`
    for (let i = 0; i < 3; i++) expect((await runner.run(source, [], { configuration, egress })).value).toEqual({ one: 1 })
    await eventually(
      async () => Number((await admin.query('select count(*) as n from pg_stat_activity where usename = $1', [leakRole])).rows[0].n) === 0,
    )
  })
})
