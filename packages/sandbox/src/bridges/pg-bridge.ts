import pg from 'pg'
import type { EgressPolicy } from '../egress/egress-policy.js'
import { MAX_ROWS } from './mysql-bridge.js'
import type { RunResources } from './run-resources.js'
import { safeSqlConfig, type SafeSqlConfig } from './sql-config.js'

/**
 * `require('pg')` on the host's pg: parameterised text plus values, a statement timeout
 * tied to the run's deadline, a row cap, and a connection only to an allow-listed,
 * already-resolved address with only the settings of {@link SafeSqlConfig}.
 */
export class PgBridge {
  private readonly clients = new Map<number, { config: SafeSqlConfig; client: Promise<pg.Client> | null }>()
  private nextId = 1

  constructor(private readonly policy: EgressPolicy, private readonly resources: RunResources, private readonly deadline: number) {}

  open(config: unknown): number {
    const id = this.nextId++
    this.clients.set(id, { config: safeSqlConfig(config, 5432, ['postgres', 'postgresql']), client: null })
    return id
  }

  async connect(id: number): Promise<void> {
    await this.client(id)
  }

  async query(id: number, text: string, values: unknown): Promise<unknown> {
    const client = await this.client(id)
    const result = await client.query({ text, values: Array.isArray(values) ? values : [] })
    if (result.rows.length > MAX_ROWS) throw new Error(`the query returned more than ${MAX_ROWS} rows`)
    return { rows: result.rows, rowCount: result.rowCount, command: result.command, fields: result.fields.map((f) => ({ name: f.name })) }
  }

  async end(id: number): Promise<void> {
    const entry = this.clients.get(id)
    this.clients.delete(id)
    const client = await entry?.client?.catch(() => null)
    // A client whose server already hung up has nothing left to close.
    if (client) await client.end().catch(() => undefined)
  }

  private client(id: number): Promise<pg.Client> {
    const entry = this.clients.get(id)
    if (!entry) return Promise.reject(new Error('this client has ended'))
    entry.client ??= (async () => {
      const { config } = entry
      const address = await this.policy.resolve(config.host, config.port)
      const remaining = Math.max(1, this.deadline - Date.now())
      const client = new pg.Client({
        host: address,
        port: config.port,
        ...(config.user === undefined ? {} : { user: config.user }),
        ...(config.password === undefined ? {} : { password: config.password }),
        ...(config.database === undefined ? {} : { database: config.database }),
        ssl: config.ssl ? { rejectUnauthorized: true, servername: config.host } : false,
        connectionTimeoutMillis: remaining,
        statement_timeout: remaining,
        query_timeout: remaining,
      })
      client.on('error', () => { /* surfaced through the query that fails */ })
      this.resources.add({ close: async () => { await Promise.race([client.end(), new Promise((r) => setTimeout(r, 200))]) } })
      await client.connect()
      return client
    })()
    return entry.client
  }
}
