import { mkdtempSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { randomBytes } from 'node:crypto'
import { sql } from 'kysely'
import { openStore, type DialectName, type OpenedStore } from '@latchkey/adapters'

/**
 * The dialects a run covers: `DIALECTS=sqlite,postgres,mysql`. By default SQLite, plus
 * PostgreSQL and MySQL when their URLs are set. A dialect that is asked for but has no
 * URL fails the run instead of being skipped.
 */
export const DIALECTS: DialectName[] = (
  process.env['DIALECTS'] ??
  ['sqlite', process.env['LATCHKEY_PG_URL'] && 'postgres', process.env['LATCHKEY_MYSQL_URL'] && 'mysql'].filter(Boolean).join(',')
)
  .split(',')
  .map((d) => d.trim())
  .filter(Boolean) as DialectName[]

/** Whether a dialect's database is a file of this process rather than a server the tests share. */
export const EMBEDDED: Readonly<Record<DialectName, boolean>> = { sqlite: true, postgres: false, mysql: false }

/** A URL for a fresh store of `dialect`: a new SQLite file, or the shared test server. */
export function storeUrl(dialect: DialectName): string {
  switch (dialect) {
    case 'sqlite':
      return `sqlite:${join(mkdtempSync(join(tmpdir(), 'latchkey-test-')), 'store.db')}`
    case 'postgres':
      return requiredEnv('LATCHKEY_PG_URL')
    case 'mysql':
      return requiredEnv('LATCHKEY_MYSQL_URL')
  }
}

export function openTestStore(dialect: DialectName): Promise<OpenedStore> {
  return openStore(storeUrl(dialect))
}

/** Connection names scope everything in a store, so parallel tests never see each other. */
export function uniqueName(prefix = 't'): string {
  return `${prefix}-${randomBytes(6).toString('hex')}`
}

function requiredEnv(name: string): string {
  const value = process.env[name]
  if (!value) throw new Error(`${name} is not set, but DIALECTS asks for its server (see README: Contributing)`)
  return value
}

/**
 * A URL for a brand-new, empty database of `dialect` (a new SQLite file, or a new
 * database created on the test server), for tests that must see migrations run.
 */
export async function freshDatabaseUrl(dialect: DialectName): Promise<string> {
  const base = storeUrl(dialect)
  if (EMBEDDED[dialect]) return base
  const name = `latchkey_${randomBytes(5).toString('hex')}`
  const admin = await openStore(base, { migrate: false })
  await sql.raw(`create database ${name}`).execute(admin.db)
  await admin.close()
  const url = new URL(base)
  url.pathname = `/${name}`
  return url.toString()
}
