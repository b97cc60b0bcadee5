// The legacy store: a MariaDB/MySQL users table with a hash column and, for the oldest
// accounts, a salt column. The demo seeds it, the scripts read it, and its rows are also the
// host's export for the bulk import that finishes the migration.
import { randomBytes } from 'node:crypto'
import type { ImportRecord } from '@latchkey/core'
import mysql, { type Pool, type RowDataPacket } from 'mysql2/promise'
import type { LegacyUser } from './legacy-users.js'

interface LegacyRow extends RowDataPacket {
  id: number
  email: string
  username: string | null
  name: string | null
  email_verified: number
  password_hash: string
  salt: string | null
}

export class LegacyDatabase {
  private constructor(
    private readonly pool: Pool,
    readonly table: string,
  ) {}

  /** Connects and creates a fresh, empty users table (`legacy_users_<random>`). */
  static async open(url: string): Promise<LegacyDatabase> {
    const table = `legacy_users_${randomBytes(3).toString('hex')}`
    const pool = mysql.createPool({ uri: url, connectionLimit: 2 })
    await pool.query(`CREATE TABLE ${table} (id INT AUTO_INCREMENT PRIMARY KEY, email VARCHAR(255) NOT NULL UNIQUE,
      username VARCHAR(64) UNIQUE, name VARCHAR(255), email_verified TINYINT(1) NOT NULL DEFAULT 1,
      password_hash VARCHAR(255) NOT NULL, salt VARCHAR(64))`)
    return new LegacyDatabase(pool, table)
  }

  /** Inserts the users with their stored hashes (the passwords themselves are never stored). */
  async seed(users: LegacyUser[]): Promise<void> {
    for (const u of users) {
      await this.pool.query(`INSERT INTO ${this.table} (email, username, name, password_hash, salt) VALUES (?, ?, ?, ?, ?)`, [
        u.email,
        u.username,
        u.name,
        u.password_hash,
        u.salt,
      ])
    }
  }

  /**
   * The host's export of every legacy user, as `importUsers` records: the legacy id as
   * `user_id` (the same one the login script returns, so a user is one user whichever way
   * they move), bcrypt as `password_hash`, phpass and the salted SHA-1 as `custom_password_hash`.
   */
  async exportUsers(): Promise<ImportRecord[]> {
    const [rows] = await this.pool.query<LegacyRow[]>(`SELECT * FROM ${this.table} ORDER BY id`)
    return rows.map((row) => ({
      user_id: String(row.id),
      email: row.email,
      email_verified: row.email_verified === 1,
      ...(row.username ? { username: row.username } : {}),
      ...(row.name ? { name: row.name } : {}),
      ...storedHash(row),
    }))
  }

  async count(): Promise<number> {
    const [rows] = await this.pool.query<RowDataPacket[]>(`SELECT COUNT(*) AS n FROM ${this.table}`)
    return Number(rows[0]?.['n'])
  }

  /** Drops the table and closes the pool; once. */
  drop(): Promise<void> {
    this.dropped ??= this.pool.query(`DROP TABLE IF EXISTS ${this.table}`).then(() => this.pool.end())
    return this.dropped
  }
  private dropped: Promise<void> | null = null
}

function storedHash(row: LegacyRow): Pick<ImportRecord, 'password_hash' | 'custom_password_hash'> {
  if (row.salt !== null) {
    return {
      custom_password_hash: {
        algorithm: 'sha1',
        hash: { value: row.password_hash, encoding: 'hex' },
        salt: { value: row.salt, position: 'suffix' },
      },
    }
  }
  if (row.password_hash.startsWith('$2')) return { password_hash: row.password_hash }
  return { custom_password_hash: { algorithm: 'phpass', hash: { value: row.password_hash } } }
}
