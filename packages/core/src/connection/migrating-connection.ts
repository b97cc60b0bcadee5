import { z } from 'zod'
import type { AttackProtectionOptions } from '../attack/attack-protection.js'
import type { LoginLease } from '../attack/login-lease.js'
import {
  InvalidTicketError,
  LatchkeyError,
  MigrationConflictError,
  NotSupportedError,
  PasswordChangeRequiredError,
  StoreUnavailableError,
  UnauthorizedError,
  UserExistsError,
  UserNotFoundError,
  WrongUsernameOrPasswordError,
} from '../errors/errors.js'
import type { ConnectionEvents } from '../events/connection-events.js'
import type { MigrationInto } from '../import/import-users.js'
import type { EventListener } from '../events/events.js'
import { invalidInput, parseInput } from '../input/parse-input.js'
import {
  changeEmailOptionsSchema,
  changeOwnPasswordInputSchema,
  identifierSchema,
  loginInputSchema,
  passwordSchema,
  ticketOptionsSchema,
  ticketTokenSchema,
  userIdSchema,
} from '../input/schemas.js'
import { bcryptHash } from '../password/hash-pool.js'
import { fitsBcrypt, normalizePassword } from '../password/password-text.js'
import { emailSchema, isEmail, normalizeEmail } from '../profile/email.js'
import type { UserProfile } from '../profile/profile-schema.js'
import type { MigrationStats, NewStoredUser, StoredUser, UserStore } from '../store/user-store.js'
import { ticketTokenHash } from '../tickets/ticket-token.js'
import { BuiltinConnection } from './builtin-connection.js'
import { CustomScriptConnection } from './custom-script-connection.js'
import { settleImportClash } from './import-clash.js'
import type {
  ChangeOwnPasswordInput,
  DatabaseConnection,
  IpContextArgs,
  IssuedTicket,
  RequestContextWithIp,
  LoginInput,
  RequestContext,
  SignupInput,
  TicketOptions,
  UserPatch,
} from './database-connection.js'
import { legacyIdentifierOf, mapLegacyProfile } from './legacy-profile.js'
import { parseContext } from './request-context.js'
import type { ScriptCalls } from './script-calls.js'
import { ProfileMetadataError } from './script-profile.js'
import type { StoredVerdict } from './stored-credentials.js'
import { toUserProfile } from './user-profile.js'

/** Options of a {@link MigratingConnection}; every one is validated at construction. */
export const migratingConnectionOptionsSchema = z.strictObject({
  /** Must be the target's name, so counters, tickets and the identifier key survive the switch to the target alone. */
  name: z.string().min(1).max(128),
  /** Where users move to. Its own `onEvent` is not used: events go to this connection's. */
  target: z.custom<BuiltinConnection>((v) => v instanceof BuiltinConnection, 'must be a BuiltinConnection'),
  /** Where users come from. Must be built with `attackProtection: false` and have a `get_user` script. */
  legacy: z.custom<CustomScriptConnection>((v) => v instanceof CustomScriptConnection, 'must be a CustomScriptConnection'),
  /** Also write new passwords to the legacy store (`change_password`); the operation fails if that fails. Default false. */
  writeThrough: z.boolean().optional(),
  /**
   * What to do with a legacy password that fails the target's policy or breached list at
   * first login: `accept` it (the default), or `require_reset`: import the user marked so
   * that every login fails with PasswordChangeRequiredError until a reset succeeds.
   */
  legacyPasswordPolicy: z.enum(['accept', 'require_reset']).optional(),
  /** Receives every event of the migration, the target's and the legacy store's included. */
  onEvent: z.custom<EventListener>((v) => typeof v === 'function', 'must be a function').optional(),
})
export type MigratingConnectionOptions = z.input<typeof migratingConnectionOptionsSchema>

/** Migration progress, from the store, so every process agrees. */
export interface MigrationStatus {
  /** Users imported in total. */
  imported: number
  /** By flow: `login`, `reset`, `change_password`, `bulk`. */
  byFlow: Record<string, number>
  /** Imports per UTC day (YYYY-MM-DD), oldest first. */
  byDay: { day: string; count: number }[]
  /** Deleted users that can never be imported again. */
  tombstones: number
  /** Legacy users that could not be imported as they were, for an admin: the newest 1,000 and the count. */
  conflicts: { legacyId: string; reason: string; at: Date }[]
  conflictCount: number
  /** When `finishMigration()` switched the legacy store off, or null. */
  finishedAt: Date | null
}

const FINISHED = 'migration_finished'
const PASSWORD_CHANGE_REQUIRED = 'password_change_required:'

type Imported = { user: StoredUser } | { clash: StoredUser } | { tombstoned: true } | { notImported: UserProfile }

/**
 * A built-in connection (the target) plus a custom-script connection (the legacy store):
 * users move into the target one at a time, at their first successful login, reset or
 * password change, with the same `user_id`, their profile and a bcrypt hash of the
 * password just typed, in one transaction. After that the legacy store is never asked
 * about them again. SPEC §4 decides every flow.
 *
 * @example
 * const target = new BuiltinConnection({ name: 'users', store })
 * const legacy = new CustomScriptConnection({ name: 'legacy', runner, scripts, store, attackProtection: false })
 * const users = new MigratingConnection({ name: 'users', target, legacy })
 * await users.login({ identifier: 'ada@example.com', password }, { ip })
 * console.log(await users.migrationStatus())
 */
export class MigratingConnection<Protection extends AttackProtectionOptions | undefined = AttackProtectionOptions | undefined>
  implements DatabaseConnection
{
  readonly name: string
  private readonly target: BuiltinConnection
  private readonly legacy: ScriptCalls
  private readonly store: UserStore
  private readonly events: ConnectionEvents
  private readonly writeThrough: boolean
  private readonly requireReset: boolean

  // Protection is the target's, inferred from it: login and signup need { ip } exactly when the target's do.
  constructor(options: MigratingConnectionOptions & { target: BuiltinConnection<Protection> }) {
    const o = parseInput(migratingConnectionOptionsSchema, options)
    if (o.name !== o.target.name) {
      invalidInput(['name'], "must be the target connection's name, so counters, tickets and the identifier key survive finishing")
    }
    if (o.legacy.protectsItself) {
      invalidInput(['legacy'], 'must be built with attackProtection: false: the migrating connection counts each failed login once, itself')
    }
    if (!o.legacy.has('get_user')) invalidInput(['legacy'], 'needs a get_user script: signup asks the legacy store whether the user exists')
    this.name = o.name
    this.target = o.target.withEventListener(o.onEvent)
    this.store = this.target.store
    this.events = this.target.events
    this.legacy = o.legacy.scriptCalls(this.events)
    this.writeThrough = o.writeThrough ?? false
    this.requireReset = o.legacyPasswordPolicy === 'require_reset'
  }

  /**
   * Logs in: the target first; a user it does not have is asked of the legacy `login`
   * script and, on success, imported. Failed logins are counted once, here.
   *
   * @throws WrongUsernameOrPasswordError, UnauthorizedError, TooManyAttemptsError, MigrationConflictError,
   *   PasswordChangeRequiredError, ScriptError, StoreUnavailableError
   */
  login(input: LoginInput, ...ctx: IpContextArgs<Protection>): Promise<UserProfile>
  async login(input: LoginInput, ctx?: RequestContext): Promise<UserProfile> {
    const { identifier, password } = parseInput(loginInputSchema, input)
    const context = parseContext(ctx)
    // A known user's counters are the user's, whichever identifier was typed, so the lookup comes first.
    const user = await this.target.credentials.find(identifier)
    const lease = await this.target.protection.begin(identifier, context, user?.user_id ?? null)
    try {
      // A user who signed up in the target may hold an email that a legacy user owns, so legacy is asked about them too.
      if ((user && user.origin !== 'signup') || !(await this.legacyAnswersFor(identifier))) {
        // Not found, and legacy closed: another request may have imported the user since the lookup.
        return await this.loginTarget(user ?? (await this.target.credentials.find(identifier)), identifier, password, context, lease)
      }
      const verdict = user ? await this.target.credentials.verify(user, password) : null
      if (user && verdict?.matches) return await this.loginTarget(user, identifier, password, context, lease, verdict)
      const profile = await this.verifyLegacy(identifier, password, context)
      if (!profile) {
        // A script's "no" does not say whether the user exists, so it counts as a wrong password.
        lease.wrongPassword()
        this.events.emit('fp', {
          ...context,
          ...(user ? { user_id: user.user_id } : { identifier_hash: await this.events.hashIdentifier(identifier) }),
        })
        throw new WrongUsernameOrPasswordError()
      }
      if (profile.blocked) {
        this.events.emit('f', { ...context, user_id: profile.user_id, details: { reason: 'blocked' } })
        throw new UnauthorizedError('user is blocked')
      }
      const weak = this.requireReset && (await this.failsTargetChecks(password, profile))
      const imported = await this.importLegacyUser(profile, password, 'login', context, { weak })
      if ('clash' in imported) return await this.loginTarget(imported.clash, identifier, password, context, lease)
      if ('tombstoned' in imported) {
        this.events.emit('f', { ...context, user_id: profile.user_id, details: { reason: 'deleted' } })
        throw new WrongUsernameOrPasswordError()
      }
      await lease.match()
      if (weak) throw this.passwordChangeRequired(profile.user_id, context)
      this.events.emit('s', { ...context, user_id: profile.user_id, details: { migrated: 'user' in imported } })
      return 'user' in imported ? toUserProfile(imported.user) : imported.notImported
    } finally {
      await lease.release()
    }
  }

  /**
   * Creates the user in the target, after checking that neither the target nor the legacy
   * store (`get_user`, by email and by username) has it. If the legacy store cannot answer,
   * the signup fails closed.
   *
   * @throws UserExistsError, PasswordPolicyError, ScriptError, StoreUnavailableError
   */
  signup(input: SignupInput, ...ctx: IpContextArgs<Protection>): Promise<UserProfile>
  async signup(input: SignupInput, ctx?: RequestContext): Promise<UserProfile> {
    return this.target.signupWith(input, ctx, async (email, username) => {
      if (await this.target.getUser(email)) throw new UserExistsError()
      for (const identifier of username === null ? [email] : [email, username]) {
        // A signup check is not an import, and not counted as one.
        if ((await this.legacyAnswersFor(identifier)) && (await this.legacy.getUser(identifier))) throw new UserExistsError()
      }
    })
  }

  /** The target's user, or else the legacy store's (`get_user`); never imports. */
  async getUser(identifier: string): Promise<UserProfile | null> {
    const id = parseInput(identifierSchema, identifier)
    const user = await this.target.getUser(id)
    if (user || !(await this.legacyAnswersFor(id))) return user
    return this.legacy.getUser(id)
  }

  /** A user of the target by id; no legacy script reads users by id. */
  async getUserById(userId: string): Promise<UserProfile | null> {
    return this.target.getUserById(userId)
  }

  /** Patches a user of the target; a user not yet imported gives UserNotFoundError. */
  async updateUser(userId: string, patch: UserPatch): Promise<UserProfile> {
    return this.target.updateUser(userId, patch)
  }

  /**
   * Sets a new password. A user not yet in the target is found through legacy `get_user`
   * and imported with the new password (after the target's policy). The legacy store is
   * not written unless `writeThrough` is set, so the old password stays valid there.
   *
   * @throws UserNotFoundError, PasswordPolicyError, PasswordLeakedError, MigrationConflictError, ScriptError
   */
  async changePassword(identifier: string, newPassword: string, ctx?: RequestContext): Promise<void> {
    const id = parseInput(identifierSchema, identifier)
    const password = parseInput(passwordSchema, newPassword)
    const context = parseContext(ctx)
    const profile = (await this.target.credentials.find(id)) ? null : await this.legacyProfile(id)
    if (!profile) {
      await this.target.changePassword(id, password, context)
      await this.clearPasswordChangeRequired(id)
      return
    }
    await this.checkNewPassword(password, profile, context)
    if (this.writeThrough) await this.writeLegacyPassword(profile, id, password)
    const imported = await this.importLegacyUser(profile, password, 'change_password', context, { weak: false })
    if ('clash' in imported) return this.target.changePassword(id, password, context)
    if ('tombstoned' in imported) throw new UserNotFoundError()
    this.events.emit('scp', { ...context, user_id: profile.user_id })
  }

  /**
   * The end user's password change: the current password is verified (by the target, or
   * by the legacy `login` script for a user not yet imported) under the login counters,
   * then a legacy user is imported with the new password.
   *
   * @throws WrongUsernameOrPasswordError, TooManyAttemptsError, PasswordPolicyError, PasswordLeakedError, UnauthorizedError
   */
  changeOwnPassword(input: ChangeOwnPasswordInput, ...ctx: IpContextArgs<Protection>): Promise<UserProfile>
  async changeOwnPassword(input: ChangeOwnPasswordInput, ctx?: RequestContext): Promise<UserProfile> {
    const { identifier, currentPassword, newPassword } = parseInput(changeOwnPasswordInputSchema, input)
    const context = parseContext(ctx)
    if ((await this.target.credentials.find(identifier)) || !(await this.legacyAnswersFor(identifier))) {
      const profile = await this.target.changeOwnPassword({ identifier, currentPassword, newPassword }, context as RequestContextWithIp)
      await this.clearPasswordChangeRequired(profile.user_id)
      return profile
    }
    const lease = await this.target.protection.begin(identifier, context)
    try {
      const profile = await this.verifyLegacy(identifier, currentPassword, context)
      if (!profile) {
        lease.wrongPassword()
        this.events.emit('fcp', {
          ...context,
          identifier_hash: await this.events.hashIdentifier(identifier),
          details: { reason: 'invalid_user_password' },
        })
        throw new WrongUsernameOrPasswordError()
      }
      if (profile.blocked) {
        this.events.emit('fcp', { ...context, user_id: profile.user_id, details: { reason: 'blocked' } })
        throw new UnauthorizedError('user is blocked')
      }
      await lease.match()
      await this.checkNewPassword(newPassword, profile, context)
      if (this.writeThrough) await this.writeLegacyPassword(profile, identifier, newPassword)
      const imported = await this.importLegacyUser(profile, newPassword, 'change_password', context, { weak: false })
      if ('clash' in imported) {
        // The user is in the target already (imported meanwhile, or the legacy store matched a look-alike of an
        // imported user's identifier, say 'kím@' for 'kim@'): only the target's current password may change it.
        return await this.target.changeOwnPassword(
          {
            identifier: imported.clash.email ?? imported.clash.username ?? identifier,
            currentPassword,
            newPassword,
          },
          context as RequestContextWithIp,
        )
      }
      if ('tombstoned' in imported) throw new WrongUsernameOrPasswordError()
      this.events.emit('scp', { ...context, user_id: profile.user_id })
      return 'user' in imported ? toUserProfile(imported.user) : imported.notImported
    } finally {
      await lease.release()
    }
  }

  /** Marks an email verified: in the target, or through legacy `verify` for a user not yet imported (nothing is imported). */
  async verifyEmail(email: string): Promise<void> {
    const address = parseInput(emailSchema, email)
    if ((await this.target.getUser(address)) || !(await this.legacyAnswersFor(address))) return this.target.verifyEmail(address)
    if (!(await this.legacy.verifyEmail(address))) throw new UserNotFoundError()
    this.events.emit('sv', { identifier_hash: await this.events.hashIdentifier(address) })
  }

  /**
   * Changes an email: in the target for an imported user, through legacy `change_email`
   * for one not yet imported. The new email must be free in the target and in legacy.
   *
   * @throws UserNotFoundError, UserExistsError, ScriptError
   */
  async changeEmail(email: string, newEmail: string, opts?: { verified?: boolean }): Promise<void> {
    const from = parseInput(emailSchema, email)
    const to = parseInput(emailSchema, newEmail)
    const { verified } = parseInput(changeEmailOptionsSchema, opts ?? {})
    if ((await this.legacyAnswersFor(to)) && (await this.legacy.getUser(to))) throw new UserExistsError('Another user has that email.')
    if ((await this.target.getUser(from)) || !(await this.legacyAnswersFor(from))) {
      return this.target.changeEmail(from, to, verified === undefined ? {} : { verified })
    }
    if (await this.target.getUser(to)) throw new UserExistsError('Another user has that email.')
    if (!(await this.legacy.changeEmail(from, to, verified ?? false))) throw new UserNotFoundError()
    this.events.emit('sce', { identifier_hash: await this.events.hashIdentifier(to) })
  }

  /**
   * Deletes a user: legacy `delete` runs when that script is present (and the migration is
   * not finished), the target's user goes, and a tombstone stops the user from ever being
   * imported again.
   */
  async deleteUser(userId: string): Promise<void> {
    const id = parseInput(userIdSchema, userId)
    const user = await this.store.findUser(this.name, { userId: id })
    if (this.legacy.has('delete') && !(await this.finished())) await this.legacy.remove(id)
    await this.store.deleteUserWithTombstone(this.name, id, { emailNormalized: user?.email_normalized ?? null, at: this.target.now() })
    this.events.emit('du', { user_id: id })
  }

  /**
   * A reset ticket: the target's, or for a user not yet imported one that stores the email
   * and the legacy id; null for an unknown email or past the issuance limit.
   */
  async createPasswordResetTicket(email: string, opts?: TicketOptions, ctx?: RequestContext): Promise<IssuedTicket | null> {
    return this.issueTicket('reset', email, opts, ctx)
  }

  /**
   * Redeems a reset ticket. For a user not yet imported, `get_user` runs again and must
   * give the same legacy id; the user is then imported with the new password.
   *
   * @throws InvalidTicketError, PasswordPolicyError, PasswordLeakedError, MigrationConflictError
   */
  async resetPassword(ticket: string, newPassword: string, ctx?: RequestContext): Promise<UserProfile> {
    const token = parseInput(ticketTokenSchema, ticket)
    const password = parseInput(passwordSchema, newPassword)
    const context = parseContext(ctx)
    const record = await this.target.tickets.live(token, 'reset')
    if (!record || record.legacy_id === null || (await this.store.findUser(this.name, { userId: record.user_id }))) {
      const profile = await this.target.resetPassword(token, password, context)
      await this.clearPasswordChangeRequired(profile.user_id)
      return profile
    }
    const profile = (await this.legacyAnswersFor(record.email_normalized)) ? await this.legacy.getUser(record.email_normalized) : null
    if (!profile || profile.user_id !== record.legacy_id) {
      this.events.emit('fcp', { ...context, details: { reason: 'invalid_ticket' } })
      throw new InvalidTicketError()
    }
    await this.checkNewPassword(password, profile, context)
    const at = this.target.now()
    if (!(await this.store.consumeTicket(ticketTokenHash(token), at))) {
      this.events.emit('fcp', { ...context, user_id: profile.user_id, details: { reason: 'invalid_ticket' } })
      throw new InvalidTicketError()
    }
    let imported: Imported
    try {
      if (this.writeThrough) await this.writeLegacyPassword(profile, record.email_normalized, password)
      imported = await this.importLegacyUser(profile, password, 'reset', context, { weak: false, resetAt: at })
    } catch (error) {
      // The ticket stays usable when the write failed, so the user can try again.
      await this.store.releaseTicket(ticketTokenHash(token), at)
      throw error
    }
    if ('tombstoned' in imported) throw new InvalidTicketError()
    if ('clash' in imported) {
      // The user moved over meanwhile (another request imported them) and may have changed since: another email, a
      // new password. The ticket was issued for the legacy user, so only the target's own rules may redeem it for the
      // target user as they are now (the email it was issued for, unused, the password write and the ticket in one
      // transaction). It goes back to unused first, so the target can take it; one the target refuses is used up again.
      await this.store.releaseTicket(ticketTokenHash(token), at)
      try {
        const redeemed = await this.target.resetPassword(token, password, context)
        await this.clearPasswordChangeRequired(redeemed.user_id)
        return redeemed
      } catch (error) {
        if (error instanceof InvalidTicketError) await this.store.consumeTicket(ticketTokenHash(token), this.target.now())
        throw error
      }
    }
    this.events.emit('scp', { ...context, user_id: profile.user_id, details: { via: 'reset_ticket' } })
    await this.target.protection.unblockAll([profile.email, profile.username], 'password_reset')
    const user = await this.store.findUser(this.name, { userId: profile.user_id })
    return user ? toUserProfile(user) : profile
  }

  /** A verification ticket: the target's, or for a user not yet imported one that stores the legacy id. */
  async createEmailVerificationTicket(email: string, opts?: TicketOptions, ctx?: RequestContext): Promise<IssuedTicket | null> {
    return this.issueTicket('verify', email, opts, ctx)
  }

  /**
   * Redeems a verification ticket: in the target, or for a user not yet imported through
   * legacy `verify` after `get_user` confirms the legacy id (nothing is imported).
   *
   * @throws InvalidTicketError
   */
  async verifyEmailWithTicket(ticket: string, ctx?: RequestContext): Promise<UserProfile> {
    const token = parseInput(ticketTokenSchema, ticket)
    const context = parseContext(ctx)
    const record = await this.target.tickets.live(token, 'verify')
    if (!record || record.legacy_id === null || (await this.store.findUser(this.name, { userId: record.user_id }))) {
      return this.target.verifyEmailWithTicket(token, context)
    }
    const profile = (await this.legacyAnswersFor(record.email_normalized)) ? await this.legacy.getUser(record.email_normalized) : null
    const at = this.target.now()
    if (!profile || profile.user_id !== record.legacy_id || !(await this.store.consumeTicket(ticketTokenHash(token), at))) {
      this.events.emit('fv', { ...context, details: { reason: 'invalid_ticket' } })
      throw new InvalidTicketError()
    }
    try {
      if (!(await this.legacy.verifyEmail(record.email_normalized))) throw new UserNotFoundError()
    } catch (error) {
      await this.store.releaseTicket(ticketTokenHash(token), at)
      throw error
    }
    this.events.emit('sv', { ...context, user_id: profile.user_id })
    return { ...profile, email_verified: true }
  }

  /** Lifts every IP pair and the account lock of an identifier. */
  async unblock(identifier: string): Promise<void> {
    await this.target.unblock(identifier)
  }

  /** Users imported in total, by flow and by day, tombstones and conflicts: from the store, so every process agrees. */
  async migrationStatus(): Promise<MigrationStatus> {
    const [stats, finished]: [MigrationStats, string | null] = await Promise.all([
      this.store.migrationStats(this.name),
      this.store.getSetting(this.name, FINISHED),
    ])
    return {
      imported: Object.values(stats.byFlow).reduce((a, b) => a + b, 0),
      byFlow: stats.byFlow,
      byDay: stats.byDay,
      tombstones: stats.tombstones,
      conflicts: stats.conflicts,
      conflictCount: stats.conflictCount,
      finishedAt: finished === null ? null : new Date(finished),
    }
  }

  /**
   * Switches the legacy store off, in the database: from then on no legacy script runs, in
   * any process, and users not imported are unknown. Bulk-import the rest first. Idempotent.
   */
  async finishMigration(): Promise<void> {
    await this.store.getOrCreateSetting(this.name, FINISHED, () => this.target.now().toISOString())
  }

  /**
   * @internal How `importUsers` writes into this connection (see import-users.ts): into the
   * target, under the migration's rules, with this connection's conflicts and events.
   */
  bulkImport(): MigrationInto {
    return {
      target: this.target,
      migration: () => ({ flow: 'bulk', at: this.target.now() }),
      settle: async (user, clash) => {
        const next = await settleImportClash(this.store, user, clash)
        if (next.kind === 'conflict') await this.conflict(user.user_id, next.reason, {})
        if (next.kind === 'retry' && next.removedSquatter) await this.conflict(next.removedSquatter, 'unverified_signup_removed', {})
        return next
      },
      imported: async (user, usernameDropped) => {
        this.events.emit('migrated', { user_id: user.user_id, details: { flow: 'bulk' } })
        if (usernameDropped) await this.conflict(user.user_id, 'username_taken', {})
      },
    }
  }

  // ---- internals -------------------------------------------------------------------

  /** A target user's login, with the mark of a weak legacy password checked once the password matched. */
  private async loginTarget(
    user: StoredUser | null,
    identifier: string,
    password: string,
    context: RequestContext,
    lease: LoginLease,
    known?: StoredVerdict,
  ): Promise<UserProfile> {
    if (user && this.requireReset && (await this.store.getSetting(this.name, PASSWORD_CHANGE_REQUIRED + user.user_id)) !== null) {
      const verdict = known ?? (await this.target.credentials.verify(user, password))
      if (verdict.matches) {
        await lease.match()
        throw this.passwordChangeRequired(user.user_id, context)
      }
      return this.target.loginStored(user, identifier, password, context, lease, verdict)
    }
    return this.target.loginStored(user, identifier, password, context, lease, known)
  }

  /**
   * Whether the legacy store may be asked about this identifier: not once the migration
   * is finished, never about an identifier an imported user had, and never about a
   * deleted user's email.
   */
  private async legacyAnswersFor(identifier: string): Promise<boolean> {
    const kept = legacyIdentifierOf(identifier, isEmail(identifier))
    const [finished, owner, tombstoned] = await Promise.all([
      this.finished(),
      this.store.findLegacyIdentifier(this.name, kept),
      kept.kind === 'email' ? this.store.isTombstoned(this.name, { emailNormalized: kept.value }) : Promise.resolve(false),
    ])
    return !finished && owner === null && !tombstoned
  }

  private async finished(): Promise<boolean> {
    return (await this.store.getSetting(this.name, FINISHED)) !== null
  }

  /** The legacy login script's profile, or null for its "no"; a failure emits `f` and is thrown. */
  private async verifyLegacy(identifier: string, password: string, context: RequestContext): Promise<UserProfile | null> {
    try {
      return await this.legacy.verify(identifier, password)
    } catch (error) {
      if (error instanceof ProfileMetadataError) throw await this.metadataConflict(error, context)
      this.events.emit('f', {
        ...context,
        identifier_hash: await this.events.hashIdentifier(identifier),
        details: { reason: reasonOf(error) },
      })
      throw error
    }
  }

  /** A legacy user by identifier, when legacy may be asked; null otherwise. */
  private async legacyProfile(identifier: string): Promise<UserProfile | null> {
    if (!(await this.legacyAnswersFor(identifier))) return null
    return this.legacy.getUser(identifier).catch(async (error: unknown) => {
      if (error instanceof ProfileMetadataError) throw await this.metadataConflict(error, {})
      throw error
    })
  }

  /** Legacy metadata over the limits: the user's `metadata_limits` conflict, never a user who silently cannot move. */
  private metadataConflict(error: ProfileMetadataError, context: RequestContext): Promise<MigrationConflictError> {
    return this.conflict(error.userId ?? 'unknown', 'metadata_limits', context)
  }

  /**
   * Imports a legacy user with a bcrypt hash of `password`, the profile, its history row,
   * migration-log row and legacy identifiers, in one transaction guarded by the primary key.
   * A clash on the id means another request imported the user first (returned as `clash`
   * for the caller to verify against), unless the id belongs to a user who never came from
   * this legacy store: that, and an email taken by another user, is a conflict.
   */
  private async importLegacyUser(
    profile: UserProfile,
    password: string,
    flow: string,
    context: RequestContext,
    opts: { weak: boolean; resetAt?: Date },
  ): Promise<Imported> {
    const normalized = normalizePassword(password)
    if (!fitsBcrypt(normalized)) {
      // bcrypt would truncate it: the user stays in legacy, which keeps answering for them.
      this.events.emit('rehash_skipped', { ...context, user_id: profile.user_id, details: { reason: 'password over 72 bytes after NFKC' } })
      return { notImported: profile }
    }
    const hash = await bcryptHash(normalized, this.target.bcryptCost)
    const at = this.target.now()
    const mapped = mapLegacyProfile(
      profile,
      { connection: this.name, usernameMaxLength: this.target.usernameMaxLength },
      { password_hash: hash, legacy_hash: null },
      `migration:${flow}`,
      at,
    )
    if (!mapped.ok) throw await this.conflict(profile.user_id, mapped.problem, context)
    if (opts.weak) {
      // The mark goes in first: a crash in between leaves a mark on nobody, never a weak user unmarked.
      await this.store.getOrCreateSetting(this.name, PASSWORD_CHANGE_REQUIRED + profile.user_id, () => at.toISOString())
    }
    let user: NewStoredUser = {
      ...mapped.user,
      ...(flow === 'login' ? { logins_count: 1, last_login: at } : {}),
      ...(opts.resetAt ? { last_password_reset: opts.resetAt } : {}),
    }
    for (let attempt = 0; attempt < 3; attempt++) {
      const result = await this.store
        .importUser(user, { flow, at, historyLimit: this.target.policy.history, legacyIdentifiers: mapped.legacyIdentifiers })
        .catch((error: unknown) => {
          if (error instanceof LatchkeyError) throw error
          // A write the target refused (a trigger, a constraint, a full disk): one transaction, so nothing was written.
          throw new StoreUnavailableError('The target store could not write the imported user; nothing was written. Try again.', {
            cause: error,
          })
        })
      if (result.ok) {
        this.events.emit('migrated', { ...context, user_id: user.user_id, details: { flow } })
        if (mapped.usernameDropped) await this.conflict(user.user_id, 'username_invalid', context)
        else if (user.username === null && mapped.user.username !== null) await this.conflict(user.user_id, 'username_taken', context)
        return { user: result.user }
      }
      if (result.conflict === 'tombstone') return { tombstoned: true }
      const next = await settleImportClash(this.store, user, result.conflict)
      if (next.kind === 'imported') return { clash: next.existing }
      if (next.kind === 'conflict') throw await this.conflict(user.user_id, next.reason, context)
      // An unverified signup never blocks the legacy owner of the email (pre-account hijacking): it is the conflict.
      if (next.removedSquatter) await this.conflict(next.removedSquatter, 'unverified_signup_removed', context)
      user = next.user
    }
    throw new MigrationConflictError('The legacy user could not be imported: the target kept changing under it. Try again.')
  }

  /** Records a conflict for `migrationStatus()`, emits `migration_conflict`, and returns the error to throw. */
  private async conflict(legacyId: string, reason: string, context: RequestContext): Promise<MigrationConflictError> {
    await this.store.recordMigrationConflict(this.name, { legacyId, reason, at: this.target.now() })
    this.events.emit('migration_conflict', { ...context, user_id: legacyId, details: { reason } })
    return new MigrationConflictError(`The legacy user cannot be imported as it is (${reason}); an admin must resolve it.`)
  }

  /** Whether a legacy password fails the target's policy or breached list. */
  private async failsTargetChecks(password: string, profile: UserProfile): Promise<boolean> {
    try {
      await this.target.checks.enforce(normalizePassword(password), personalInfo(profile), () => undefined)
      return false
    } catch (error) {
      if (error instanceof LatchkeyError && (error.code === 'invalid_password' || error.code === 'password_leaked')) return true
      throw error
    }
  }

  /** The target's policy and breached list for a new password of a legacy user. */
  private async checkNewPassword(password: string, profile: UserProfile, context: RequestContext): Promise<void> {
    const fail = (reason: string) => this.events.emit('fcp', { ...context, user_id: profile.user_id, details: { reason } })
    await this.target.checks.enforce(normalizePassword(password), personalInfo(profile), fail)
  }

  private async writeLegacyPassword(profile: UserProfile, identifier: string, password: string): Promise<void> {
    const email = profile.email ?? (await this.legacy.emailOf(identifier))
    if (!email || !(await this.legacy.changePassword(email, password))) throw new UserNotFoundError()
  }

  private passwordChangeRequired(userId: string, context: RequestContext): PasswordChangeRequiredError {
    this.events.emit('f', { ...context, user_id: userId, details: { reason: 'password_change_required' } })
    return new PasswordChangeRequiredError()
  }

  /** A new password was set: a weak legacy password no longer blocks logins. */
  private async clearPasswordChangeRequired(identifierOrId: string): Promise<void> {
    if (!this.requireReset) return
    const user = (await this.target.credentials.find(identifierOrId)) ?? (await this.store.findUser(this.name, { userId: identifierOrId }))
    if (user) await this.store.deleteSetting(this.name, PASSWORD_CHANGE_REQUIRED + user.user_id)
  }

  private async issueTicket(
    purpose: 'reset' | 'verify',
    email: string,
    opts: TicketOptions | undefined,
    ctx: RequestContext | undefined,
  ): Promise<IssuedTicket | null> {
    const address = parseInput(emailSchema, email)
    const { ttlSeconds } = parseInput(ticketOptionsSchema, opts ?? {})
    const context = parseContext(ctx)
    if ((await this.target.getUser(address)) || !(await this.legacyAnswersFor(address))) {
      return purpose === 'reset'
        ? this.target.createPasswordResetTicket(address, opts, context)
        : this.target.createEmailVerificationTicket(address, opts, context)
    }
    if (purpose === 'verify' && !this.legacy.has('verify')) throw new NotSupportedError('The legacy connection has no verify script')
    const profile = await this.legacy.getUser(address)
    if (!profile) return null
    const issued = await this.target.tickets.issue(
      purpose,
      {
        userId: profile.user_id,
        email: profile.email ?? address,
        emailNormalized: normalizeEmail(profile.email ?? address),
        legacyId: profile.user_id,
      },
      ttlSeconds,
    )
    if (issued && purpose === 'reset') this.events.emit('scpr', { ...context, user_id: profile.user_id })
    return issued
  }
}

function personalInfo(profile: UserProfile) {
  return {
    email: profile.email ?? null,
    username: profile.username ?? null,
    name: profile.name ?? null,
    nickname: profile.nickname ?? null,
    user_metadata: profile.user_metadata ?? null,
  }
}

function reasonOf(error: unknown): string {
  return error instanceof LatchkeyError ? error.code : 'error'
}
