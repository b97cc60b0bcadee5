// openStore's forms: URLs, and a Kysely the host brings (and keeps).
import Database from 'better-sqlite3'
import { Kysely, SqliteDialect, sql } from 'kysely'
import { afterAll, describe, expect, it } from 'vitest'
import { BuiltinConnection, closeHashPool, InvalidInputError, StoreUnavailableError } from '@latchkey/core'
import { openStore } from '@latchkey/adapters'
import { TEST_COST } from './support/test-cost.js'

afterAll(async () => {
  await closeHashPool()
})

describe('openStore', () => {
  it("takes the host's own Kysely, migrates it, and leaves it open on close", async () => {
    const kysely = new Kysely<Record<string, never>>({ dialect: new SqliteDialect({ database: new Database(':memory:') }) })
    await sql`create table host_table (id integer)`.execute(kysely)
    const store = await openStore({ kysely, dialect: 'sqlite' })
    const users = new BuiltinConnection({ name: 'byo', store, ...TEST_COST })
    await users.signup({ email: 'byo@example.com', password: 'pw-Tr0ub4dor-42' }, { ip: '192.0.2.1' })
    await expect(users.login({ identifier: 'byo@example.com', password: 'pw-Tr0ub4dor-42' }, { ip: '192.0.2.1' })).resolves.toBeTruthy()
    await store.close()
    // The host's connection still works, its own table untouched, ours alongside under our names.
    const tables = await sql<{ name: string }>`select name from sqlite_master where type = 'table' order by name`.execute(kysely)
    expect(tables.rows.map((r) => r.name)).toEqual(expect.arrayContaining(['host_table', 'latchkey_migration', 'latchkey_users']))
    await kysely.destroy()
  })

  it('refuses an unknown dialect and a SQLite URL without a path', async () => {
    const kysely = new Kysely<Record<string, never>>({ dialect: new SqliteDialect({ database: new Database(':memory:') }) })
    await expect(openStore({ kysely, dialect: 'oracle' as never })).rejects.toBeInstanceOf(InvalidInputError)
    await expect(openStore('sqlite:')).rejects.toBeInstanceOf(InvalidInputError)
    await kysely.destroy()
  })

  it('gives a server that is not there as StoreUnavailableError', async () => {
    await expect(openStore('postgres://latchkey@127.0.0.1:1/none', { connectTimeoutMs: 1000 })).rejects.toBeInstanceOf(
      StoreUnavailableError,
    )
    await expect(openStore('mysql://latchkey@127.0.0.1:1/none', { connectTimeoutMs: 1000 })).rejects.toBeInstanceOf(StoreUnavailableError)
  })

  it('never repeats a URL (which may hold a password) in its errors', async () => {
    const error = await openStore('mongodb://admin:s3cret@db/x').catch((e: unknown) => e)
    expect(error).toBeInstanceOf(InvalidInputError)
    expect((error as Error).message).not.toContain('s3cret')
  })
})
