/**
 * The users role of a store: users, their password history, bulk import, and the writes
 * of a lazy migration (imports, legacy identifiers, tombstones, conflicts, statistics).
 * Scoped by `connection` like every role (see {@link UserStore}).
 */
export interface UserRecordStore {
  findUser(connection: string, by: UserLookup): Promise<StoredUser | null>

  /**
   * Inserts a user; a unique clash is reported, never thrown. With `historyLimit` > 0
   * the password hash also starts the user's password history.
   */
  insertUser(user: NewStoredUser, opts?: { historyLimit?: number }): Promise<InsertUserResult>

  /**
   * Inserts many users in one go (bulk import), insert-only: each result says whether
   * that user was inserted or which unique key it clashed on. A user that clashes on
   * several keys reports the first of user_id, email, username, on every dialect. Of users
   * clashing with each other within the batch, the first is inserted and the later ones
   * are reported as clashes.
   *
   * With `migration` (a bulk import into a migrating connection), in the same transaction
   * as the users: a user whose id or email a tombstone names is refused (`tombstone`), and
   * every inserted user gets its migration-log row and its legacy identifiers (user_id,
   * normalised email, username), so a crash leaves a user with both or neither.
   */
  insertUsers(users: NewStoredUser[], migration?: BulkMigration): Promise<InsertUsersOutcome[]>

  /**
   * Replaces an existing user's profile and credentials (upsert import), voiding every open
   * ticket of the user. False when no such user, or when the new email or username is another's.
   */
  overwriteUser(connection: string, userId: string, user: NewStoredUser): Promise<boolean>

  /** Applies a profile patch. `null` when no such user. */
  updateUser(connection: string, userId: string, patch: StoredUserPatch): Promise<StoredUser | null>

  /** Deletes a user, their password history and their tickets. False when no such user. */
  deleteUser(connection: string, userId: string): Promise<boolean>

  /**
   * Records a successful login. With `rehash`, the hash is replaced only if it still
   * equals `rehash.from` (compare-and-set), so a concurrent password change is never lost.
   */
  recordLogin(connection: string, userId: string, login: LoginRecord): Promise<void>

  /**
   * Sets a new password in one transaction: writes the hash (clearing any legacy hash),
   * appends to the history and trims it, and voids every open ticket of the user.
   * With `ticket`, that reset ticket is consumed first and must be unused, unexpired and
   * the user's; otherwise nothing is written and the result is 'invalid_ticket'.
   */
  setPassword(connection: string, userId: string, change: PasswordChange): Promise<'ok' | 'no_user' | 'invalid_ticket'>

  /** The newest `limit` password hashes, newest first. The current one is included. */
  passwordHistory(connection: string, userId: string, limit: number): Promise<string[]>

  /** Changes the email and its verified flag, and voids every open ticket of the user, in one transaction. */
  changeEmail(connection: string, userId: string, change: EmailChange): Promise<'ok' | 'no_user' | 'conflict'>

  /**
   * Lazy migration: inserts a user imported from a legacy store in one transaction with
   * its password-history row (`historyLimit` > 0), its migration-log row and its legacy
   * identifiers. The primary key guards it: of concurrent imports of one user exactly one
   * inserts, the others get a clash on a key the user holds (`user_id`, or `email` where
   * the database checks that first, as SQLite does). A tombstone on the id or the email refuses it.
   */
  importUser(user: NewStoredUser, migration: MigrationImport): Promise<InsertUserResult | { ok: false; conflict: 'tombstone' }>

  /** The user_id of the imported user that had this legacy identifier, or null. */
  findLegacyIdentifier(connection: string, identifier: LegacyIdentifier): Promise<string | null>

  /** Whether a tombstone names this user id or this normalised email. */
  isTombstoned(connection: string, by: { userId?: string; emailNormalized?: string }): Promise<boolean>

  /** Deletes a user (if present) and writes a tombstone, in one transaction. True when a user was deleted. */
  deleteUserWithTombstone(connection: string, userId: string, tombstone: { emailNormalized: string | null; at: Date }): Promise<boolean>

  /** Records a legacy user a migration could not import as it was. */
  recordMigrationConflict(connection: string, conflict: { legacyId: string; reason: string; at: Date }): Promise<void>

  /** Migration progress, counted in the store so every process agrees. */
  migrationStats(connection: string): Promise<MigrationStats>
}

export interface StoredUser {
  connection: string
  user_id: string
  email: string | null
  email_normalized: string | null
  email_verified: boolean
  username: string | null
  password_hash: string | null
  /** An imported legacy hash, serialised by core; replaced by bcrypt on the first login. */
  legacy_hash: string | null
  name: string | null
  given_name: string | null
  family_name: string | null
  nickname: string | null
  picture: string | null
  user_metadata: Record<string, unknown>
  app_metadata: Record<string, unknown>
  blocked: boolean
  logins_count: number
  created_at: Date
  updated_at: Date
  last_login: Date | null
  last_password_reset: Date | null
  /** How the user arrived: 'signup', 'import', or 'migration:<flow>'. */
  origin: string
}

export type NewStoredUser = Omit<StoredUser, 'logins_count' | 'last_login' | 'last_password_reset'> & {
  logins_count?: number
  last_login?: Date | null
  last_password_reset?: Date | null
}

export type UserLookup = { userId: string } | { emailNormalized: string } | { username: string }

export type InsertUserResult = { ok: true; user: StoredUser } | { ok: false; conflict: 'user_id' | 'email' | 'username' }

export type InsertUsersOutcome = 'inserted' | 'user_id' | 'email' | 'username' | 'tombstone'

export interface StoredUserPatch {
  at: Date
  name?: string | null
  given_name?: string | null
  family_name?: string | null
  nickname?: string | null
  picture?: string | null
  user_metadata?: Record<string, unknown>
  app_metadata?: Record<string, unknown>
  blocked?: boolean
  email_verified?: boolean
}

export interface LoginRecord {
  at: Date
  /** Replace a bcrypt hash of another cost, if it is still `from`. */
  rehash?: { from: string; to: string }
  /** Replace an imported legacy hash by a bcrypt hash, if the legacy hash is still `from`. */
  upgradeLegacy?: { from: string; to: string }
}

export interface PasswordChange {
  hash: string
  at: Date
  /** How many hashes to keep in the history; 0 keeps none. */
  historyLimit: number
  /** When set, this reset ticket is consumed in the same transaction, and `last_password_reset` is set. */
  ticket?: { tokenHash: string }
}

export interface EmailChange {
  email: string
  emailNormalized: string
  verified: boolean
  at: Date
}

/** A legacy identifier of an imported user: its normalised email, lower-cased username, or legacy id. */
export interface LegacyIdentifier {
  kind: 'email' | 'username' | 'id'
  value: string
}

/** How a lazily migrated user arrived. */
export interface MigrationImport {
  /** 'login', 'reset', 'change_password' or 'bulk'. */
  flow: string
  at: Date
  historyLimit: number
  legacyIdentifiers: LegacyIdentifier[]
}

/** A bulk import into a migrating connection, as {@link UserRecordStore.insertUsers} records it. */
export interface BulkMigration {
  /** The migration-log flow: 'bulk'. */
  flow: string
  at: Date
}

export interface MigrationStats {
  byFlow: Record<string, number>
  /** Imports per UTC day, oldest first; `day` is YYYY-MM-DD. */
  byDay: { day: string; count: number }[]
  tombstones: number
  /** The first 1,000 conflicts, newest first. */
  conflicts: { legacyId: string; reason: string; at: Date }[]
  conflictCount: number
}
