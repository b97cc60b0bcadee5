// A script's database connection carries only what the script said: never the host's
// PG* variables, a pgpass file (PGPASSFILE's, or ./.pgpass in the working directory),
// nor a local file through LOAD DATA LOCAL INFILE.
import { randomBytes } from 'node:crypto'
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import net from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import mysql from 'mysql2/promise'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { closeHashPool, ScriptError } from '@latchkey/core'
import { QuickJsRunner } from '@latchkey/sandbox'
import { DIALECTS } from './support/dialects.js'

const HOST_SECRETS = {
  PGPASSWORD: 'host-pg-password-1',
  PGUSER: 'host_pg_user',
  PGDATABASE: 'host_pg_db',
  PGOPTIONS: '-c search_path=host_schema',
  PGAPPNAME: 'host-app',
}
const PASSFILE_SECRET = 'passfile-secret-22'
const CWD_PGPASS_SECRET = 'cwd-pgpass-secret-33'

interface Seen {
  startup: Record<string, string>
  password: string | null
}

/**
 * A loopback server speaking just enough of PostgreSQL's protocol to ask for a cleartext
 * password and record what a client sends: its startup parameters and its password.
 */
async function pgCapture() {
  const seen: Seen[] = []
  const server = net.createServer((socket) => {
    let buffer = Buffer.alloc(0)
    let entry: Seen | null = null
    socket.on('data', (chunk) => {
      buffer = Buffer.concat([buffer, chunk])
      for (;;) {
        if (entry === null) {
          if (buffer.length < 4 || buffer.length < buffer.readInt32BE(0)) return
          const length = buffer.readInt32BE(0)
          const fields = buffer.subarray(8, length).toString('utf8').split('\0')
          buffer = buffer.subarray(length)
          const startup: Record<string, string> = {}
          for (let i = 0; i + 1 < fields.length && fields[i] !== ''; i += 2) startup[fields[i]!] = fields[i + 1]!
          entry = { startup, password: null }
          seen.push(entry)
          socket.write(Buffer.from([0x52, 0, 0, 0, 8, 0, 0, 0, 3])) // AuthenticationCleartextPassword
          continue
        }
        // Only the first message after the startup is the password; a Terminate may follow.
        if (entry.password !== null || buffer.length < 5 || buffer.length < 1 + buffer.readInt32BE(1)) return
        const length = buffer.readInt32BE(1)
        entry.password = buffer.subarray(5, 1 + length - 1).toString('utf8')
        buffer = buffer.subarray(1 + length)
        const text = Buffer.from('SFATAL\0C28P01\0Mpassword authentication failed\0\0')
        const error = Buffer.alloc(5)
        error.write('E')
        error.writeInt32BE(4 + text.length, 1)
        socket.end(Buffer.concat([error, text]))
        return
      }
    })
    socket.on('error', () => undefined)
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const port = (server.address() as net.AddressInfo).port
  return { port, seen, close: () => new Promise<void>((resolve) => server.close(() => resolve())) }
}

const saved = { ...process.env }
let capture: Awaited<ReturnType<typeof pgCapture>>
let dir: string
const cwdPgpass = join(process.cwd(), '.pgpass')
const hadCwdPgpass = existsSync(cwdPgpass)

beforeAll(async () => {
  capture = await pgCapture()
  dir = mkdtempSync(join(tmpdir(), 'latchkey-pgpass-'))
})
afterAll(async () => {
  process.env = saved
  if (!hadCwdPgpass) rmSync(cwdPgpass, { force: true })
  rmSync(dir, { recursive: true, force: true })
  await capture.close()
  await closeHashPool()
})

/**
 * Runs a script that connects to the capture server, on a runner started with the current
 * environment: once as a run of no connection, once as a run of a connection whose SQL
 * connections are pooled (its handle as `global`).
 */
async function connectOnce(source: string): Promise<Seen[]> {
  // Workers are started with the runner: each case gets its own, after setting the environment.
  const runner = new QuickJsRunner({ workers: 1, timeoutMs: 20_000 })
  try {
    const seen: Seen[] = []
    for (const global of [undefined, 'credentials-test-pooled-connection-handle']) {
      const before = capture.seen.length
      const error = await runner
        .run(source, [], {
          egress: { allow: [`127.0.0.1:${capture.port}`] },
          configuration: { PORT: String(capture.port) },
          ...(global === undefined ? {} : { global }),
        })
        .catch((e: unknown) => e)
      expect(error).toBeInstanceOf(ScriptError)
      expect((error as ScriptError).message).toMatch(/password authentication failed/)
      expect(capture.seen.length).toBe(before + 1)
      seen.push(capture.seen.at(-1)!)
    }
    return seen
  } finally {
    await runner.close()
  }
}

const CLIENT = `function f(cb) { const pg = require('pg'); const c = new pg.Client({ host: '127.0.0.1', port: Number(configuration.PORT) }); c.connect((err) => cb(err)) }`
const CONNECT_STRING = `function f(cb) { require('pg').connect('postgres://127.0.0.1:' + configuration.PORT + '/', (err) => cb(err)) }`

function expectNothingOfTheHost(seen: Seen): void {
  const sent = JSON.stringify(seen)
  for (const secret of [...Object.values(HOST_SECRETS), PASSFILE_SECRET, CWD_PGPASS_SECRET, 'host_schema'])
    expect(sent).not.toContain(secret)
  expect(seen.startup['options']).toBeUndefined()
  expect(seen.password).toBe('')
}

describe('the pg shim never sends the host credentials', () => {
  it('not from PG* variables', async () => {
    Object.assign(process.env, HOST_SECRETS)
    for (const source of [CLIENT, CONNECT_STRING]) for (const seen of await connectOnce(source)) expectNothingOfTheHost(seen)
  })

  it('not from the file PGPASSFILE names', async () => {
    process.env = { ...saved }
    const file = join(dir, 'pgpass')
    writeFileSync(file, `*:*:*:*:${PASSFILE_SECRET}\n`, { mode: 0o600 })
    process.env['PGPASSFILE'] = file
    for (const seen of await connectOnce(CLIENT)) expectNothingOfTheHost(seen)
  })

  it('not from ./.pgpass in the working directory, with no HOME', async () => {
    process.env = { ...saved }
    delete process.env['HOME']
    writeFileSync(cwdPgpass, `*:*:*:*:${CWD_PGPASS_SECRET}\n`, { mode: 0o600 })
    for (const seen of await connectOnce(CLIENT)) expectNothingOfTheHost(seen)
  })

  it('sends what the script gave, and only that', async () => {
    process.env = { ...saved, ...HOST_SECRETS }
    const both = await connectOnce(
      `function f(cb) { const pg = require('pg'); const c = new pg.Client({ host: '127.0.0.1', port: Number(configuration.PORT), user: 'script_user', password: 'script-pw-1234', database: 'script_db', options: '-c role=admin' }); c.connect((err) => cb(err)) }`,
    )
    expect(both).toHaveLength(2)
    for (const seen of both) {
      expect(seen.startup['user']).toBe('script_user')
      expect(seen.startup['database']).toBe('script_db')
      expect(seen.startup['options']).toBeUndefined()
      expect(seen.password).toBe('script-pw-1234')
    }
  })
})

describe.runIf(DIALECTS.includes('mysql'))('the mysql shim', () => {
  const url = new URL(process.env['LATCHKEY_MYSQL_URL'] ?? 'mysql://x@127.0.0.1/x')
  const table = `infile_${randomBytes(4).toString('hex')}`
  let admin: mysql.Connection
  beforeAll(async () => {
    admin = await mysql.createConnection(url.toString())
    await admin.query(`create table ${table} (line text)`)
  })
  afterAll(async () => {
    await admin.query(`drop table ${table}`)
    await admin.end()
  })

  it('refuses LOAD DATA LOCAL INFILE: no host file reaches the server', async () => {
    const secretFile = join(dir, 'host-secret.txt')
    writeFileSync(secretFile, 'host-file-secret-44\n')
    const runner = new QuickJsRunner({ workers: 1, timeoutMs: 20_000 })
    try {
      const error = await runner
        .run(
          `function f(cb) {
        const c = require('mysql').createConnection({ host: configuration.HOST, port: configuration.PORT, user: configuration.USER, password: configuration.PASSWORD, database: configuration.DB })
        c.query("LOAD DATA LOCAL INFILE '${secretFile}' INTO TABLE ${table}", [], (err) => cb(err))
      }`,
          [],
          {
            configuration: {
              HOST: url.hostname,
              PORT: url.port,
              USER: decodeURIComponent(url.username),
              PASSWORD: decodeURIComponent(url.password),
              DB: url.pathname.slice(1),
            },
            egress: { allow: [`${url.hostname}:${url.port}`] },
          },
        )
        .catch((e: unknown) => e)
      expect(error).toBeInstanceOf(ScriptError)
      const [rows] = await admin.query(`select count(*) as n from ${table}`)
      expect((rows as { n: number }[])[0]!.n).toBe(0)
    } finally {
      await runner.close()
    }
  })
})
