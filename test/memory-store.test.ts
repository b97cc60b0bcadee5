// A store written against core's store interfaces alone, kept in memory: TEST-ONLY, the
// proof that the exported contract suite runs on a store that is not latchkey's own. Every
// method finishes before its first await, so racing calls on one event loop are atomic.
import { storeContract } from '@latchkey/adapters/testing'
import type {
  BulkMigration,
  CounterSpec,
  EmailChange,
  InsertUserResult,
  InsertUsersOutcome,
  LegacyIdentifier,
  LoginRecord,
  MigrationImport,
  MigrationStats,
  NewStoredUser,
  PasswordChange,
  StoredUser,
  StoredUserPatch,
  TicketRecord,
  UserLookup,
  UserStore,
} from '@latchkey/core'

const key = (...parts: string[]) => parts.join('\u0000')
const copy = <T>(value: T): T => structuredClone(value)

class MemoryStore implements UserStore {
  readonly dialect = 'memory'
  private readonly users = new Map<string, StoredUser>()
  private readonly history = new Map<string, { hash: string; at: number }[]>()
  private readonly tickets = new Map<string, TicketRecord>()
  private readonly counters = new Map<string, { value: number; updatedAt: number }>()
  private readonly tombstones = new Map<string, { connection: string; userId: string; email: string | null }>()
  private readonly migrationLog = new Map<string, { connection: string; flow: string; at: number }>()
  private readonly legacyIds = new Map<string, string>()
  private readonly conflicts = new Map<string, { connection: string; legacyId: string; reason: string; at: Date }>()
  private readonly settings = new Map<string, string>()

  async findUser(connection: string, by: UserLookup): Promise<StoredUser | null> {
    const found = this.find(connection, by)
    return found ? copy(found) : null
  }

  async insertUser(user: NewStoredUser, opts: { historyLimit?: number } = {}): Promise<InsertUserResult> {
    const clash = this.clash(user)
    if (clash) return { ok: false, conflict: clash }
    return { ok: true, user: this.add(user, opts.historyLimit ?? 0, user.created_at) }
  }

  async insertUsers(users: NewStoredUser[], migration?: BulkMigration): Promise<InsertUsersOutcome[]> {
    // As latchkey's store decides: a clash within the batch first, then a tombstone, then a stored user.
    const seen = new Set<string>()
    return users.map((user) => {
      const keys: [InsertUsersOutcome, string | null][] = [
        ['user_id', user.user_id],
        ['email', user.email_normalized],
        ['username', user.username],
      ]
      const inBatch = keys.find(([kind, value]) => value !== null && seen.has(key(kind, value)))
      if (inBatch) return inBatch[0]
      for (const [kind, value] of keys) if (value !== null) seen.add(key(kind, value))
      if (migration && this.tombstoned(user.connection, user.user_id, user.email_normalized ?? undefined)) return 'tombstone'
      const clash = this.clash(user)
      if (clash) return clash
      this.add(user, 0, user.created_at)
      if (migration) {
        const ids: LegacyIdentifier[] = [{ kind: 'id', value: user.user_id }]
        if (user.email_normalized !== null) ids.push({ kind: 'email', value: user.email_normalized })
        if (user.username !== null) ids.push({ kind: 'username', value: user.username })
        this.logImport(user, migration.flow, migration.at, ids)
      }
      return 'inserted'
    })
  }

  async overwriteUser(connection: string, userId: string, user: NewStoredUser): Promise<boolean> {
    const stored = this.find(connection, { userId })
    if (!stored || this.takenByAnother(connection, userId, user.email_normalized, user.username)) return false
    const { created_at, logins_count, last_login } = stored
    Object.assign(stored, copy(user), { connection, user_id: userId, created_at, logins_count, last_login })
    stored.last_password_reset = user.last_password_reset ?? null
    this.voidOpen(connection, (t) => t.user_id === userId, user.updated_at)
    return true
  }

  async updateUser(connection: string, userId: string, patch: StoredUserPatch): Promise<StoredUser | null> {
    const stored = this.find(connection, { userId })
    if (!stored) return null
    const { at, ...fields } = patch
    for (const [name, value] of Object.entries(fields)) if (value !== undefined) Object.assign(stored, { [name]: copy(value) })
    stored.updated_at = at
    return copy(stored)
  }

  async deleteUser(connection: string, userId: string): Promise<boolean> {
    for (const [hash, t] of this.tickets) if (t.connection === connection && t.user_id === userId) this.tickets.delete(hash)
    this.history.delete(key(connection, userId))
    return this.users.delete(key(connection, userId))
  }

  async recordLogin(connection: string, userId: string, login: LoginRecord): Promise<void> {
    const stored = this.find(connection, { userId })
    if (!stored) return
    stored.logins_count++
    stored.last_login = login.at
    if (login.rehash && stored.password_hash === login.rehash.from) stored.password_hash = login.rehash.to
    if (login.upgradeLegacy && stored.legacy_hash === login.upgradeLegacy.from) {
      stored.password_hash = login.upgradeLegacy.to
      stored.legacy_hash = null
    }
  }

  async setPassword(connection: string, userId: string, change: PasswordChange): Promise<'ok' | 'no_user' | 'invalid_ticket'> {
    const stored = this.find(connection, { userId })
    if (!stored) return change.ticket ? 'invalid_ticket' : 'no_user'
    if (change.ticket) {
      const t = this.tickets.get(change.ticket.tokenHash)
      const usable = t && t.connection === connection && t.purpose === 'reset' && t.user_id === userId && this.open(t, change.at)
      if (!usable) return 'invalid_ticket'
      t.used_at = change.at
      stored.last_password_reset = change.at
    }
    Object.assign(stored, { password_hash: change.hash, legacy_hash: null, updated_at: change.at })
    if (change.historyLimit > 0) {
      const kept = [...(this.history.get(key(connection, userId)) ?? []), { hash: change.hash, at: change.at.getTime() }]
      this.history.set(key(connection, userId), newestFirst(kept).slice(0, change.historyLimit))
    }
    this.voidOpen(connection, (t) => t.user_id === userId, change.at)
    return 'ok'
  }

  async passwordHistory(connection: string, userId: string, limit: number): Promise<string[]> {
    if (limit <= 0) return []
    return newestFirst(this.history.get(key(connection, userId)) ?? [])
      .slice(0, limit)
      .map((h) => h.hash)
  }

  async changeEmail(connection: string, userId: string, change: EmailChange): Promise<'ok' | 'no_user' | 'conflict'> {
    const stored = this.find(connection, { userId })
    if (!stored) return 'no_user'
    if (this.takenByAnother(connection, userId, change.emailNormalized, null)) return 'conflict'
    Object.assign(stored, { email: change.email, email_normalized: change.emailNormalized, email_verified: change.verified })
    stored.updated_at = change.at
    this.voidOpen(connection, (t) => t.user_id === userId, change.at)
    return 'ok'
  }

  async insertTicket(ticket: TicketRecord): Promise<void> {
    if (this.tickets.has(ticket.token_hash)) throw new Error('memory store: duplicate ticket')
    this.tickets.set(ticket.token_hash, copy(ticket))
  }

  async findTicket(tokenHash: string): Promise<TicketRecord | null> {
    const t = this.tickets.get(tokenHash)
    return t ? copy(t) : null
  }

  async redeemVerificationTicket(tokenHash: string, at: Date): Promise<{ result: 'ok'; user: StoredUser } | { result: 'invalid_ticket' }> {
    const t = this.tickets.get(tokenHash)
    const user = t && t.purpose === 'verify' ? this.find(t.connection, { userId: t.user_id }) : undefined
    if (!t || !user || user.email_normalized !== t.email_normalized || !this.open(t, at)) return { result: 'invalid_ticket' }
    t.used_at = at
    Object.assign(user, { email_verified: true, updated_at: at })
    return { result: 'ok', user: copy(user) }
  }

  async consumeTicket(tokenHash: string, at: Date): Promise<boolean> {
    const t = this.tickets.get(tokenHash)
    if (!t || !this.open(t, at)) return false
    t.used_at = at
    return true
  }

  async releaseTicket(tokenHash: string, at: Date): Promise<void> {
    const t = this.tickets.get(tokenHash)
    if (t?.used_at?.getTime() === at.getTime()) t.used_at = null
  }

  async voidTickets(connection: string, of: { userId: string } | { emailNormalized: string }, at: Date): Promise<void> {
    this.voidOpen(connection, (t) => ('userId' in of ? t.user_id === of.userId : t.email_normalized === of.emailNormalized), at)
  }

  async takeCounterSlot(
    connection: string,
    counter: CounterSpec,
    at: Date,
  ): Promise<{ ok: true; level: number } | { ok: false; retryAfterMs: number }> {
    const now = at.getTime()
    const id = key(connection, counter.kind, counter.key)
    const row = this.counters.get(id)
    const rate = counter.capacity / counter.resetMs
    const level = !row
      ? 0
      : counter.mode === 'window'
        ? row.updatedAt <= now - counter.resetMs
          ? 0
          : row.value
        : Math.max(0, row.value - (now - row.updatedAt) * rate)
    if (!row || level + 1 <= counter.capacity) {
      this.counters.set(id, { value: level + 1, updatedAt: now })
      return { ok: true, level: level + 1 }
    }
    const since = now - row.updatedAt
    const retryAfterMs = counter.mode === 'window' ? counter.resetMs - since : (row.value - since * rate + 1 - counter.capacity) / rate
    return { ok: false, retryAfterMs: Math.max(1, Math.ceil(retryAfterMs)) }
  }

  async takeCounterSlots(
    connection: string,
    counters: readonly CounterSpec[],
    at: Date,
  ): Promise<({ ok: true; level: number } | { ok: false; retryAfterMs: number })[]> {
    return Promise.all(counters.map((counter) => this.takeCounterSlot(connection, counter, at)))
  }

  async settleCounters(connection: string, counters: { kind: string; key: string; reset: boolean }[]): Promise<void> {
    for (const c of counters) {
      const row = this.counters.get(key(connection, c.kind, c.key))
      if (row) row.value = c.reset ? 0 : Math.max(0, row.value - 1)
    }
  }

  async clearCounters(connection: string, kind: string, match: { key: string } | { keyPrefix: string }): Promise<void> {
    const prefix = key(connection, kind, '')
    for (const id of this.counters.keys()) {
      if (!id.startsWith(prefix)) continue
      const counterKey = id.slice(prefix.length)
      if ('key' in match ? counterKey === match.key : counterKey.startsWith(match.keyPrefix)) this.counters.delete(id)
    }
  }

  async importUser(user: NewStoredUser, migration: MigrationImport): Promise<InsertUserResult | { ok: false; conflict: 'tombstone' }> {
    if (this.tombstoned(user.connection, user.user_id, user.email_normalized ?? undefined)) return { ok: false, conflict: 'tombstone' }
    const clash = this.clash(user)
    if (clash) return { ok: false, conflict: clash }
    const stored = this.add(user, migration.historyLimit, migration.at)
    this.logImport(user, migration.flow, migration.at, migration.legacyIdentifiers)
    return { ok: true, user: stored }
  }

  /** The migration-log row of an imported user, and its legacy identifiers (one already kept stays with its first owner). */
  private logImport(user: NewStoredUser, flow: string, at: Date, identifiers: LegacyIdentifier[]): void {
    const logKey = key(user.connection, user.user_id)
    if (!this.migrationLog.has(logKey)) this.migrationLog.set(logKey, { connection: user.connection, flow, at: at.getTime() })
    for (const id of identifiers) {
      const idKey = key(user.connection, id.kind, id.value)
      if (!this.legacyIds.has(idKey)) this.legacyIds.set(idKey, user.user_id)
    }
  }

  async findLegacyIdentifier(connection: string, identifier: LegacyIdentifier): Promise<string | null> {
    return this.legacyIds.get(key(connection, identifier.kind, identifier.value)) ?? null
  }

  async isTombstoned(connection: string, by: { userId?: string; emailNormalized?: string }): Promise<boolean> {
    return this.tombstoned(connection, by.userId, by.emailNormalized)
  }

  async deleteUserWithTombstone(
    connection: string,
    userId: string,
    tombstone: { emailNormalized: string | null; at: Date },
  ): Promise<boolean> {
    this.history.delete(key(connection, userId))
    const deleted = this.users.delete(key(connection, userId))
    // An existing tombstone keeps its email; only its time moves.
    const existing = this.tombstones.get(key(connection, userId))
    this.tombstones.set(key(connection, userId), { connection, userId, email: existing ? existing.email : tombstone.emailNormalized })
    return deleted
  }

  async recordMigrationConflict(connection: string, conflict: { legacyId: string; reason: string; at: Date }): Promise<void> {
    this.conflicts.set(key(connection, conflict.legacyId, conflict.reason), { connection, ...copy(conflict) })
  }

  async migrationStats(connection: string): Promise<MigrationStats> {
    const log = [...this.migrationLog.values()].filter((l) => l.connection === connection)
    const byFlow: Record<string, number> = {}
    const byDay = new Map<number, number>()
    for (const l of log) {
      byFlow[l.flow] = (byFlow[l.flow] ?? 0) + 1
      const day = Math.floor(l.at / 86_400_000)
      byDay.set(day, (byDay.get(day) ?? 0) + 1)
    }
    const conflicts = [...this.conflicts.values()]
      .filter((c) => c.connection === connection)
      .sort((a, b) => b.at.getTime() - a.at.getTime())
      .map(({ legacyId, reason, at }) => ({ legacyId, reason, at }))
    return {
      byFlow,
      byDay: [...byDay]
        .sort(([a], [b]) => a - b)
        .map(([day, count]) => ({ day: new Date(day * 86_400_000).toISOString().slice(0, 10), count })),
      tombstones: [...this.tombstones.values()].filter((t) => t.connection === connection).length,
      conflicts: conflicts.slice(0, 1000),
      conflictCount: conflicts.length,
    }
  }

  async getSetting(connection: string, settingKey: string): Promise<string | null> {
    return this.settings.get(key(connection, settingKey)) ?? null
  }

  async deleteSetting(connection: string, settingKey: string): Promise<void> {
    this.settings.delete(key(connection, settingKey))
  }

  async getOrCreateSetting(connection: string, settingKey: string, create: () => string): Promise<string> {
    const id = key(connection, settingKey)
    if (!this.settings.has(id)) this.settings.set(id, create())
    return this.settings.get(id)!
  }

  async close(): Promise<void> {}

  private find(connection: string, by: UserLookup): StoredUser | undefined {
    if ('userId' in by) return this.users.get(key(connection, by.userId))
    for (const user of this.users.values()) {
      if (user.connection !== connection) continue
      if ('emailNormalized' in by ? user.email_normalized === by.emailNormalized : user.username === by.username) return user
    }
    return undefined
  }

  /** The first of user_id, email, username that a stored user of the connection already has. */
  private clash(user: NewStoredUser): 'user_id' | 'email' | 'username' | null {
    if (this.users.has(key(user.connection, user.user_id))) return 'user_id'
    if (user.email_normalized !== null && this.find(user.connection, { emailNormalized: user.email_normalized })) return 'email'
    if (user.username !== null && this.find(user.connection, { username: user.username })) return 'username'
    return null
  }

  private takenByAnother(connection: string, userId: string, email: string | null, username: string | null): boolean {
    const holders = [
      email !== null && this.find(connection, { emailNormalized: email }),
      username !== null && this.find(connection, { username }),
    ]
    return holders.some((holder) => holder && holder.user_id !== userId)
  }

  private add(user: NewStoredUser, historyLimit: number, historyAt: Date): StoredUser {
    const stored: StoredUser = {
      ...copy(user),
      logins_count: user.logins_count ?? 0,
      last_login: user.last_login ?? null,
      last_password_reset: user.last_password_reset ?? null,
    }
    this.users.set(key(user.connection, user.user_id), stored)
    if (historyLimit > 0 && user.password_hash !== null) {
      this.history.set(key(user.connection, user.user_id), [{ hash: user.password_hash, at: historyAt.getTime() }])
    }
    return copy(stored)
  }

  private open(t: TicketRecord, at: Date): boolean {
    return t.used_at === null && t.expires_at.getTime() > at.getTime()
  }

  private voidOpen(connection: string, matches: (t: TicketRecord) => boolean, at: Date): void {
    for (const t of this.tickets.values()) if (t.connection === connection && t.used_at === null && matches(t)) t.used_at = at
  }

  private tombstoned(connection: string, userId: string | undefined, email: string | undefined): boolean {
    if (userId === undefined && email === undefined) return false
    return [...this.tombstones.values()].some(
      (t) => t.connection === connection && (t.userId === userId || (email !== undefined && t.email === email)),
    )
  }
}

/** Newest first, ties by hash descending: the order of latchkey's own store. */
function newestFirst(entries: { hash: string; at: number }[]): { hash: string; at: number }[] {
  return [...entries].sort((a, b) => b.at - a.at || (a.hash < b.hash ? 1 : a.hash > b.hash ? -1 : 0))
}

storeContract(() => new MemoryStore(), { name: 'store contract on a test-only in-memory store' })
