import type { EgressPolicy } from '../egress/egress-policy.js'
import type { RunResources } from './run-resources.js'
import { safeSqlConfig, type SafeSqlConfig } from './sql-config.js'
import { temporaryLease, type SqlDriver, type SqlLease, type SqlPoolGroup } from './sql-pool.js'

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

/** One connection a script opened. */
interface Entry<C> {
  config: SafeSqlConfig
  lease: Promise<SqlLease<C>> | null
  /** Driver calls asked for and not yet settled: a connection released mid-query is closed, never reused. */
  busy: number
  /** Set when the driver reported the connection itself failed. */
  broken: boolean
  /** Returns the connection to its pool, or closes it; once, by `end()` or at the run's end. */
  giveBack?: () => Promise<void>
  /** Who waits for `busy` to reach 0: `end()`, which lets queued queries finish first, as mysql's does. */
  drained: (() => void)[]
}

/** Whether a connection can go back to its pool: nothing in flight on it, nothing broken. */
const sound = (entry: Entry<unknown>) => entry.busy === 0 && !entry.broken

/** What the SQL bridges of one run work with. */
export interface SqlRun {
  policy: EgressPolicy
  resources: RunResources
  /** Absolute deadline of the run, ms since the epoch. */
  deadline: number
  /** The run's whole timeout: a pooled connection's statement limit after its reset. */
  timeoutMs: number
  /** The pools of the run's connection (its handle), or null for a run without one. */
  pools: SqlPoolGroup | null
}

/**
 * The SQL connections one run opened, by id. A script's `createConnection` / `new Client`
 * only records a checked config; on first use the run gets a connection to an
 * allow-listed, already-resolved address: from its connection's pool when it has one
 * (reset before it was handed over), else a new one. Every connection is registered with
 * the run's resources, so it is returned (reset) or closed when the run ends, whatever
 * the script did.
 */
export abstract class SqlConnections<C> {
  private readonly connections = new Map<number, Entry<C>>()
  private nextId = 1
  /** Leases this run holds: its second connection to a full pool never waits for its first. */
  private held = 0

  constructor(
    protected readonly run: SqlRun,
    private readonly driverName: string,
    private readonly defaultPort: number,
    private readonly schemes: readonly string[],
  ) {}

  open(config: unknown): number {
    const id = this.nextId++
    this.connections.set(id, {
      config: safeSqlConfig(config, this.defaultPort, this.schemes),
      lease: null,
      busy: 0,
      broken: false,
      drained: [],
    })
    return id
  }

  async connect(id: number): Promise<void> {
    await this.lease(id)
  }

  /** The script ended the connection: it goes back to the pool (reset), or is closed. */
  async end(id: number): Promise<void> {
    const entry = this.connections.get(id)
    this.connections.delete(id)
    if (!entry) return
    // Queries already asked for finish first; a connection that never came up has nothing to give back.
    while (entry.busy > 0) await new Promise<void>((resolve) => entry.drained.push(resolve))
    await entry.lease?.catch(() => null)
    await entry.giveBack?.()
  }

  /** Runs one driver call on the connection, which counts as busy from this call until it settles. */
  protected async using<T>(id: number, work: (conn: C) => Promise<T>): Promise<T> {
    const entry = this.connections.get(id)
    if (!entry) throw new Error('this connection has ended')
    // Counted at once, not once connected: a run that ends right after asking never hands back a busy connection.
    entry.busy += 1
    try {
      return await work((await this.lease(id)).conn)
    } catch (error) {
      if (this.fatal(error)) entry.broken = true
      throw error
    } finally {
      entry.busy -= 1
      if (entry.busy === 0) for (const resolve of entry.drained.splice(0)) resolve()
    }
  }

  abstract query(id: number, text: string, values: unknown): Promise<unknown>

  /** The driver the pools use. */
  protected abstract readonly driver: SqlDriver<C>
  /** Whether an error means the connection itself failed (not just the statement). */
  protected abstract fatal(error: unknown): boolean

  protected remainingMs(): number {
    return Math.max(1, this.run.deadline - Date.now())
  }

  private lease(id: number): Promise<SqlLease<C>> {
    const entry = this.connections.get(id)
    if (!entry) return Promise.reject(new Error('this connection has ended'))
    entry.lease ??= this.run.policy.resolve(entry.config.host, entry.config.port).then(async (address) => {
      const pool = this.run.pools?.pool(this.driverName, this.driver, entry.config, address) ?? null
      // Counted before the wait: a run's connections opened side by side never all wait on each other.
      const first = this.held === 0
      this.held += 1
      let lease: SqlLease<C>
      try {
        lease = pool
          ? await pool.acquire(this.run.deadline, this.run.timeoutMs, first)
          : await temporaryLease(this.driver, entry.config, address, this.remainingMs())
      } catch (error) {
        this.held -= 1
        throw error
      }
      // Past the run's end, `add` releases it at once and refuses.
      let given = false
      entry.giveBack = async () => {
        if (given) return
        given = true
        this.held -= 1
        await lease.release(sound(entry))
      }
      this.run.resources.add({ close: entry.giveBack })
      return lease
    })
    return entry.lease
  }
}
