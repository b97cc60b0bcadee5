import type { AttackCounterStore } from './attack-counter-store.js'
import type { SettingStore } from './setting-store.js'
import type { TicketStore } from './ticket-store.js'
import type { UserRecordStore } from './user-record-store.js'

export type { AttackCounterStore, CounterSpec } from './attack-counter-store.js'
export type { SettingStore } from './setting-store.js'
export type { TicketPurpose, TicketRecord, TicketStore } from './ticket-store.js'
export type {
  UserRecordStore,
  StoredUser,
  NewStoredUser,
  UserLookup,
  InsertUserResult,
  InsertUsersOutcome,
  StoredUserPatch,
  LoginRecord,
  PasswordChange,
  EmailChange,
  LegacyIdentifier,
  MigrationImport,
  BulkMigration,
  MigrationStats,
} from './user-record-store.js'

/**
 * The store interfaces that @latchkey/core owns and @latchkey/adapters implements
 * (the way Kysely's core owns Dialect). Core never imports a database driver.
 *
 * Every method is scoped by `connection`, the connection's name, so several connections
 * share one database without seeing each other's users. Timestamps are `Date`s and
 * round-trip at millisecond precision on every dialect.
 *
 * Implementations translate connection-level failures into `StoreUnavailableError`.
 *
 * A store has four roles, each its own interface: {@link UserRecordStore} (users, password
 * history, migration writes), {@link TicketStore}, {@link AttackCounterStore} and
 * {@link SettingStore}. A connection asks only for the roles it uses; a store on one
 * database implements them all as `UserStore`, which adds what an opened store has.
 */
export interface UserStore extends UserRecordStore, TicketStore, AttackCounterStore, SettingStore {
  /** 'sqlite' | 'postgres' | 'mysql', for diagnostics and benchmarks. */
  readonly dialect: string

  /** Closes what the store opened (never a database handle its host brought). */
  close(): Promise<void>
}
