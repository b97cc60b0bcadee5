import { createHash } from 'node:crypto'
import type { SafeSqlConfig } from './sql-config.js'

/** A pooled connection idle this long is closed: a connection that stops logging users in lets its server go. */
export const SQL_IDLE_MS = 30_000
/**
 * A reused connection keeps its server-side statement limit unless that limit would end a
 * query more than this long after the run's deadline; then it is set again (one round trip).
 */
const LIMIT_SLACK_MS = 250

/** What a pool needs of a driver (mysql2 or pg). */
export interface SqlDriver<C> {
  /** Connects to the checked address with only the safe settings, its statement limit at `limitMs`. */
  connect(config: SafeSqlConfig, address: string, limitMs: number): Promise<C>
  /** Sets the session's server-side statement limit. */
  limit(conn: C, limitMs: number): Promise<void>
  /**
   * Clears every piece of session state a run may have left (an open transaction, user and
   * session variables, temporary tables, prepared statements, locks) and leaves the
   * statement limit at `limitMs` or at the connection's own default. Resolves with the
   * limit now in force, or null when the connection must not be reused.
   */
  reset(conn: C, config: SafeSqlConfig, limitMs: number): Promise<number | null>
  /** Whether the driver still considers the connection open and sound. */
  usable(conn: C): boolean
  /** Closes the connection, politely but within a bound. */
  close(conn: C): Promise<void>
}

/** One run's use of one connection. Released once: back to its pool, or closed. */
export interface SqlLease<C> {
  readonly conn: C
  /**
   * `reusable: false` (a query still in flight, a failure of the connection itself) closes
   * it; otherwise it is reset and goes back to its pool.
   */
  release(reusable: boolean): Promise<void>
}

interface Pooled<C> {
  conn: C
  /** The session's statement limit in ms, as last set. */
  limitMs: number
  idle: NodeJS.Timeout | null
  /** When it last went idle: the group closes the least recently used idle connection first. */
  since: number
}

interface Waiter<C> {
  /** Gets a connection handed over, or null: a place came free, open a new one. */
  give: (pooled: Pooled<C> | null) => void
  fail: (error: Error) => void
  timer: NodeJS.Timeout
}

/**
 * The connections of one script connection (one handle) to one server with one set of
 * settings, in one worker: at most `max` open at once, and no more than its group has
 * room for, reused across runs, each reset before another run gets it. A run's first
 * connection waits for a place when all of this pool's are taken; a run that already holds
 * one, or finds the group full with connections of other settings in use, gets a connection
 * of its own instead (closed at its end), so runs can never deadlock on the pool.
 */
export class SqlPool<C> {
  private readonly idle: Pooled<C>[] = []
  private readonly waiters: Waiter<C>[] = []
  private open = 0
  /** Connections being reset after a run let them go: a run waits for one rather than open another. */
  private returning = 0
  private closed = false

  constructor(
    private readonly driver: SqlDriver<C>,
    private readonly config: SafeSqlConfig,
    private readonly address: string,
    private readonly max: number,
    /** Called when the pool holds no connection and nobody waits: its group may drop it. */
    private readonly onEmpty: () => void,
    /** Whether the group has room for one more connection (it may close an idle one of other settings to make it). */
    private readonly room: () => boolean = () => true,
  ) {}

  /** When this pool's least recently used idle connection went idle, or undefined when none is idle. */
  get oldestIdle(): number | undefined {
    return this.idle[0]?.since
  }

  /** Closes the least recently used idle connection, to make room for one of other settings. */
  evictOldest(): void {
    const pooled = this.idle.shift()
    if (pooled) void this.discard(pooled)
  }

  /** Connections open now, idle or in use, for tests and diagnostics. */
  get size(): number {
    return this.open
  }

  async acquire(deadline: number, timeoutMs: number, mayWait: boolean): Promise<SqlLease<C>> {
    if (this.closed) return this.temporary(deadline)
    let pooled = this.idle.pop() ?? null
    // One its server closed while it was idle is of no use.
    while (pooled && !this.driver.usable(pooled.conn)) {
      if (pooled.idle) clearTimeout(pooled.idle)
      // Closed quietly (no waiter woken, the pool not dropped): this run goes on to take another.
      void this.driver.close(pooled.conn).catch(() => undefined)
      this.open -= 1
      pooled = this.idle.pop() ?? null
    }
    if (pooled) {
      if (pooled.idle) clearTimeout(pooled.idle)
      pooled.idle = null
    } else if (this.returning > this.waiters.length) {
      // One is on its way back (a reset is a round trip or two; connecting costs several).
      pooled = (await this.wait(deadline)) ?? (await this.connect(deadline))
    } else if (this.open < this.max && this.room()) {
      this.open += 1
      pooled = await this.connect(deadline)
    } else if (!mayWait || this.open === 0) {
      // Nothing of this pool's to wait for (the group is full with other settings' connections in use), or a second connection.
      return this.temporary(deadline)
    } else {
      // A place that comes free is handed over with the count unchanged: nobody else can take it meanwhile.
      pooled = (await this.wait(deadline)) ?? (await this.connect(deadline))
    }
    const remaining = Math.max(1, deadline - Date.now())
    if (pooled.limitMs > remaining + LIMIT_SLACK_MS) {
      try {
        await this.driver.limit(pooled.conn, remaining)
        pooled.limitMs = remaining
      } catch (error) {
        void this.discard(pooled)
        throw error
      }
    }
    return this.lease(pooled, timeoutMs)
  }

  /** Closes the idle connections, and every other one as its run lets it go. */
  async close(): Promise<void> {
    this.closed = true
    for (const waiter of this.waiters.splice(0)) {
      clearTimeout(waiter.timer)
      waiter.fail(new Error('the connection was closed'))
    }
    await Promise.allSettled(this.idle.splice(0).map((pooled) => this.discard(pooled)))
  }

  /** A connection outside the pool; a pool left with nothing lets its group drop it. */
  private temporary(deadline: number): Promise<SqlLease<C>> {
    if (this.open === 0 && this.waiters.length === 0) this.onEmpty()
    return temporaryLease(this.driver, this.config, this.address, Math.max(1, deadline - Date.now()))
  }

  /** Opens a connection in a place already counted in `open`. */
  private async connect(deadline: number): Promise<Pooled<C>> {
    const limitMs = Math.max(1, deadline - Date.now())
    try {
      return { conn: await this.driver.connect(this.config, this.address, limitMs), limitMs, idle: null, since: 0 }
    } catch (error) {
      this.freePlace()
      throw error
    }
  }

  /** A place in the pool came free: it passes to a waiting run, or the count goes down. */
  private freePlace(): void {
    if (!this.closed && this.wakeOne(null)) return
    this.open -= 1
    if (this.open === 0 && this.waiters.length === 0) this.onEmpty()
  }

  private wait(deadline: number): Promise<Pooled<C> | null> {
    return new Promise((resolve, reject) => {
      const waiter: Waiter<C> = {
        give: resolve,
        fail: reject,
        timer: setTimeout(
          () => {
            const index = this.waiters.indexOf(waiter)
            if (index !== -1) this.waiters.splice(index, 1)
            reject(new Error('no pooled connection came free before the deadline'))
          },
          Math.max(0, deadline - Date.now()),
        ),
      }
      this.waiters.push(waiter)
    })
  }

  /** Hands a connection (or, with null, a free place) to the first waiting run, if any. */
  private wakeOne(pooled: Pooled<C> | null): boolean {
    const waiter = this.waiters.shift()
    if (!waiter) return false
    clearTimeout(waiter.timer)
    waiter.give(pooled)
    return true
  }

  private lease(pooled: Pooled<C>, timeoutMs: number): SqlLease<C> {
    let released = false
    return {
      conn: pooled.conn,
      release: async (sound) => {
        if (released) return
        released = true
        const reusable = sound && !this.closed && this.driver.usable(pooled.conn)
        let limitMs: number | null = null
        if (reusable) {
          this.returning += 1
          limitMs = await this.driver.reset(pooled.conn, this.config, timeoutMs).catch(() => null)
          this.returning -= 1
        }
        if (limitMs === null || this.closed) {
          await this.discard(pooled)
          return
        }
        pooled.limitMs = limitMs
        if (this.wakeOne(pooled)) return
        pooled.idle = setTimeout(() => {
          const index = this.idle.indexOf(pooled)
          if (index === -1) return
          this.idle.splice(index, 1)
          void this.discard(pooled)
        }, SQL_IDLE_MS)
        pooled.idle.unref()
        pooled.since = Date.now()
        this.idle.push(pooled)
      },
    }
  }

  /** Closes a pooled connection for good; its place goes to a waiting run. */
  private async discard(pooled: Pooled<C>): Promise<void> {
    if (pooled.idle) clearTimeout(pooled.idle)
    this.freePlace()
    await this.driver.close(pooled.conn).catch(() => undefined)
  }
}

/** A connection outside any pool, closed when its run lets it go. */
export async function temporaryLease<C>(
  driver: SqlDriver<C>,
  config: SafeSqlConfig,
  address: string,
  limitMs: number,
): Promise<SqlLease<C>> {
  const conn = await driver.connect(config, address, limitMs)
  let released = false
  return {
    conn,
    release: async () => {
      if (released) return
      released = true
      await driver.close(conn).catch(() => undefined)
    },
  }
}

/**
 * The SQL pools of one script connection in one worker, under its unguessable handle.
 * A run takes its connection's group when it begins and keeps it to the end: once the
 * connection is forgotten, the group is closed, and a run still in flight gets only
 * connections of its own, closed at its end, never a new pool.
 *
 * `max` bounds the group's connections across all its settings, not only each pool's:
 * settings are the script's to vary (a password the server does not check, say), so per
 * settings alone one run could leave any number of idle connections behind. A pool that
 * needs a place in a full group takes it from the least recently used idle connection.
 */
export class SqlPoolGroup {
  private readonly pools = new Map<string, SqlPool<unknown>>()
  runs = 0
  closed = false

  constructor(
    private readonly max: number,
    /** Called when the group holds no pool: the registry may drop it once no run uses it. */
    private readonly onEmpty: () => void,
  ) {}

  /** The pool for these settings at this address, or null when pooling is off or the group is closed. */
  pool<C>(driver: string, sqlDriver: SqlDriver<C>, config: SafeSqlConfig, address: string): SqlPool<C> | null {
    if (this.closed || this.max === 0) return null
    // The settings include the password: the key is a digest, so no map key holds it.
    const key = createHash('sha256')
      .update(JSON.stringify([driver, config.host, config.port, config.user, config.password, config.database, config.ssl, address]))
      .digest('base64')
    let pool = this.pools.get(key) as SqlPool<C> | undefined
    if (!pool) {
      const created: SqlPool<C> = new SqlPool(
        sqlDriver,
        config,
        address,
        this.max,
        () => {
          if (this.pools.get(key) !== created) return
          this.pools.delete(key)
          if (this.pools.size === 0) this.onEmpty()
        },
        () => this.room(),
      )
      this.pools.set(key, created as SqlPool<unknown>)
      pool = created
    }
    return pool
  }

  /** Whether one more connection fits, after closing the group's least recently used idle one if it must. */
  private room(): boolean {
    if (this.size < this.max) return true
    let oldest: SqlPool<unknown> | null = null
    for (const pool of this.pools.values()) {
      const since = pool.oldestIdle
      if (since !== undefined && (oldest === null || since < oldest.oldestIdle!)) oldest = pool
    }
    // Its place is free at once (the close itself goes on in the background).
    oldest?.evictOldest()
    return oldest !== null
  }

  get empty(): boolean {
    return this.pools.size === 0
  }

  /** Connections open in this group, for tests and diagnostics. */
  get size(): number {
    let n = 0
    for (const pool of this.pools.values()) n += pool.size
    return n
  }

  async close(): Promise<void> {
    this.closed = true
    const pools = [...this.pools.values()]
    this.pools.clear()
    await Promise.allSettled(pools.map((pool) => pool.close()))
  }
}

/** Every group in one worker, by handle. */
export class SqlPools {
  private readonly groups = new Map<string, SqlPoolGroup>()

  constructor(private readonly max: number) {}

  /** The group a run of `handle` uses for its whole life; call {@link leave} when it ends. */
  enter(handle: string): SqlPoolGroup {
    let group = this.groups.get(handle)
    if (!group) {
      const created = new SqlPoolGroup(this.max, () => this.drop(handle, created))
      this.groups.set(handle, created)
      group = created
    }
    group.runs += 1
    return group
  }

  leave(handle: string, group: SqlPoolGroup): void {
    group.runs -= 1
    this.drop(handle, group)
  }

  /** Groups in this worker, for tests and diagnostics. */
  get size(): number {
    return this.groups.size
  }

  /** A group with no run and no connection is not kept: connections come and go without a word. */
  private drop(handle: string, group: SqlPoolGroup): void {
    if (group.runs === 0 && group.empty && this.groups.get(handle) === group) this.groups.delete(handle)
  }

  /** Closes the pools of one connection: its idle connections now, the rest as their runs end. */
  async forget(handle: string): Promise<void> {
    const group = this.groups.get(handle)
    this.groups.delete(handle)
    await group?.close()
  }

  async closeAll(): Promise<void> {
    const groups = [...this.groups.values()]
    this.groups.clear()
    await Promise.allSettled(groups.map((group) => group.close()))
  }
}
