// Runs the PostgreSQL templates against a PostgreSQL server:
//   LEGACY_PG_URL=postgres://user:pass@127.0.0.1:5432/legacy npx -y pnpm@10 demo:postgres
// It creates a throwaway users table (schema.sql), runs every method, and drops the table.
import { randomBytes } from 'node:crypto'
import { fileURLToPath } from 'node:url'
import pg from 'pg'
import { closeHashPool, CustomScriptConnection } from '@latchkey/core'
import { openStore } from '@latchkey/adapters'
import { loadScripts, QuickJsRunner } from '@latchkey/sandbox'
import { demoDatabaseUrl } from '../database-url.js'
import { demoFlow } from '../demo-flow.js'

const url = demoDatabaseUrl(['LEGACY_PG_URL', 'LATCHKEY_PG_URL'], 'postgres://user:pass@127.0.0.1:5432/legacy')
const table = `users_demo_${randomBytes(3).toString('hex')}`
const admin = new pg.Client({ connectionString: url.toString() })
await admin.connect()
await admin.query(`CREATE TABLE ${table} (id SERIAL PRIMARY KEY, email TEXT NOT NULL UNIQUE, username TEXT UNIQUE,
  password TEXT NOT NULL, name TEXT, email_verified BOOLEAN NOT NULL DEFAULT FALSE)`)

const runner = new QuickJsRunner()
const store = await openStore('sqlite::memory:') // attack-protection counters and tickets
const users = new CustomScriptConnection({
  name: 'legacy-postgres',
  runner,
  store,
  scripts: loadScripts(fileURLToPath(new URL('.', import.meta.url))),
  configuration: { DB_URL: url.toString(), USERS_TABLE: table },
  egress: { allow: [`${url.hostname}:${url.port || '5432'}`] },
})
try {
  console.log(`PostgreSQL templates against ${url.host}, table ${table}:`)
  await demoFlow(users)
} finally {
  await admin.query(`DROP TABLE ${table}`)
  await admin.end()
  await runner.close()
  await store.close()
  await closeHashPool()
}
