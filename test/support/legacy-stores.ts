import { randomBytes } from 'node:crypto'
import { fileURLToPath } from 'node:url'
import mysql from 'mysql2/promise'
import pg from 'pg'
import type { CustomScripts } from '@latchkey/core'
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

const templateDir = (name: string) => fileURLToPath(new URL(`../../examples/custom-db/${name}/`, import.meta.url))
const template = (name: string) => ({ dir: templateDir(name), scripts: loadScripts(templateDir(name)) })

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
  if (DIALECTS.includes('mysql')) {
    stores['MariaDB'] = async () => {
      const url = new URL(process.env['LATCHKEY_MYSQL_URL']!)
      const table = `legacy_${randomBytes(4).toString('hex')}`
      const admin = await mysql.createConnection(url.toString())
      await admin.query(`CREATE TABLE ${table} (id INT AUTO_INCREMENT PRIMARY KEY, email VARCHAR(255) NOT NULL UNIQUE, username VARCHAR(64) UNIQUE,
        password VARCHAR(255) NOT NULL, nickname VARCHAR(255), email_verified TINYINT(1) NOT NULL DEFAULT 0)`)
      return {
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
        teardown: async () => {
          await admin.query(`DROP TABLE ${table}`)
          await admin.end()
        },
      }
    }
  }
  if (DIALECTS.includes('postgres')) {
    stores['PostgreSQL'] = async () => {
      const url = new URL(process.env['LATCHKEY_PG_URL']!)
      const table = `legacy_${randomBytes(4).toString('hex')}`
      const admin = new pg.Client({ connectionString: url.toString() })
      await admin.connect()
      await admin.query(`CREATE TABLE ${table} (id SERIAL PRIMARY KEY, email TEXT NOT NULL UNIQUE, username TEXT UNIQUE,
        password TEXT NOT NULL, name TEXT, email_verified BOOLEAN NOT NULL DEFAULT FALSE)`)
      // The templates read a secret-bearing URL; make it one the redaction tests can look for.
      const secretUrl = `${url.toString()}${url.search ? '&' : '?'}application_name=legacy-secret-marker`
      return {
        ...template('postgres'),
        configuration: { DB_URL: secretUrl, USERS_TABLE: table },
        egress: { allow: [`${url.hostname}:${url.port}`] },
        secret: 'legacy-secret-marker',
        teardown: async () => {
          await admin.query(`DROP TABLE ${table}`)
          await admin.end()
        },
      }
    }
  }
  return stores
}
