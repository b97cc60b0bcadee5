// Runs the MySQL templates against a MySQL or MariaDB server:
//   LEGACY_MYSQL_URL=mysql://user:pass@127.0.0.1:3306/legacy npx -y pnpm@10 demo:mysql
// It creates a throwaway users table (schema.sql), runs every method, and drops the table.
import { randomBytes } from 'node:crypto'
import { fileURLToPath } from 'node:url'
import mysql from 'mysql2/promise'
import { closeHashPool, CustomScriptConnection } from '@latchkey/core'
import { openStore } from '@latchkey/adapters'
import { loadScripts, QuickJsRunner } from '@latchkey/sandbox'
import { demoDatabaseUrl } from '../database-url.js'
import { demoFlow } from '../demo-flow.js'

const url = demoDatabaseUrl(['LEGACY_MYSQL_URL', 'LATCHKEY_MYSQL_URL'], 'mysql://user:pass@127.0.0.1:3306/legacy')
const table = `users_demo_${randomBytes(3).toString('hex')}`
const admin = await mysql.createConnection(url.toString())
await admin.query(`CREATE TABLE ${table} (id INT AUTO_INCREMENT PRIMARY KEY, email VARCHAR(255) NOT NULL UNIQUE, username VARCHAR(64) UNIQUE,
  password VARCHAR(255) NOT NULL, nickname VARCHAR(255), email_verified TINYINT(1) NOT NULL DEFAULT 0)`)

const runner = new QuickJsRunner()
const store = await openStore('sqlite::memory:') // attack-protection counters and tickets
const users = new CustomScriptConnection({
  name: 'legacy-mysql',
  runner,
  store,
  scripts: loadScripts(fileURLToPath(new URL('.', import.meta.url))),
  configuration: {
    DB_HOST: url.hostname,
    DB_PORT: url.port || '3306',
    DB_USER: decodeURIComponent(url.username),
    DB_PASSWORD: decodeURIComponent(url.password),
    DB_NAME: url.pathname.slice(1),
    USERS_TABLE: table,
  },
  egress: { allow: [`${url.hostname}:${url.port || '3306'}`] },
})
try {
  console.log(`MySQL templates against ${url.host}, table ${table}:`)
  await demoFlow(users)
} finally {
  await admin.query(`DROP TABLE ${table}`)
  await admin.end()
  await runner.close()
  await store.close()
  await closeHashPool()
}
