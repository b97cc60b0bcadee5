import type { Compilable, Kysely, RawBuilder, Transaction } from 'kysely'
import type { LatchkeyDatabase, UsersTable } from '../database.js'
import type { DirectExecutor, PreparedQueries } from '../prepared-queries.js'
import type { DialectName } from './dialect-name.js'
import type { PoolOptions } from './pool-options.js'
import type { SqliteOptions } from './sqlite/sqlite-pool.js'

/** Which unique key of latchkey_users a write clashed on ('primary' also stands for any other table's key). */
export type UniqueClash = 'email' | 'username' | 'primary'

/** What a dialect's `open` is given: the pool options, and SQLite's own. */
export type DialectOpenOptions = PoolOptions & { sqlite?: SqliteOptions | undefined }

/** A table and the columns of its primary key, for {@link StoreDialect.upsert}. */
type Keyed<T extends keyof LatchkeyDatabase> = readonly (keyof LatchkeyDatabase[T] & string)[]

/**
 * One attack-protection counter slot to take, as the shared store code builds it. Its
 * `values`, by slot: 0 connection, 1 kind, 2 key, 3 the first level (1), 4 now,
 * 5 the window's start, 6 capacity, 7 resetMs. `level(slot)` is the counter's level now.
 */
export interface CounterSlotQuery {
  mode: 'window' | 'leak'
  level: (slot: (i: number) => string) => RawBuilder<number>
  values: unknown[]
}

/**
 * Several counters' slots to take in one statement, one row each, in lock order. Its `values`, by slot: 0 connection,
 * 1 now, 2 the first level (1); then for row i, from `3 + 5i`: kind, key, capacity, resetMs, the window's start.
 * `level(slot, i)` is row i's level now; `key` names the statement's shape (the rows' modes).
 */
export interface CounterSlotsQuery {
  key: string
  rows: number
  level: (slot: (i: number) => string, row: number) => RawBuilder<number>
  values: unknown[]
}

/** The fields of one row of a {@link CounterSlotsQuery}, in slot order. */
const COUNTER_ROW_FIELDS = ['kind', 'key', 'capacity', 'resetMs', 'windowStart'] as const

/** The slot that holds `field` of row `row` of a {@link CounterSlotsQuery}: the one layout its builder and its reader share. */
export function counterRowSlot(row: number, field: (typeof COUNTER_ROW_FIELDS)[number]): number {
  return 3 + COUNTER_ROW_FIELDS.length * row + COUNTER_ROW_FIELDS.indexOf(field)
}

/** The identifiers a tombstone names: an import of any of them and a tombstone for it must not both commit. */
export interface TombstoneKeys {
  userIds: readonly string[]
  emails: readonly string[]
}

/**
 * Everything that differs between the databases latchkey's store runs on, in the manner
 * of Kysely's `DialectAdapter`: each dialect folder implements it once, and the shared
 * store code (KyselyUserStore, openStore) asks it instead of branching on a name.
 */
export interface StoreDialect {
  readonly name: DialectName
  /** Whether a store URL names a database of this dialect. */
  matchesUrl(url: string): boolean
  /** Opens the database a URL names: Kysely, and a driver-level executor of prepared statements where there is one. */
  open(url: string, opts: DialectOpenOptions): { db: Kysely<LatchkeyDatabase>; direct?: DirectExecutor }
  /** Whether the driver's message of a failed open may be repeated: only where a URL holds no password (a file path). */
  readonly openMessageIsSafe: boolean

  /** Which unique constraint a failed insert or update hit, or null if it was no unique clash. */
  uniqueViolation(error: unknown): UniqueClash | null
  /** Whether the database rolled a transaction back to break a deadlock: nothing was written, running it again is safe. */
  isDeadlock(error: unknown): boolean

  /**
   * An INSERT that, when the row's key exists, updates `set` instead, or with `set`
   * `'keep'` leaves the stored row as it is (and never fails on the clash).
   */
  upsert<T extends keyof LatchkeyDatabase>(
    db: Kysely<LatchkeyDatabase>,
    table: T,
    row: LatchkeyDatabase[T] | readonly LatchkeyDatabase[T][],
    key: Keyed<T>,
    set: Partial<LatchkeyDatabase[T]> | 'keep',
  ): Compilable & { execute(): Promise<unknown> }
  /** Whole days since the epoch of a BIGINT millisecond column, as an integer. */
  epochDay(column: string): RawBuilder<number>
  /**
   * Takes one counter slot if the level allows, atomically (no read-then-write), and
   * returns the level after it, or null when refused.
   */
  takeCounterSlot(db: Kysely<LatchkeyDatabase>, prepared: PreparedQueries, query: CounterSlotQuery): Promise<number | null>
  /**
   * Takes a slot in each of several counters (of distinct kinds) in ONE statement that locks their rows in the order
   * given, each re-checked against its own level; the levels after, by kind (a kind missing was refused). Absent (no
   * RETURNING): the shared code takes them one by one, concurrently.
   */
  takeCounterSlots?(db: Kysely<LatchkeyDatabase>, prepared: PreparedQueries, query: CounterSlotsQuery): Promise<Map<string, number>>
  /**
   * Where a failed statement aborts its whole transaction (PostgreSQL), bulk insert skips
   * clashing rows in one statement and reports the user_ids it inserted. Absent: the
   * shared code inserts in batches (multi-row INSERTs with `?` placeholders) and retries a
   * clashing batch row by row, which needs a transaction that outlives a failed statement.
   */
  insertSkippingClashes?(db: Kysely<LatchkeyDatabase>, rows: UsersTable[]): Promise<string[]>
  /**
   * Takes, inside `trx` and before anything else in it, the per-user locks that keep an import of a user (by user_id
   * or email) and a tombstone for that user from both committing: side 'import' before the import reads tombstones,
   * side 'tombstone' before the delete writes its tombstone (which the shared code writes first of all). Absent
   * (SQLite): the database has one writer at a time, and a reader that writes later fails on a stale snapshot.
   */
  lockTombstoneKeys?(
    trx: Transaction<LatchkeyDatabase>,
    connection: string,
    keys: TombstoneKeys,
    side: 'import' | 'tombstone',
  ): Promise<void>
}
