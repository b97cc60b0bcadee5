import pg from 'pg'
import type { EgressPolicy } from '../egress/egress-policy.js'
import type { RunResources } from './run-resources.js'
import type { SafeSqlConfig } from './sql-config.js'
import { cappedRows, SqlConnections } from './sql-connections.js'

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
    return {
      rows: cappedRows(result.rows),
      rowCount: result.rowCount,
      command: result.command,
      fields: result.fields.map((f) => ({ name: f.name })),
    }
  }

  protected async create(config: SafeSqlConfig, address: string): Promise<pg.Client> {
    const remaining = this.remainingMs()
    // pg fills any field it finds empty from PG* variables, defaults and a pgpass file. The
    // worker's environment is empty, and every field is given here, the password as a
    // function, which pg calls instead of ever reading a pgpass file: a script's server
    // learns only what the script itself said.
    const password = config.password ?? ''
    const client = new pg.Client({
      host: address,
      port: config.port,
      user: config.user ?? '',
      database: config.database ?? config.user ?? '',
      password: () => password,
      options: '',
      application_name: 'latchkey-script',
      fallback_application_name: 'latchkey-script',
      client_encoding: 'UTF8',
      ssl: config.ssl ? { rejectUnauthorized: true, servername: config.host } : false,
      connectionTimeoutMillis: remaining,
      statement_timeout: remaining,
      query_timeout: remaining,
    })
    client.on('error', () => {
      /* surfaced through the query that fails */
    })
    this.resources.add({
      close: async () => {
        await Promise.race([client.end(), new Promise((r) => setTimeout(r, 200))])
      },
    })
    await client.connect()
    return client
  }

  protected async close(client: pg.Client): Promise<void> {
    await client.end()
  }
}
