import { CompiledQuery, sql, type Kysely, type Selectable, type Transaction } from 'kysely'
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
  TicketPurpose,
  TicketRecord,
  UserLookup,
  UserStore,
} from '@latchkey/core'
import type { LatchkeyDatabase, TicketsTable, UsersTable } from './database.js'
import type { DialectName } from './dialects/dialect-name.js'
import { counterRowSlot, type StoreDialect } from './dialects/store-dialect.js'
import { storeDialects } from './dialects/store-dialects.js'
import { translateStoreError } from './dialects/store-errors.js'
import { PreparedQueries, type DirectExecutor } from './prepared-queries.js'

/** Thrown inside a transaction to roll it back and report an outcome instead of an error. */
class Rollback<T> {
  constructor(readonly outcome: T) {}
}

/**
 * {@link UserStore} on Kysely. One implementation serves SQLite, PostgreSQL and
 * MySQL/MariaDB; the SQL is portable and every concurrency guarantee rests on a unique
 * constraint or a conditional UPDATE, never on a read-then-write in the application.
 * What differs between the databases is asked of the dialect (`dialects/<name>/`).
 */
export class KyselyUserStore implements UserStore {
  private readonly prepared: PreparedQueries
  private readonly storeDialect: StoreDialect

  constructor(
    readonly db: Kysely<LatchkeyDatabase>,
    readonly dialect: DialectName,
    private readonly onClose: () => Promise<void>,
    direct?: DirectExecutor,
  ) {
    this.prepared = new PreparedQueries(db, direct)
    this.storeDialect = storeDialects[dialect]
  }

  findUser(connection: string, by: UserLookup): Promise<StoredUser | null> {
    return this.guard(() => this.lookup(connection, by))
  }

  /** The one user lookup: a prebuilt statement per lookup kind, inside `via`'s transaction if given. */
  private async lookup(connection: string, by: UserLookup, via?: Transaction<LatchkeyDatabase>): Promise<StoredUser | null> {
    const [kind, value] =
      'userId' in by
        ? (['user_id', by.userId] as const)
        : 'emailNormalized' in by
          ? (['email_normalized', by.emailNormalized] as const)
          : (['username', by.username] as const)
    const { rows } = await this.prepared.execute<Selectable<UsersTable>>(
      `find-by-${kind}`,
      (slot) => this.db.selectFrom('latchkey_users').selectAll().where('connection', '=', slot(0)).where(kind, '=', slot(1)),
      [connection, value],
      via,
    )
    return rows[0] ? fromUserRow(rows[0]) : null
  }

  insertUser(user: NewStoredUser, opts: { historyLimit?: number } = {}): Promise<InsertUserResult> {
    return this.guard(async () => {
      try {
        await this.db.transaction().execute(async (trx) => {
          await trx.insertInto('latchkey_users').values(toRow(user)).execute()
          if ((opts.historyLimit ?? 0) > 0 && user.password_hash !== null) {
            await trx
              .insertInto('latchkey_password_history')
              .values({
                connection: user.connection,
                user_id: user.user_id,
                password_hash: user.password_hash,
                created_at: user.created_at.getTime(),
              })
              .execute()
          }
        })
      } catch (error) {
        const clash = this.storeDialect.uniqueViolation(error)
        if (clash) return { ok: false, conflict: clash === 'primary' ? 'user_id' : clash }
        throw error
      }
      const stored = await this.lookup(user.connection, { userId: user.user_id })
      if (!stored) throw new Error('latchkey: inserted user vanished before it could be read back')
      return { ok: true, user: stored }
    })
  }

  updateUser(connection: string, userId: string, patch: StoredUserPatch): Promise<StoredUser | null> {
    return this.guard(async () => {
      const { at, user_metadata, app_metadata, blocked, email_verified, ...text } = patch
      const result = await this.db
        .updateTable('latchkey_users')
        .set({
          ...text,
          ...(user_metadata !== undefined ? { user_metadata: JSON.stringify(user_metadata) } : {}),
          ...(app_metadata !== undefined ? { app_metadata: JSON.stringify(app_metadata) } : {}),
          ...(blocked !== undefined ? { blocked: blocked ? 1 : 0 } : {}),
          ...(email_verified !== undefined ? { email_verified: email_verified ? 1 : 0 } : {}),
          updated_at: at.getTime(),
        })
        .where('connection', '=', connection)
        .where('user_id', '=', userId)
        .executeTakeFirst()
      return result.numUpdatedRows > 0n ? this.lookup(connection, { userId }) : null
    })
  }

  deleteUser(connection: string, userId: string): Promise<boolean> {
    return this.guard(() =>
      this.transact(async (trx) => {
        // The user's row first (the lock order of every write), then what hangs off it.
        const result = await trx
          .deleteFrom('latchkey_users')
          .where('connection', '=', connection)
          .where('user_id', '=', userId)
          .executeTakeFirst()
        await trx.deleteFrom('latchkey_password_history').where('connection', '=', connection).where('user_id', '=', userId).execute()
        // Tickets die with their user: a user re-imported later under the same id and email must not revive them.
        await trx.deleteFrom('latchkey_tickets').where('connection', '=', connection).where('user_id', '=', userId).execute()
        return result.numDeletedRows > 0n
      }),
    )
  }

  recordLogin(connection: string, userId: string, login: LoginRecord): Promise<void> {
    return this.guard(async () => {
      const { rehash, upgradeLegacy } = login
      const key = rehash ? 'record-login-rehash' : upgradeLegacy ? 'record-login-upgrade' : 'record-login'
      await this.prepared.execute(
        key,
        (slot) =>
          this.db
            .updateTable('latchkey_users')
            .set((eb) => ({
              logins_count: eb('logins_count', '+', 1),
              last_login: slot(0),
              // Compare-and-set: a password changed since this login read the row is kept.
              ...(rehash
                ? { password_hash: sql<string>`case when password_hash = ${slot(1)} then ${slot(2)} else password_hash end` }
                : {}),
              // password_hash is assigned before legacy_hash, so both compare the old legacy_hash.
              ...(upgradeLegacy
                ? {
                    password_hash: sql<string>`case when legacy_hash = ${slot(1)} then ${slot(2)} else password_hash end`,
                    legacy_hash: sql<string>`case when legacy_hash = ${slot(1)} then null else legacy_hash end`,
                  }
                : {}),
            }))
            .where('connection', '=', slot(3))
            .where('user_id', '=', slot(4)),
        [login.at.getTime(), (rehash ?? upgradeLegacy)?.from, (rehash ?? upgradeLegacy)?.to, connection, userId],
      )
    })
  }

  insertUsers(users: NewStoredUser[], migration?: BulkMigration): Promise<InsertUsersOutcome[]> {
    return this.guard(async () => {
      if (users.length === 0) return []
      // Records of one batch that clash with an earlier one are decided here, the same way on
      // every dialect (user_id, then email, then username); only the rest reach the database.
      const outcomes = clashesWithinBatch(users)
      const fresh = users.filter((_, i) => outcomes[i] === null)
      const written = fresh.length === 0 ? [] : await this.insertFresh(fresh, migration)
      return outcomes.map((outcome) => outcome ?? written.shift()!)
    })
  }

  /**
   * Inserts users that do not clash with each other; each clash with a stored user is then
   * classified by one lookup, in the order user_id, email, username, so every dialect
   * reports the same key whichever constraint its database happened to check first.
   */
  private async insertFresh(users: NewStoredUser[], migration: BulkMigration | undefined): Promise<InsertUsersOutcome[]> {
    const connection = users[0]!.connection
    const skipping = this.storeDialect.insertSkippingClashes?.bind(this.storeDialect)
    const { done, tombstoned } =
      migration === undefined && skipping
        ? { done: new Set(await skipping(this.db, users.map(toRow))), tombstoned: new Set<string>() }
        : // Racing batches can deadlock on InnoDB's unique-index locks; a batch is safe to redo whole.
          await this.transact<{ done: Set<string>; tombstoned: Set<string> }, never>(async (trx) => {
            // A bulk import into a migrating connection: tombstones refuse, and the log and the
            // legacy identifiers go in with the users, so a crash leaves both or neither.
            if (migration) await this.lockForImport(trx, connection, users)
            const tombstoned = migration ? await this.tombstonedAmong(trx, users) : new Set<string>()
            const open = users.filter((u) => !tombstoned.has(u.user_id))
            const done = skipping
              ? new Set(open.length === 0 ? [] : await skipping(trx, open.map(toRow)))
              : await this.insertBatched(trx, open)
            if (migration)
              await this.logBulkImports(
                trx,
                open.filter((u) => done.has(u.user_id)),
                migration,
              )
            return { done, tombstoned }
          }, 5)
    const losers = users.filter((u) => !done.has(u.user_id) && !tombstoned.has(u.user_id))
    const existing = await this.storedClashes(this.db, connection, losers)
    const ids = new Set(existing.map((r) => r.user_id))
    const emails = new Set(existing.map((r) => r.email_normalized))
    return users.map((u) => {
      if (done.has(u.user_id)) return 'inserted'
      if (tombstoned.has(u.user_id)) return 'tombstone'
      if (ids.has(u.user_id)) return 'user_id'
      if (u.email_normalized !== null && emails.has(u.email_normalized)) return 'email'
      return 'username'
    })
  }

  /**
   * Stored users of `connection` that hold a user_id, email or username of `users`: one
   * lookup per unique index, since an OR across the three columns scans the connection.
   */
  private async storedClashes(via: Kysely<LatchkeyDatabase>, connection: string, users: NewStoredUser[]) {
    const lookups = (
      [
        ['user_id', users.map((u) => u.user_id)],
        ['email_normalized', users.flatMap((u) => (u.email_normalized ? [u.email_normalized] : []))],
        ['username', users.flatMap((u) => (u.username ? [u.username] : []))],
      ] as const
    ).filter(([, values]) => values.length > 0)
    const found = await Promise.all(
      lookups.map(([column, values]) =>
        via
          .selectFrom('latchkey_users')
          .select(['user_id', 'email_normalized', 'username'])
          .where('connection', '=', connection)
          .where(column, 'in', values)
          .execute(),
      ),
    )
    return found.flat()
  }

  /** The dialect's locks that keep an import of `users` and a tombstone for one of them from both committing. */
  private async lockForImport(trx: Transaction<LatchkeyDatabase>, connection: string, users: NewStoredUser[]): Promise<void> {
    const emails = users.flatMap((u) => (u.email_normalized ? [u.email_normalized] : []))
    await this.storeDialect.lockTombstoneKeys?.(trx, connection, { userIds: users.map((u) => u.user_id), emails }, 'import')
  }

  /** The ids of `users` that a tombstone names, by user_id or by email: one lookup per index. */
  private async tombstonedAmong(trx: Transaction<LatchkeyDatabase>, users: NewStoredUser[]): Promise<Set<string>> {
    const connection = users[0]!.connection
    const emails = users.flatMap((u) => (u.email_normalized ? [u.email_normalized] : []))
    const tombstones = () => trx.selectFrom('latchkey_tombstones').where('connection', '=', connection)
    const [byId, byEmail] = await Promise.all([
      tombstones()
        .select('user_id')
        .where(
          'user_id',
          'in',
          users.map((u) => u.user_id),
        )
        .execute(),
      emails.length === 0 ? [] : tombstones().select('email_normalized').where('email_normalized', 'in', emails).execute(),
    ])
    const ids = new Set(byId.map((r) => r.user_id))
    const deadEmails = new Set(byEmail.map((r) => r.email_normalized))
    const refused = users.filter((u) => ids.has(u.user_id) || (u.email_normalized !== null && deadEmails.has(u.email_normalized)))
    return new Set(refused.map((u) => u.user_id))
  }

  /** Migration-log rows and legacy identifiers (id, email, username) of bulk-imported users, inside the batch's transaction. */
  private async logBulkImports(trx: Transaction<LatchkeyDatabase>, users: NewStoredUser[], migration: BulkMigration): Promise<void> {
    const at = migration.at.getTime()
    for (let i = 0; i < users.length; i += MULTI_ROW_INSERT) {
      const chunk = users.slice(i, i + MULTI_ROW_INSERT)
      // A log row left by a user deleted without a tombstone stays: the user was imported then.
      const log = chunk.map((u) => ({ connection: u.connection, user_id: u.user_id, flow: migration.flow, at }))
      await this.storeDialect.upsert(trx, 'latchkey_migration_log', log, ['connection', 'user_id'], 'keep').execute()
      const identifiers = chunk.flatMap((u) =>
        [
          { kind: 'id', value: u.user_id },
          ...(u.email_normalized === null ? [] : [{ kind: 'email', value: u.email_normalized }]),
          ...(u.username === null ? [] : [{ kind: 'username', value: u.username }]),
        ].map((id) => ({ connection: u.connection, ...id, user_id: u.user_id, at })),
      )
      // An identifier already kept (an old email of another imported user) stays with its first owner.
      await this.storeDialect.upsert(trx, 'latchkey_legacy_identifiers', identifiers, ['connection', 'kind', 'value'], 'keep').execute()
    }
  }

  /**
   * Where a failed statement leaves the transaction usable, inside `trx`: users that clash
   * with a stored one are left out by one lookup, the rest go in as multi-row INSERTs. Only
   * if one of those still clashes (a writer raced this batch) is each row tried on its own;
   * SQLite and InnoDB undo just the failed statement and keep the transaction, so the rows
   * before it stay written.
   */
  private async insertBatched(trx: Transaction<LatchkeyDatabase>, users: NewStoredUser[]): Promise<Set<string>> {
    const done = new Set<string>()
    if (users.length === 0) return done
    const stored = await this.storedClashes(trx, users[0]!.connection, users)
    const taken = new Set(stored.flatMap((r) => [`u${r.user_id}`, `e${r.email_normalized}`, `n${r.username}`]))
    const fresh = users.filter(
      (u) =>
        !taken.has(`u${u.user_id}`) &&
        (u.email_normalized === null || !taken.has(`e${u.email_normalized}`)) &&
        (u.username === null || !taken.has(`n${u.username}`)),
    )
    for (let i = 0; i < fresh.length; i += MULTI_ROW_INSERT) {
      const chunk = fresh.slice(i, i + MULTI_ROW_INSERT)
      try {
        await trx.executeQuery(multiRowInsert(chunk.map(toRow)))
        for (const u of chunk) done.add(u.user_id)
      } catch (error) {
        if (!this.storeDialect.uniqueViolation(error)) throw error
        for (const user of chunk) if (await this.insertOne(trx, user)) done.add(user.user_id)
      }
    }
    return done
  }

  /** One row inside `trx`; false when it clashes with a unique key. */
  private async insertOne(trx: Transaction<LatchkeyDatabase>, user: NewStoredUser): Promise<boolean> {
    try {
      await trx.executeQuery(multiRowInsert([toRow(user)]))
      return true
    } catch (error) {
      if (!this.storeDialect.uniqueViolation(error)) throw error
      return false
    }
  }

  overwriteUser(connection: string, userId: string, user: NewStoredUser): Promise<boolean> {
    return this.guard(async () => {
      const { connection: _c, user_id: _u, created_at: _created, logins_count: _count, last_login: _last, ...fields } = toRow(user)
      try {
        return await this.transact(async (trx) => {
          const result = await trx
            .updateTable('latchkey_users')
            .set(fields)
            .where('connection', '=', connection)
            .where('user_id', '=', userId)
            .executeTakeFirst()
          if (result.numUpdatedRows === 0n) return false
          // New credentials and email: tickets issued for the old ones are void.
          await voidOpenTickets(trx, connection, userId, user.updated_at.getTime())
          return true
        })
      } catch (error) {
        // Its email or username belongs to yet another user: that is a clash, not a fault.
        if (this.storeDialect.uniqueViolation(error)) return false
        throw error
      }
    })
  }

  setPassword(connection: string, userId: string, change: PasswordChange): Promise<'ok' | 'no_user' | 'invalid_ticket'> {
    return this.guard(() =>
      this.transact(async (trx) => {
        const at = change.at.getTime()
        // Locks are taken in one order everywhere, the user's row before their tickets, so a
        // redemption racing an admin change waits instead of deadlocking.
        const updated = await trx
          .updateTable('latchkey_users')
          .set({ password_hash: change.hash, legacy_hash: null, updated_at: at, ...(change.ticket ? { last_password_reset: at } : {}) })
          .where('connection', '=', connection)
          .where('user_id', '=', userId)
          .executeTakeFirst()
        if (updated.numUpdatedRows === 0n) throw new Rollback(change.ticket ? ('invalid_ticket' as const) : ('no_user' as const))
        if (change.ticket) {
          // The conditional UPDATE is the lock: of concurrent redemptions exactly one matches;
          // the others roll their password write back.
          const consumed = await trx
            .updateTable('latchkey_tickets')
            .set({ used_at: at })
            .where('token_hash', '=', change.ticket.tokenHash)
            .where('connection', '=', connection)
            .where('purpose', '=', 'reset')
            .where('user_id', '=', userId)
            .where('used_at', 'is', null)
            .where('expires_at', '>', at)
            .executeTakeFirst()
          if (consumed.numUpdatedRows === 0n) throw new Rollback('invalid_ticket' as const)
        }
        if (change.historyLimit > 0) {
          await trx
            .insertInto('latchkey_password_history')
            .values({ connection, user_id: userId, password_hash: change.hash, created_at: at })
            .execute()
          const stale = await trx
            .selectFrom('latchkey_password_history')
            .select('password_hash')
            .where('connection', '=', connection)
            .where('user_id', '=', userId)
            .orderBy('created_at', 'desc')
            .orderBy('password_hash', 'desc')
            .limit(1_000_000)
            .offset(change.historyLimit)
            .execute()
          if (stale.length > 0) {
            await trx
              .deleteFrom('latchkey_password_history')
              .where('connection', '=', connection)
              .where('user_id', '=', userId)
              .where(
                'password_hash',
                'in',
                stale.map((r) => r.password_hash),
              )
              .execute()
          }
        }
        await voidOpenTickets(trx, connection, userId, at)
        return 'ok' as const
      }),
    )
  }

  passwordHistory(connection: string, userId: string, limit: number): Promise<string[]> {
    return this.guard(async () => {
      if (limit <= 0) return []
      const rows = await this.db
        .selectFrom('latchkey_password_history')
        .select('password_hash')
        .where('connection', '=', connection)
        .where('user_id', '=', userId)
        .orderBy('created_at', 'desc')
        .orderBy('password_hash', 'desc')
        .limit(limit)
        .execute()
      return rows.map((r) => r.password_hash)
    })
  }

  changeEmail(connection: string, userId: string, change: EmailChange): Promise<'ok' | 'no_user' | 'conflict'> {
    return this.guard(async () => {
      try {
        return await this.transact(async (trx) => {
          const at = change.at.getTime()
          const updated = await trx
            .updateTable('latchkey_users')
            .set({ email: change.email, email_normalized: change.emailNormalized, email_verified: change.verified ? 1 : 0, updated_at: at })
            .where('connection', '=', connection)
            .where('user_id', '=', userId)
            .executeTakeFirst()
          if (updated.numUpdatedRows === 0n) throw new Rollback('no_user' as const)
          await voidOpenTickets(trx, connection, userId, at)
          return 'ok' as const
        })
      } catch (error) {
        if (this.storeDialect.uniqueViolation(error)) return 'conflict'
        throw error
      }
    })
  }

  insertTicket(ticket: TicketRecord): Promise<void> {
    return this.guard(async () => {
      await this.db
        .insertInto('latchkey_tickets')
        .values({
          ...ticket,
          created_at: ticket.created_at.getTime(),
          expires_at: ticket.expires_at.getTime(),
          used_at: ticket.used_at?.getTime() ?? null,
        })
        .execute()
    })
  }

  findTicket(tokenHash: string): Promise<TicketRecord | null> {
    return this.guard(async () => {
      const row = await this.db.selectFrom('latchkey_tickets').selectAll().where('token_hash', '=', tokenHash).executeTakeFirst()
      return row ? fromTicketRow(row) : null
    })
  }

  redeemVerificationTicket(tokenHash: string, at: Date): Promise<{ result: 'ok'; user: StoredUser } | { result: 'invalid_ticket' }> {
    return this.guard(() =>
      this.transact(async (trx) => {
        const now = at.getTime()
        const ticket = await trx.selectFrom('latchkey_tickets').selectAll().where('token_hash', '=', tokenHash).executeTakeFirst()
        if (!ticket || ticket.purpose !== 'verify') throw new Rollback({ result: 'invalid_ticket' as const })
        // The user's row first, then the ticket: the lock order of every other write.
        // A verification ticket verifies only the email it was issued for.
        const verified = await trx
          .updateTable('latchkey_users')
          .set({ email_verified: 1, updated_at: now })
          .where('connection', '=', ticket.connection)
          .where('user_id', '=', ticket.user_id)
          .where('email_normalized', '=', ticket.email_normalized)
          .executeTakeFirst()
        if (verified.numUpdatedRows === 0n) throw new Rollback({ result: 'invalid_ticket' as const })
        const consumed = await trx
          .updateTable('latchkey_tickets')
          .set({ used_at: now })
          .where('token_hash', '=', tokenHash)
          .where('used_at', 'is', null)
          .where('expires_at', '>', now)
          .executeTakeFirst()
        if (consumed.numUpdatedRows === 0n) throw new Rollback({ result: 'invalid_ticket' as const })
        const user = await this.lookup(ticket.connection, { userId: ticket.user_id }, trx)
        if (!user) throw new Rollback({ result: 'invalid_ticket' as const })
        return { result: 'ok' as const, user }
      }),
    )
  }

  consumeTicket(tokenHash: string, at: Date): Promise<boolean> {
    return this.guard(async () => {
      const result = await this.db
        .updateTable('latchkey_tickets')
        .set({ used_at: at.getTime() })
        .where('token_hash', '=', tokenHash)
        .where('used_at', 'is', null)
        .where('expires_at', '>', at.getTime())
        .executeTakeFirst()
      return result.numUpdatedRows > 0n
    })
  }

  voidTickets(connection: string, of: { userId: string } | { emailNormalized: string }, at: Date): Promise<void> {
    return this.guard(async () => {
      const [column, value] = 'userId' in of ? (['user_id', of.userId] as const) : (['email_normalized', of.emailNormalized] as const)
      await this.db
        .updateTable('latchkey_tickets')
        .set({ used_at: at.getTime() })
        .where('connection', '=', connection)
        .where(column, '=', value)
        .where('used_at', 'is', null)
        .execute()
    })
  }

  releaseTicket(tokenHash: string, at: Date): Promise<void> {
    return this.guard(async () => {
      await this.db
        .updateTable('latchkey_tickets')
        .set({ used_at: null })
        .where('token_hash', '=', tokenHash)
        .where('used_at', '=', at.getTime())
        .execute()
    })
  }

  takeCounterSlot(
    connection: string,
    counter: CounterSpec,
    at: Date,
  ): Promise<{ ok: true; level: number } | { ok: false; retryAfterMs: number }> {
    return this.guard(async () => {
      const now = at.getTime()
      const level = (slot: (i: number) => string) =>
        counterLevel(counter.mode, { now: slot(4), windowStart: slot(5), capacity: slot(6), resetMs: slot(7) })
      const values = [connection, counter.kind, counter.key, 1, now, now - counter.resetMs, counter.capacity, counter.resetMs]
      const taken = await this.storeDialect.takeCounterSlot(this.db, this.prepared, { mode: counter.mode, level, values })
      if (taken !== null) return { ok: true as const, level: taken }
      return { ok: false as const, retryAfterMs: await this.retryAfter(connection, counter, now) }
    })
  }

  /**
   * All of one attempt's counters in one statement where the dialect can ({@link StoreDialect.takeCounterSlots}), so
   * the round trip and the row locks are paid once, not once per counter; otherwise one by one, concurrently.
   */
  takeCounterSlots(
    connection: string,
    counters: readonly CounterSpec[],
    at: Date,
  ): Promise<({ ok: true; level: number } | { ok: false; retryAfterMs: number })[]> {
    const batch = this.storeDialect.takeCounterSlots
    if (!batch || counters.length < 2 || new Set(counters.map((c) => c.kind)).size !== counters.length) {
      return Promise.all(counters.map((c) => this.takeCounterSlot(connection, c, at)))
    }
    const sorted = inLockOrder(counters)
    return this.guard(async () => {
      const now = at.getTime()
      const values: unknown[] = [connection, now, 1]
      // One row per counter, its fields in the order counterRowSlot reads them.
      for (const c of sorted) values.push(c.kind, c.key, c.capacity, c.resetMs, now - c.resetMs)
      const levels = await batch(this.db, this.prepared, {
        key: `take-batch-${sorted.map((c) => c.mode[0]).join('')}`,
        rows: sorted.length,
        level: (slot, i) =>
          counterLevel(sorted[i]!.mode, {
            now: slot(1),
            windowStart: slot(counterRowSlot(i, 'windowStart')),
            capacity: slot(counterRowSlot(i, 'capacity')),
            resetMs: slot(counterRowSlot(i, 'resetMs')),
          }),
        values,
      })
      return Promise.all(
        counters.map(async (c) => {
          const level = levels.get(c.kind)
          return level === undefined
            ? { ok: false as const, retryAfterMs: await this.retryAfter(connection, c, now) }
            : { ok: true as const, level }
        }),
      )
    })
  }

  /** The ms until a refused counter frees a slot, from its row as it is now. */
  private async retryAfter(connection: string, counter: CounterSpec, now: number): Promise<number> {
    const row = await this.counterRow(connection, counter)
    const since = now - row.updated_at
    const rate = counter.capacity / counter.resetMs
    const retryAfterMs = counter.mode === 'window' ? counter.resetMs - since : (row.value - since * rate + 1 - counter.capacity) / rate
    return Math.max(1, Math.ceil(retryAfterMs))
  }

  private async counterRow(connection: string, counter: Pick<CounterSpec, 'kind' | 'key'>): Promise<{ value: number; updated_at: number }> {
    const row = await this.db
      .selectFrom('latchkey_counters')
      .select(['value', 'updated_at'])
      .where('connection', '=', connection)
      .where('kind', '=', counter.kind)
      .where('counter_key', '=', counter.key)
      .executeTakeFirstOrThrow()
    return { value: Number(row.value), updated_at: Number(row.updated_at) }
  }

  settleCounters(connection: string, counters: { kind: string; key: string; reset: boolean }[]): Promise<void> {
    return this.guard(async () => {
      if (counters.length === 0) return
      const sorted = inLockOrder(counters)
      const values = [connection, 0, ...sorted.flatMap((c) => [c.kind, c.key])]
      const settled = (c: { reset: boolean }) =>
        c.reset ? sql`0` : sql`case when latchkey_counters.value >= 1 then latchkey_counters.value - 1 else 0 end`
      const byRow = (slot: (i: number) => string) =>
        sql<number>`case ${sql.join(
          sorted.map(
            (c, i) =>
              sql`when latchkey_counters.kind = ${slot(2 + 2 * i)} and latchkey_counters.counter_key = ${slot(3 + 2 * i)} then ${settled(c)}`,
          ),
          sql` `,
        )} else latchkey_counters.value end`
      // A multi-row upsert locks its rows in VALUES order, the order the batched take locks them in, so a settle and
      // a take of overlapping counters cannot deadlock (an UPDATE would lock in whatever order its scan finds them). A
      // row cleared meanwhile (unblock) comes back at zero, which counts nothing.
      await this.prepared.execute(
        `settle-${sorted.map((c) => (c.reset ? 'r' : 'g')).join('')}`,
        (slot) =>
          this.storeDialect.upsert(
            this.db,
            'latchkey_counters',
            sorted.map((_, i) => ({
              connection: slot(0),
              kind: slot(2 + 2 * i),
              counter_key: slot(3 + 2 * i),
              value: slot(1) as never,
              updated_at: slot(1) as never,
              blocked_until: null,
            })),
            ['connection', 'kind', 'counter_key'],
            { value: byRow(slot) as never },
          ),
        values,
      )
    })
  }

  clearCounters(connection: string, kind: string, match: { key: string } | { keyPrefix: string }): Promise<void> {
    return this.guard(async () => {
      if ('key' in match) {
        await this.prepared.execute(
          'clear-counter',
          (slot) =>
            this.db
              .deleteFrom('latchkey_counters')
              .where('connection', '=', slot(0))
              .where('kind', '=', slot(1))
              .where('counter_key', '=', slot(2)),
          [connection, kind, match.key],
        )
        return
      }
      await this.db
        .deleteFrom('latchkey_counters')
        .where('connection', '=', connection)
        .where('kind', '=', kind)
        .where('counter_key', 'like', `${match.keyPrefix.replace(/[\\%_]/g, '\\$&')}%`)
        .execute()
    })
  }

  importUser(user: NewStoredUser, migration: MigrationImport): Promise<InsertUserResult | { ok: false; conflict: 'tombstone' }> {
    return this.guard(async () => {
      const at = migration.at.getTime()
      let stored: StoredUser | null | 'tombstone'
      try {
        stored = await this.transact<StoredUser | null, 'tombstone'>(async (trx) => {
          await this.lockForImport(trx, user.connection, [user])
          const tombstone = await trx
            .selectFrom('latchkey_tombstones')
            .select('user_id')
            .where('connection', '=', user.connection)
            .where((eb) =>
              eb.or([
                eb('user_id', '=', user.user_id),
                ...(user.email_normalized ? [eb('email_normalized', '=', user.email_normalized)] : []),
              ]),
            )
            .executeTakeFirst()
          if (tombstone) throw new Rollback('tombstone' as const)
          await trx.insertInto('latchkey_users').values(toRow(user)).execute()
          if (migration.historyLimit > 0 && user.password_hash !== null) {
            await trx
              .insertInto('latchkey_password_history')
              .values({
                connection: user.connection,
                user_id: user.user_id,
                password_hash: user.password_hash,
                created_at: at,
              })
              .execute()
          }
          await trx
            .insertInto('latchkey_migration_log')
            .values({ connection: user.connection, user_id: user.user_id, flow: migration.flow, at })
            .execute()
          for (const id of migration.legacyIdentifiers) {
            // An identifier already kept (an old email of another imported user) stays with its first owner.
            const row = { connection: user.connection, kind: id.kind, value: id.value, user_id: user.user_id, at }
            await this.storeDialect.upsert(trx, 'latchkey_legacy_identifiers', row, ['connection', 'kind', 'value'], 'keep').execute()
          }
          // Read back inside the transaction: a deleteUser that waited for this import and commits right after it
          // must not turn the import (and the login it serves) into a store failure.
          return this.lookup(user.connection, { userId: user.user_id }, trx)
        })
      } catch (error) {
        const clash = this.storeDialect.uniqueViolation(error)
        if (clash) return { ok: false as const, conflict: clash === 'primary' ? ('user_id' as const) : clash }
        throw error
      }
      if (stored === 'tombstone') return { ok: false as const, conflict: 'tombstone' as const }
      if (!stored) throw new Error('latchkey: imported user vanished before it could be read back')
      return { ok: true as const, user: stored }
    })
  }

  findLegacyIdentifier(connection: string, identifier: LegacyIdentifier): Promise<string | null> {
    return this.guard(async () => {
      const row = await this.db
        .selectFrom('latchkey_legacy_identifiers')
        .select('user_id')
        .where('connection', '=', connection)
        .where('kind', '=', identifier.kind)
        .where('value', '=', identifier.value)
        .executeTakeFirst()
      return row?.user_id ?? null
    })
  }

  isTombstoned(connection: string, by: { userId?: string; emailNormalized?: string }): Promise<boolean> {
    return this.guard(async () => {
      if (by.userId === undefined && by.emailNormalized === undefined) return false
      const row = await this.db
        .selectFrom('latchkey_tombstones')
        .select('user_id')
        .where('connection', '=', connection)
        .where((eb) =>
          eb.or([
            ...(by.userId !== undefined ? [eb('user_id', '=', by.userId)] : []),
            ...(by.emailNormalized !== undefined ? [eb('email_normalized', '=', by.emailNormalized)] : []),
          ]),
        )
        .executeTakeFirst()
      return row !== undefined
    })
  }

  deleteUserWithTombstone(connection: string, userId: string, tombstone: { emailNormalized: string | null; at: Date }): Promise<boolean> {
    return this.guard(() =>
      this.db.transaction().execute(async (trx) => {
        // The tombstone goes first, after the dialect's lock: an import of the same user racing this delete either
        // commits before it (and the DELETE below removes what it wrote) or reads the tombstone and refuses; see
        // lockTombstoneKeys in the dialect folders for each database's interleavings.
        const keys = { userIds: [userId], emails: tombstone.emailNormalized === null ? [] : [tombstone.emailNormalized] }
        await this.storeDialect.lockTombstoneKeys?.(trx, connection, keys, 'tombstone')
        const row = { connection, user_id: userId, email_normalized: tombstone.emailNormalized, deleted_at: tombstone.at.getTime() }
        await this.storeDialect.upsert(trx, 'latchkey_tombstones', row, ['connection', 'user_id'], { deleted_at: row.deleted_at }).execute()
        await trx.deleteFrom('latchkey_password_history').where('connection', '=', connection).where('user_id', '=', userId).execute()
        const result = await trx
          .deleteFrom('latchkey_users')
          .where('connection', '=', connection)
          .where('user_id', '=', userId)
          .executeTakeFirst()
        return result.numDeletedRows > 0n
      }),
    )
  }

  recordMigrationConflict(connection: string, conflict: { legacyId: string; reason: string; at: Date }): Promise<void> {
    return this.guard(async () => {
      const row = { connection, legacy_id: conflict.legacyId, reason: conflict.reason, at: conflict.at.getTime() }
      await this.storeDialect
        .upsert(this.db, 'latchkey_migration_conflicts', row, ['connection', 'legacy_id', 'reason'], { at: row.at })
        .execute()
    })
  }

  migrationStats(connection: string): Promise<MigrationStats> {
    return this.guard(async () => {
      const flows = await this.db
        .selectFrom('latchkey_migration_log')
        .select((eb) => ['flow', eb.fn.countAll().as('n')])
        .where('connection', '=', connection)
        .groupBy('flow')
        .execute()
      // Whole days since the epoch: integer division on every dialect.
      const dayOf = this.storeDialect.epochDay('at')
      const days = await this.db
        .selectFrom('latchkey_migration_log')
        .select((eb) => [dayOf.as('day'), eb.fn.countAll().as('n')])
        .where('connection', '=', connection)
        .groupBy(dayOf)
        .orderBy(dayOf)
        .execute()
      const tombstones = await this.db
        .selectFrom('latchkey_tombstones')
        .select((eb) => eb.fn.countAll().as('n'))
        .where('connection', '=', connection)
        .executeTakeFirstOrThrow()
      const conflictCount = await this.db
        .selectFrom('latchkey_migration_conflicts')
        .select((eb) => eb.fn.countAll().as('n'))
        .where('connection', '=', connection)
        .executeTakeFirstOrThrow()
      const conflicts = await this.db
        .selectFrom('latchkey_migration_conflicts')
        .selectAll()
        .where('connection', '=', connection)
        .orderBy('at', 'desc')
        .limit(1000)
        .execute()
      return {
        byFlow: Object.fromEntries(flows.map((r) => [r.flow, Number(r.n)])),
        byDay: days.map((r) => ({ day: new Date(Number(r.day) * 86_400_000).toISOString().slice(0, 10), count: Number(r.n) })),
        tombstones: Number(tombstones.n),
        conflicts: conflicts.map((r) => ({ legacyId: r.legacy_id, reason: r.reason, at: date(r.at) })),
        conflictCount: Number(conflictCount.n),
      }
    })
  }

  getSetting(connection: string, key: string): Promise<string | null> {
    return this.guard(async () => {
      const row = await this.db
        .selectFrom('latchkey_settings')
        .select('value')
        .where('connection', '=', connection)
        .where('setting_key', '=', key)
        .executeTakeFirst()
      return row?.value ?? null
    })
  }

  deleteSetting(connection: string, key: string): Promise<void> {
    return this.guard(async () => {
      await this.db.deleteFrom('latchkey_settings').where('connection', '=', connection).where('setting_key', '=', key).execute()
    })
  }

  getOrCreateSetting(connection: string, key: string, create: () => string): Promise<string> {
    return this.guard(async () => {
      const read = () =>
        this.db
          .selectFrom('latchkey_settings')
          .select('value')
          .where('connection', '=', connection)
          .where('setting_key', '=', key)
          .executeTakeFirst()
      const existing = await read()
      if (existing) return existing.value
      try {
        const value = create()
        await this.db.insertInto('latchkey_settings').values({ connection, setting_key: key, value }).execute()
        return value
      } catch (error) {
        // Another process created it first: every process must use that one value.
        if (!this.storeDialect.uniqueViolation(error)) throw error
        const winner = await read()
        if (!winner) throw new Error(`latchkey: setting ${key} clashed on insert but cannot be read`, { cause: error })
        return winner.value
      }
    })
  }

  async close(): Promise<void> {
    await this.onClose()
  }

  /**
   * Runs `work` in a transaction; a thrown {@link Rollback} rolls back and becomes the
   * result. A transaction the database picked as a deadlock victim wrote nothing and is
   * run once more; a second deadlock surfaces as StoreUnavailableError (see guard).
   */
  private async transact<T, R>(work: (trx: Transaction<LatchkeyDatabase>) => Promise<T>, deadlockRetries = 1): Promise<T | R> {
    try {
      return await this.db.transaction().execute(work)
    } catch (error) {
      if (error instanceof Rollback) return error.outcome as R
      if (deadlockRetries > 0 && this.storeDialect.isDeadlock(error)) return this.transact(work, deadlockRetries - 1)
      throw error
    }
  }

  private async guard<T>(work: () => Promise<T>): Promise<T> {
    try {
      return await work()
    } catch (error) {
      return translateStoreError(this.storeDialect, error)
    }
  }
}

/**
 * A credential or email change voids every open ticket of the user, reset and verification
 * alike: a verification ticket must not come back to life when the email returns to what
 * it was (A → B → A), nor a reset ticket survive the password it was meant to replace.
 */
async function voidOpenTickets(trx: Transaction<LatchkeyDatabase>, connection: string, userId: string, at: number): Promise<void> {
  await trx
    .updateTable('latchkey_tickets')
    .set({ used_at: at })
    .where('connection', '=', connection)
    .where('user_id', '=', userId)
    .where('used_at', 'is', null)
    .execute()
}

/** For each user, the key it shares with an earlier user of the same batch, or null. */
/** Rows per multi-row INSERT: 22 parameters each stays under SQLite's 32,766 and MySQL's 65,535. */
const MULTI_ROW_INSERT = 500
const USER_COLUMNS = Object.keys(
  toRow({
    connection: '',
    user_id: '',
    email: null,
    email_normalized: null,
    email_verified: false,
    username: null,
    password_hash: null,
    legacy_hash: null,
    name: null,
    given_name: null,
    family_name: null,
    nickname: null,
    picture: null,
    user_metadata: {},
    app_metadata: {},
    blocked: false,
    created_at: new Date(0),
    updated_at: new Date(0),
    origin: '',
  }),
) as (keyof UsersTable)[]
const multiRowSql = new Map<number, string>()

/** `insert into latchkey_users (…) values (?, …), …` for these rows, its text built once per row count. */
function multiRowInsert(rows: UsersTable[]): CompiledQuery {
  let text = multiRowSql.get(rows.length)
  if (text === undefined) {
    const tuple = `(${USER_COLUMNS.map(() => '?').join(', ')})`
    text = `insert into latchkey_users (${USER_COLUMNS.join(', ')}) values ${Array.from({ length: rows.length }, () => tuple).join(', ')}`
    multiRowSql.set(rows.length, text)
  }
  return CompiledQuery.raw(
    text,
    rows.flatMap((row) => USER_COLUMNS.map((c) => row[c])),
  )
}

function clashesWithinBatch(users: NewStoredUser[]): (InsertUsersOutcome | null)[] {
  const seen = { user_id: new Set<string>(), email: new Set<string>(), username: new Set<string>() }
  return users.map((u) => {
    const clash = seen.user_id.has(u.user_id)
      ? 'user_id'
      : u.email_normalized !== null && seen.email.has(u.email_normalized)
        ? 'email'
        : u.username !== null && seen.username.has(u.username)
          ? 'username'
          : null
    if (clash === null) {
      seen.user_id.add(u.user_id)
      if (u.email_normalized !== null) seen.email.add(u.email_normalized)
      if (u.username !== null) seen.username.add(u.username)
    }
    return clash
  })
}

function toRow(user: NewStoredUser): UsersTable {
  return {
    connection: user.connection,
    user_id: user.user_id,
    email: user.email,
    email_normalized: user.email_normalized,
    email_verified: user.email_verified ? 1 : 0,
    username: user.username,
    password_hash: user.password_hash,
    legacy_hash: user.legacy_hash,
    name: user.name,
    given_name: user.given_name,
    family_name: user.family_name,
    nickname: user.nickname,
    picture: user.picture,
    user_metadata: JSON.stringify(user.user_metadata),
    app_metadata: JSON.stringify(user.app_metadata),
    blocked: user.blocked ? 1 : 0,
    logins_count: user.logins_count ?? 0,
    created_at: user.created_at.getTime(),
    updated_at: user.updated_at.getTime(),
    last_login: user.last_login?.getTime() ?? null,
    last_password_reset: user.last_password_reset?.getTime() ?? null,
    origin: user.origin,
  }
}

const date = (ms: number | string | bigint) => new Date(Number(ms))
const maybeDate = (ms: number | string | bigint | null) => (ms === null ? null : date(ms))

function fromUserRow(row: Selectable<UsersTable>): StoredUser {
  return {
    ...row,
    email_verified: Boolean(Number(row.email_verified)),
    blocked: Boolean(Number(row.blocked)),
    logins_count: Number(row.logins_count),
    user_metadata: JSON.parse(row.user_metadata) as Record<string, unknown>,
    app_metadata: JSON.parse(row.app_metadata) as Record<string, unknown>,
    created_at: date(row.created_at),
    updated_at: date(row.updated_at),
    last_login: maybeDate(row.last_login),
    last_password_reset: maybeDate(row.last_password_reset),
  }
}

function fromTicketRow(row: Selectable<TicketsTable>): TicketRecord {
  return {
    ...row,
    purpose: row.purpose as TicketPurpose,
    created_at: date(row.created_at),
    expires_at: date(row.expires_at),
    used_at: maybeDate(row.used_at),
  }
}

/**
 * The level a counter row has now, as SQL over its parameter slots: a window count that may have expired, or a leaky
 * bucket drained since its last update. Integer parameters only (PostgreSQL infers bigint for each); `* 1.0` makes the
 * drain fractional on every dialect.
 */
function counterLevel(mode: CounterSpec['mode'], p: { now: string; windowStart: string; capacity: string; resetMs: string }) {
  if (mode === 'window')
    return sql<number>`case when latchkey_counters.updated_at <= ${p.windowStart} then 0 else latchkey_counters.value end`
  const drained = sql`latchkey_counters.value - (${p.now} - latchkey_counters.updated_at) * ${p.capacity} * 1.0 / ${p.resetMs}`
  return sql<number>`case when ${drained} > 0 then ${drained} else 0 end`
}

/**
 * Counters in the one order every multi-row counter statement locks them in (kind, then key, by code unit), so two
 * statements over overlapping counters never wait on each other in a cycle.
 */
function inLockOrder<C extends { kind: string; key: string }>(counters: readonly C[]): C[] {
  const byCodeUnit = (a: string, b: string) => (a < b ? -1 : a > b ? 1 : 0)
  return [...counters].sort((a, b) => byCodeUnit(a.kind, b.kind) || byCodeUnit(a.key, b.key))
}
