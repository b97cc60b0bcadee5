// Throwaway legacy stores, reached through the shipped examples/custom-db templates: a users
// table in the real MariaDB or PostgreSQL test server (the legacy side of the migration and
// custom-script tests), or a real HTTP legacy API.
import { randomBytes } from 'node:crypto'
import { fileURLToPath } from 'node:url'
import mysql from 'mysql2/promise'
import pg from 'pg'
import type { CustomScripts } from '@latchkey/core'
import { bcryptHash } from '@latchkey/core/internal'
import { loadScripts } from '../../examples/custom-db/load-scripts.js'
import { startLegacyApi } from '../../examples/custom-db/web-service/legacy-api-server.js'
import { DIALECTS } from './dialects.js'
import { TEST_COST } from './test-cost.js'

/** A throwaway legacy store that one template folder of examples/custom-db/ works against. */
export interface LegacyStore {
  /** The template folder, e.g. examples/custom-db/mysql/. */
  dir: string
  scripts: CustomScripts
  configuration: Record<string, string>
  egress: { allow: string[] }
  /** A configuration value that must never appear in a log or an error. */
  secret: string
  teardown(): Promise<void>
}

/** A legacy users table in the MariaDB or PostgreSQL test server. */
export interface LegacyDatabase extends LegacyStore {
  label: string
  /** Adds a user with a bcrypt (cost 4) hash of `password`; returns its legacy id. */
  add(user: { email: string; password: string; username?: string; name?: string; verified?: boolean }): Promise<string>
  /** Runs SQL on the legacy table, named `$table` in the text. */
  query(text: string, params?: unknown[]): Promise<void>
  /**
   * Holds a lock in a transaction on a connection of its own until `release()`: a row's
   * (FOR UPDATE: writes of that row wait, reads do not) or the whole table's (every query
   * waits). `waiting()` counts the sessions waiting for it, so a test can tell a script is
   * parked at that point before it goes on.
   */
  hold(lock: { row: string } | 'table'): Promise<HeldLock>
}

export interface HeldLock {
  waiting(): Promise<number>
  release(): Promise<void>
}

/** Polls until someone waits for `lock` (a script reached the point it guards); fails after `ms`. */
export async function untilWaiting(lock: HeldLock, ms = 10_000): Promise<void> {
  for (const until = Date.now() + ms; Date.now() < until; ) {
    if ((await lock.waiting()) > 0) return
    await new Promise((r) => setTimeout(r, 25))
  }
  throw new Error(`nobody waited for the legacy lock within ${ms} ms`)
}

const templateDir = (name: string) => fileURLToPath(new URL(`../../examples/custom-db/${name}/`, import.meta.url))
const template = (name: string) => ({ dir: templateDir(name), scripts: loadScripts(templateDir(name)) })

/** The legacy databases this run's DIALECTS give: MariaDB for mysql, PostgreSQL for postgres. */
export function legacyKinds(dialects: string[]): ('mysql' | 'postgres')[] {
  return (['mysql', 'postgres'] as const).filter((d) => dialects.includes(d))
}

/**
 * A fresh legacy users table. `emailRequired` makes the email column NOT NULL, as the
 * custom-script tests' stores have it.
 */
export async function legacyDatabase(kind: 'mysql' | 'postgres', opts: { emailRequired?: boolean } = {}): Promise<LegacyDatabase> {
  const table = `legacy_${randomBytes(4).toString('hex')}`
  const email = opts.emailRequired ? 'NOT NULL UNIQUE' : 'UNIQUE'
  if (kind === 'mysql') {
    const url = new URL(process.env['LATCHKEY_MYSQL_URL']!)
    const admin = await mysql.createConnection(url.toString())
    await admin.query(`CREATE TABLE ${table} (id INT AUTO_INCREMENT PRIMARY KEY, email VARCHAR(255) ${email}, username VARCHAR(64) UNIQUE,
      password VARCHAR(255) NOT NULL, nickname VARCHAR(255), email_verified TINYINT(1) NOT NULL DEFAULT 0)`)
    return {
      label: 'MariaDB',
      ...template('mysql'),
      configuration: {
        DB_HOST: url.hostname,
        DB_PORT: url.port,
        DB_USER: decodeURIComponent(url.username),
        DB_PASSWORD: decodeURIComponent(url.password),
        DB_NAME: url.pathname.slice(1),
        USERS_TABLE: table,
      },
      egress: { allow: [`${url.hostname}:${url.port}`] },
      secret: decodeURIComponent(url.password),
      async add(u) {
        const [result] = await admin.query(
          `INSERT INTO ${table} (email, username, password, nickname, email_verified) VALUES (?, ?, ?, ?, ?)`,
          [u.email, u.username ?? null, await bcryptHash(u.password, 4), u.name ?? null, u.verified ? 1 : 0],
        )
        return String((result as { insertId: number }).insertId)
      },
      async query(text, params = []) {
        await admin.query(text.replaceAll('$table', table), params)
      },
      async hold(lock) {
        const holder = await mysql.createConnection(url.toString())
        await holder.query('START TRANSACTION')
        if (lock === 'table') await holder.query(`LOCK TABLES ${table} WRITE`)
        else await holder.query(`SELECT id FROM ${table} WHERE id = ? FOR UPDATE`, [Number(lock.row)])
        return {
          async waiting() {
            const [rows] =
              lock === 'table'
                ? await holder.query(
                    "SELECT COUNT(*) AS n FROM information_schema.processlist WHERE state LIKE 'Waiting for table%' AND info LIKE ?",
                    [`%${table}%`],
                  )
                : // A write of the table in progress while the row is held: only the parked call writes it meanwhile.
                  await holder.query(
                    "SELECT COUNT(*) AS n FROM information_schema.processlist WHERE id <> CONNECTION_ID() AND info LIKE 'UPDATE%' AND info LIKE ?",
                    [`%${table}%`],
                  )
            return Number((rows as { n: number }[])[0]!.n)
          },
          async release() {
            await holder.query(lock === 'table' ? 'UNLOCK TABLES' : 'COMMIT')
            await holder.end()
          },
        }
      },
      async teardown() {
        await admin.query(`DROP TABLE ${table}`)
        await admin.end()
      },
    }
  }
  const url = new URL(process.env['LATCHKEY_PG_URL']!)
  const admin = new pg.Client({ connectionString: url.toString() })
  await admin.connect()
  await admin.query(`CREATE TABLE ${table} (id SERIAL PRIMARY KEY, email TEXT ${email}, username TEXT UNIQUE,
    password TEXT NOT NULL, name TEXT, email_verified BOOLEAN NOT NULL DEFAULT FALSE)`)
  // The templates read a secret-bearing URL; make it one the redaction tests can look for.
  const secretUrl = `${url.toString()}${url.search ? '&' : '?'}application_name=legacy-secret-marker`
  return {
    label: 'PostgreSQL',
    ...template('postgres'),
    configuration: { DB_URL: secretUrl, USERS_TABLE: table },
    egress: { allow: [`${url.hostname}:${url.port}`] },
    secret: 'legacy-secret-marker',
    async add(u) {
      const { rows } = await admin.query(
        `INSERT INTO ${table} (email, username, password, name, email_verified) VALUES ($1, $2, $3, $4, $5) RETURNING id`,
        [u.email, u.username ?? null, await bcryptHash(u.password, 4), u.name ?? null, u.verified ?? false],
      )
      return String((rows[0] as { id: number }).id)
    },
    async query(text, params = []) {
      let i = 0
      await admin.query(
        text.replaceAll('$table', table).replaceAll('?', () => `$${++i}`),
        params,
      )
    },
    async hold(lock) {
      const holder = new pg.Client({ connectionString: url.toString() })
      await holder.connect()
      await holder.query('BEGIN')
      if (lock === 'table') await holder.query(`LOCK TABLE ${table} IN ACCESS EXCLUSIVE MODE`)
      else await holder.query(`SELECT id FROM ${table} WHERE id = $1 FOR UPDATE`, [Number(lock.row)])
      return {
        async waiting() {
          // Activity is read once per transaction unless the snapshot is dropped first.
          await holder.query('SELECT pg_stat_clear_snapshot()')
          const { rows } = await holder.query(
            'SELECT COUNT(*)::int AS n FROM pg_stat_activity WHERE pg_backend_pid() = ANY(pg_blocking_pids(pid))',
          )
          return (rows[0] as { n: number }).n
        },
        async release() {
          await holder.query('COMMIT')
          await holder.end()
        },
      }
    },
    async teardown() {
      await admin.query(`DROP TABLE ${table}`)
      await admin.end()
    },
  }
}

/**
 * The legacy stores of the shipped templates: a real HTTP legacy API always, and a fresh
 * table in the test MariaDB and PostgreSQL when DIALECTS names them.
 */
export function legacyStores(): Record<string, () => Promise<LegacyStore>> {
  const stores: Record<string, () => Promise<LegacyStore>> = {
    'web service': async () => {
      const api = await startLegacyApi({ user: 'latchkey', password: 'api-secret-value', ...TEST_COST })
      return {
        ...template('web-service'),
        configuration: { API_URL: api.url, API_USER: 'latchkey', API_PASSWORD: 'api-secret-value' },
        egress: { allow: [`127.0.0.1:${api.port}`] },
        secret: 'api-secret-value',
        teardown: api.close,
      }
    },
  }
  for (const kind of legacyKinds(DIALECTS)) {
    stores[kind === 'mysql' ? 'MariaDB' : 'PostgreSQL'] = () => legacyDatabase(kind, { emailRequired: true })
  }
  return stores
}
