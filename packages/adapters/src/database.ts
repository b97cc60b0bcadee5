// Row types of latchkey's tables. Timestamps are BIGINT milliseconds since the epoch in
// UTC: exact on every dialect, free of time zones. pg returns BIGINT as a string.
type Millis = number | string | bigint
type Flag = number | boolean

export interface UsersTable {
  connection: string
  user_id: string
  email: string | null
  email_normalized: string | null
  email_verified: Flag
  username: string | null
  password_hash: string | null
  legacy_hash: string | null
  name: string | null
  given_name: string | null
  family_name: string | null
  nickname: string | null
  picture: string | null
  user_metadata: string
  app_metadata: string
  blocked: Flag
  logins_count: number
  created_at: Millis
  updated_at: Millis
  last_login: Millis | null
  last_password_reset: Millis | null
  origin: string
}

export interface PasswordHistoryTable {
  connection: string
  user_id: string
  password_hash: string
  created_at: Millis
}

export interface TicketsTable {
  token_hash: string
  connection: string
  purpose: string
  user_id: string
  email_normalized: string
  legacy_id: string | null
  created_at: Millis
  expires_at: Millis
  used_at: Millis | null
}

/** Attack-protection counters; keyed by an HMAC, with no foreign key to users. */
export interface CountersTable {
  connection: string
  kind: string
  counter_key: string
  value: number
  updated_at: Millis
  blocked_until: Millis | null
}

export interface MigrationLogTable {
  connection: string
  user_id: string
  flow: string
  at: Millis
}

export interface TombstonesTable {
  connection: string
  user_id: string
  email_normalized: string | null
  deleted_at: Millis
}

/** Legacy identifiers (email, username, legacy id) of imported users; never deleted. */
export interface LegacyIdentifiersTable {
  connection: string
  kind: string
  value: string
  user_id: string
  at: Millis
}

/** Legacy users a migration could not import as they were, for an admin to look at. */
export interface MigrationConflictsTable {
  connection: string
  legacy_id: string
  reason: string
  at: Millis
}

export interface SettingsTable {
  connection: string
  setting_key: string
  value: string
}

export interface LatchkeyDatabase {
  latchkey_users: UsersTable
  latchkey_password_history: PasswordHistoryTable
  latchkey_tickets: TicketsTable
  latchkey_counters: CountersTable
  latchkey_migration_log: MigrationLogTable
  latchkey_tombstones: TombstonesTable
  latchkey_settings: SettingsTable
  latchkey_legacy_identifiers: LegacyIdentifiersTable
  latchkey_migration_conflicts: MigrationConflictsTable
}
