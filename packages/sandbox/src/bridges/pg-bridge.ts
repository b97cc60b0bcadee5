import pg from 'pg'
import type { EgressPolicy } from '../egress/egress-policy.js'
import type { RunResources } from './run-resources.js'
import type { SafeSqlConfig } from './sql-config.js'
import { MAX_ROWS, SqlConnections } from './sql-connections.js'

/**
 * `require('pg')` on the host's pg: parameterised text plus values, a statement timeout
 * tied to the run's deadline, and a row cap.
 */
export class PgBridge extends SqlConnections<pg.Client> {
  constructor(policy: EgressPolicy, resources: RunResources, deadline: number) {
    super(policy, resources, deadline, 5432, ['postgres', 'postgresql'])
  }

  async query(id: number, text: string, values: unknown): Promise<unknown> {
    const client = await this.connection(id)
    const result = await client.query({ text, values: Array.isArray(values) ? values : [] })
    if (result.rows.length > MAX_ROWS) throw new Error(`the query returned more than ${MAX_ROWS} rows`)
    return { rows: result.rows, rowCount: result.rowCount, command: result.command, fields: result.fields.map((f) => ({ name: f.name })) }
  }

  protected async create(config: SafeSqlConfig, address: string): Promise<pg.Client> {
    const remaining = this.remainingMs()
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
  }

  protected async close(client: pg.Client): Promise<void> {
    await client.end()
  }
}
