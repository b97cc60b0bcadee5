import type { EgressPolicy } from '../egress/egress-policy.js'
import type { RunResources } from './run-resources.js'
import { safeSqlConfig, type SafeSqlConfig } from './sql-config.js'

/** Rows a query may return to a script. */
export const MAX_ROWS = 10_000
/** Bytes of JSON a query may return to a script: rows are capped by size, not only by count. */
export const MAX_RESULT_BYTES = 8 * 1024 * 1024

/** Refuses a result over the row or byte cap before it is sent towards the guest. */
export function cappedRows<R>(rows: R[]): R[] {
  if (rows.length > MAX_ROWS) throw new Error(`the query returned more than ${MAX_ROWS} rows`)
  let bytes = 0
  for (const row of rows) {
    bytes += Buffer.byteLength(JSON.stringify(row) ?? '') + 1
    if (bytes > MAX_RESULT_BYTES) throw new Error(`the query returned more than ${MAX_RESULT_BYTES} bytes`)
  }
  return rows
}

/**
 * The SQL connections one run opened, by id. A script's `createConnection` / `new Client`
 * only records a checked config; the driver connects on first use, to an allow-listed,
 * already-resolved address. Every connection is also registered with the run's
 * resources, so it is closed when the run ends whatever the script did.
 */
export abstract class SqlConnections<C> {
  private readonly connections = new Map<number, { config: SafeSqlConfig; conn: Promise<C> | null }>()
  private nextId = 1

  constructor(
    protected readonly policy: EgressPolicy,
    protected readonly resources: RunResources,
    protected readonly deadline: number,
    private readonly defaultPort: number,
    private readonly schemes: readonly string[],
  ) {}

  open(config: unknown): number {
    const id = this.nextId++
    this.connections.set(id, { config: safeSqlConfig(config, this.defaultPort, this.schemes), conn: null })
    return id
  }

  async connect(id: number): Promise<void> {
    await this.connection(id)
  }

  async end(id: number): Promise<void> {
    const entry = this.connections.get(id)
    this.connections.delete(id)
    // A connection that never came up, or whose server already hung up, has nothing to close.
    const conn = await entry?.conn?.catch(() => null)
    if (conn) await this.close(conn).catch(() => undefined)
  }

  abstract query(id: number, text: string, values: unknown): Promise<unknown>

  /** Connects the driver to `address` (the checked one) with only the safe settings. */
  protected abstract create(config: SafeSqlConfig, address: string): Promise<C>
  protected abstract close(conn: C): Promise<void>

  protected remainingMs(): number {
    return Math.max(1, this.deadline - Date.now())
  }

  protected connection(id: number): Promise<C> {
    const entry = this.connections.get(id)
    if (!entry) return Promise.reject(new Error('this connection has ended'))
    entry.conn ??= this.policy.resolve(entry.config.host, entry.config.port).then((address) => this.create(entry.config, address))
    return entry.conn
  }
}
