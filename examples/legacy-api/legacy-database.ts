// The legacy store the API fronts: a MariaDB/MySQL users table as an old app left it, with
// bcrypt hashes in `password`. Only the identity API talks to it; scripts never do.
import { randomBytes } from 'node:crypto'
import bcrypt from 'bcryptjs'
import mysql, { type Pool, type RowDataPacket } from 'mysql2/promise'

export interface LegacyRow {
  id: number
  email: string
  username: string | null
  nickname: string | null
  email_verified: number
  password: string
}

export class LegacyDatabase {
  private constructor(
    private readonly pool: Pool,
    readonly table: string,
    private readonly bcryptCost: number,
  ) {}

  /** Connects and creates a fresh users table (`legacy_users_<random>` unless named). */
  static async open(url: string, opts: { table?: string; bcryptCost?: number } = {}): Promise<LegacyDatabase> {
    const table = opts.table ?? `legacy_users_${randomBytes(4).toString('hex')}`
    if (!/^[A-Za-z_][A-Za-z0-9_]{0,63}$/.test(table)) throw new Error('table must be a plain SQL identifier')
    const pool = mysql.createPool({ uri: url, connectionLimit: 4 })
    await pool.query(`CREATE TABLE IF NOT EXISTS ${table} (id INT AUTO_INCREMENT PRIMARY KEY, email VARCHAR(255) NOT NULL UNIQUE,
      username VARCHAR(64) UNIQUE, nickname VARCHAR(255), email_verified TINYINT(1) NOT NULL DEFAULT 0, password VARCHAR(255) NOT NULL)`)
    return new LegacyDatabase(pool, table, opts.bcryptCost ?? 10)
  }

  async addUser(user: { email: string; password: string; username?: string; nickname?: string; emailVerified?: boolean }): Promise<number> {
    const [result] = await this.pool.query<mysql.ResultSetHeader>(
      `INSERT INTO ${this.table} (email, username, nickname, email_verified, password) VALUES (?, ?, ?, ?, ?)`,
      [
        user.email,
        user.username ?? null,
        user.nickname ?? null,
        user.emailVerified ? 1 : 0,
        await bcrypt.hash(user.password, this.bcryptCost),
      ],
    )
    return result.insertId
  }

  async findUser(identifier: string): Promise<LegacyRow | null> {
    const [rows] = await this.pool.query<(LegacyRow & RowDataPacket)[]>(
      `SELECT * FROM ${this.table} WHERE email = ? OR username = ? LIMIT 1`,
      [identifier, identifier],
    )
    return rows[0] ?? null
  }

  async setPassword(identifier: string, newPassword: string): Promise<boolean> {
    const hash = await bcrypt.hash(newPassword, this.bcryptCost)
    const [result] = await this.pool.query<mysql.ResultSetHeader>(`UPDATE ${this.table} SET password = ? WHERE email = ? OR username = ?`, [
      hash,
      identifier,
      identifier,
    ])
    return result.affectedRows > 0
  }

  /** Drops the table and closes the pool. */
  async drop(): Promise<void> {
    await this.pool.query(`DROP TABLE IF EXISTS ${this.table}`)
    await this.pool.end()
  }
}
