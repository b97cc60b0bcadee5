import { z } from 'zod'
import { AttackProtection, attackProtectionSchema, type AttackProtectionOptions } from '../attack/attack-protection.js'
import type { LoginLease } from '../attack/login-lease.js'
import {
  InvalidInputError,
  InvalidTicketError,
  LatchkeyError,
  UnauthorizedError,
  UserExistsError,
  UserNotFoundError,
  WrongUsernameOrPasswordError,
} from '../errors/errors.js'
import { ConnectionEvents, type EventFields } from '../events/connection-events.js'
import type { EventListener, LatchkeyEventType } from '../events/events.js'
import { invalidInput, parseInput } from '../input/parse-input.js'
import {
  changeEmailOptionsSchema,
  changeOwnPasswordInputSchema,
  identifierSchema,
  loginInputSchema,
  passwordSchema,
  signupInputSchema,
  ticketOptionsSchema,
  ticketTokenSchema,
  userIdSchema,
  userPatchSchema,
} from '../input/schemas.js'
import { bcryptCompare, bcryptHash } from '../password/hash-pool.js'
import { bcryptCostFloor, DEFAULT_BCRYPT_COST } from '../password/bcrypt-cost-floor.js'
import { fitsBcrypt, normalizePassword } from '../password/password-text.js'
import { breachedPasswordsOptionSchema, PasswordChecks } from '../password/password-checks.js'
import { type PasswordPolicy, passwordPolicyOptionsSchema, type PersonalInfo } from '../password/policy.js'
import { emailSchema, normalizeEmail } from '../profile/email.js'
import type { UserProfile } from '../profile/profile-schema.js'
import { DEFAULT_USERNAME_MAX_LENGTH, normalizeUsername, USERNAME_MAX_LENGTH_LIMIT, usernameIssues } from '../profile/username.js'
import type { StoredUser, TicketPurpose, UserStore } from '../store/user-store.js'
import { issueOffPath } from '../tickets/issue-off-path.js'
import { TicketIssuer, ticketSettingsSchema } from '../tickets/ticket-issuer.js'
import type {
  ChangeOwnPasswordInput,
  DatabaseConnection,
  IssuedTicket,
  IpContextArgs,
  LoginInput,
  RequestContext,
  SignupInput,
  TicketOptions,
  UserPatch,
} from './database-connection.js'
import { parseContext } from './request-context.js'
import { emitRecordedLogin, StoredCredentials, type StoredVerdict } from './stored-credentials.js'
import { toUserProfile } from './user-profile.js'
import { newUserId } from './new-user-id.js'

/** Options of a {@link BuiltinConnection}; every one is validated at construction. */
export const builtinConnectionOptionsSchema = z
  .strictObject({
    /** The connection's name: scopes its users in the store and appears in events. */
    name: z
      .string()
      .min(1)
      .max(128)
      .regex(/^[A-Za-z0-9._\-]+$/, 'letters, digits, dot, dash and underscore only'),
    /** Where users live. The connection never closes it; the host does. */
    store: z.custom<UserStore>((v) => typeof v === 'object' && v !== null && 'findUser' in v, 'must be a UserStore'),
    passwordPolicy: passwordPolicyOptionsSchema.optional(),
    /** Makes `username` required at signup. */
    requireUsername: z.boolean().optional(),
    /** Longest allowed username, 1–128; default 15. */
    usernameMaxLength: z.number().int().min(1).max(USERNAME_MAX_LENGTH_LIMIT).optional(),
    /**
     * bcrypt cost for new hashes (10–31, default 10; ASVS 11.4.2). A hash of a lower cost is re-hashed at login; a
     * higher one is kept. Below 10 only with `unsafeLowCostForTests`.
     */
    bcryptCost: z.number().int().min(4).max(31).optional(),
    /** Allows a `bcryptCost` from 4 to 9, which is too cheap to store real passwords: for test suites only. */
    unsafeLowCostForTests: z.boolean().optional(),
    /** Ticket lifetimes and the hourly issuance limit; see {@link TicketSettings}. */
    tickets: ticketSettingsSchema.optional(),
    /** Brute-force blocking, IP throttling and signup limits; on by default. `false` turns it off. */
    attackProtection: attackProtectionSchema.optional(),
    /** Refuses leaked passwords at signup, change and reset with PasswordLeakedError. On by default; `false` turns it off. */
    breachedPasswords: breachedPasswordsOptionSchema.optional(),
    /** Receives every event. A throwing listener is reported as a process warning. */
    onEvent: z.custom<EventListener>((v) => typeof v === 'function', 'must be a function').optional(),
    /** The clock, injectable for tests. */
    now: z.custom<() => Date>((v) => typeof v === 'function', 'must be a function').optional(),
  })
  .check(bcryptCostFloor)

export type BuiltinConnectionOptions = z.input<typeof builtinConnectionOptionsSchema>

/**
 * A database connection whose users live in latchkey's own store, with bcrypt hashing,
 * password policy and tickets.
 *
 * @example
 * const store = await openStore('sqlite:users.db')
 * const users = new BuiltinConnection({ name: 'users', store, passwordPolicy: { minLength: 8, dictionary: true }, breachedPasswords: true })
 * await users.signup({ email: 'ada@example.com', password: 'Analytical-Engine-1843' }, { ip })
 * const profile = await users.login({ identifier: 'ada@example.com', password }, { ip })
 */
export class BuiltinConnection<Protection extends AttackProtectionOptions | undefined = AttackProtectionOptions | undefined>
  implements DatabaseConnection
{
  readonly name: string
  readonly store: UserStore
  readonly policy: PasswordPolicy
  readonly bcryptCost: number
  private readonly requireUsername: boolean
  /** Longest username this connection accepts. */
  readonly usernameMaxLength: number
  // Shared with a migrating connection over this one, which owns counters, tickets and events under the same name.
  /** @internal */ readonly tickets: TicketIssuer
  /** @internal */ readonly events: ConnectionEvents
  /** @internal */ readonly protection: AttackProtection
  /** @internal */ readonly checks: PasswordChecks
  /** @internal */ readonly now: () => Date
  private readonly options: BuiltinConnectionOptions
  /** The credentials in this connection's store; the migrating connection verifies through them too. */
  readonly credentials: StoredCredentials

  constructor(options: BuiltinConnectionOptions & { attackProtection?: Protection }) {
    const o = parseInput(builtinConnectionOptionsSchema, options)
    this.options = options
    this.name = o.name
    this.store = o.store
    this.checks = new PasswordChecks(o.passwordPolicy, o.breachedPasswords)
    this.policy = this.checks.policy
    this.bcryptCost = o.bcryptCost ?? DEFAULT_BCRYPT_COST
    this.requireUsername = o.requireUsername ?? false
    this.usernameMaxLength = o.usernameMaxLength ?? DEFAULT_USERNAME_MAX_LENGTH
    this.now = o.now ?? (() => new Date())
    this.events = new ConnectionEvents(this.name, o.onEvent, this.now, this.store)
    this.tickets = new TicketIssuer(this.name, this.store, this.now, o.tickets, (email) => this.events.hashIdentifier(email))
    this.protection = new AttackProtection(o.attackProtection, this.name, this.store, this.events, this.now)
    this.credentials = new StoredCredentials(this.name, this.store, this.bcryptCost, this.now)
  }

  /**
   * Creates a user. The password is hashed before the store is asked whether the user
   * exists, so both outcomes take the same time.
   *
   * @throws UserExistsError, PasswordPolicyError, InvalidInputError
   */
  signup(input: SignupInput, ...ctx: IpContextArgs<Protection>): Promise<UserProfile>
  async signup(input: SignupInput, ctx?: RequestContext): Promise<UserProfile> {
    return this.signupWith(input, ctx, async () => undefined)
  }

  /**
   * @internal Signup with one more check, `elsewhere`, run after the policy and before the
   * password is hashed: a migrating connection asks its legacy store there. What it
   * throws fails the signup.
   */
  async signupWith(
    input: SignupInput,
    ctx: RequestContext | undefined,
    elsewhere: (email: string, username: string | null) => Promise<void>,
  ): Promise<UserProfile> {
    const { email, password, username, user_metadata } = parseInput(signupInputSchema, input)
    const context = parseContext(ctx)
    let usernameNormalized: string | null = null
    if (username !== undefined) {
      const issues = usernameIssues(username, this.usernameMaxLength)
      if (issues.length > 0) throw new InvalidInputError(issues)
      usernameNormalized = normalizeUsername(username)
    } else if (this.requireUsername) {
      invalidInput(['username'], 'is required on this connection', 'invalid_type')
    }
    await this.protection.signupAllowed(context)
    const normalized = normalizePassword(password)
    const fail = (reason: string) => this.emit('fs', { ...context, details: { reason } })
    await this.checks.enforce(normalized, { email, username: usernameNormalized, user_metadata: user_metadata ?? null }, fail)
    try {
      await elsewhere(email, usernameNormalized)
    } catch (error) {
      fail(error instanceof LatchkeyError ? error.code : 'error')
      throw error
    }
    const hash = await bcryptHash(normalized, this.bcryptCost)
    const at = this.now()
    const result = await this.store.insertUser(
      {
        connection: this.name,
        user_id: newUserId(at.getTime()),
        email,
        email_normalized: normalizeEmail(email),
        email_verified: false,
        username: usernameNormalized,
        password_hash: hash,
        legacy_hash: null,
        name: null,
        given_name: null,
        family_name: null,
        nickname: null,
        picture: null,
        user_metadata: user_metadata ?? {},
        app_metadata: {},
        blocked: false,
        created_at: at,
        updated_at: at,
        origin: 'signup',
      },
      { historyLimit: this.policy.history },
    )
    if (!result.ok) {
      fail('user_exists')
      throw new UserExistsError(result.conflict === 'username' ? 'The username is already taken.' : 'The user already exists.')
    }
    this.emit('ss', { ...context, user_id: result.user.user_id })
    return toUserProfile(result.user)
  }

  /**
   * Logs a user in by email or username. An unknown user and a wrong password give the
   * same error after the same bcrypt work. A right password for a blocked user gives
   * `UnauthorizedError('user is blocked')`.
   *
   * @throws WrongUsernameOrPasswordError, UnauthorizedError, InvalidInputError
   */
  login(input: LoginInput, ...ctx: IpContextArgs<Protection>): Promise<UserProfile>
  async login(input: LoginInput, ctx?: RequestContext): Promise<UserProfile> {
    const { identifier, password } = parseInput(loginInputSchema, input)
    const context = parseContext(ctx)
    // A known user's counters are the user's, whichever identifier was typed, so the lookup comes first.
    const user = await this.credentials.find(identifier)
    const lease = await this.protection.begin(identifier, context, user?.user_id ?? null)
    try {
      return await this.loginStored(user, identifier, password, context, lease)
    } finally {
      await lease.release()
    }
  }

  /**
   * @internal Judges a password against a user of this store (or none: a dummy compare)
   * under an attempt's lease, and reports the verdict on it.
   */
  async loginStored(
    user: StoredUser | null,
    identifier: string,
    password: string,
    context: RequestContext,
    lease: LoginLease,
    known?: StoredVerdict,
  ): Promise<UserProfile> {
    const verdict = known ?? (await this.credentials.verify(user, password))
    if (!verdict.matches) {
      lease.wrongPassword()
      if (user && verdict.known) this.emit('fp', { ...context, user_id: user.user_id })
      else this.emit('fu', { ...context, identifier_hash: await this.hashIdentifier(identifier) })
      throw new WrongUsernameOrPasswordError()
    }
    if (user!.blocked) {
      this.emit('f', { ...context, user_id: user!.user_id, details: { reason: 'blocked' } })
      throw new UnauthorizedError('user is blocked')
    }
    const settled = lease.match()
    const login = await this.credentials.record(user!, password, verdict)
    await settled
    emitRecordedLogin(this.events, user!.user_id, login, context)
    return login.profile
  }

  /**
   * @internal A connection with this one's store, name and settings whose events go to
   * `onEvent` instead: a migrating connection's view of its target.
   */
  withEventListener(onEvent: EventListener | undefined): BuiltinConnection {
    const { onEvent: _own, ...rest } = this.options
    return new BuiltinConnection(onEvent ? { ...rest, onEvent } : rest)
  }

  /**
   * Lifts every IP pair, the account lock and the account's delays of a user, under each of
   * their identifiers (email and username) and the counters they share, whichever one is
   * given; an identifier that is no user's is unblocked as given. An admin call; a
   * successful password reset does the same.
   */
  async unblock(identifier: string): Promise<void> {
    const id = parseInput(identifierSchema, identifier)
    const user = await this.findByIdentifier(id)
    await this.protection.unblockAll([id, user?.email, user?.username], 'admin', user?.user_id ?? null)
  }

  /** A user by email or username, or null. */
  async getUser(identifier: string): Promise<UserProfile | null> {
    const user = await this.findByIdentifier(parseInput(identifierSchema, identifier))
    return user ? toUserProfile(user) : null
  }

  /** A user by `user_id`, or null. */
  async getUserById(userId: string): Promise<UserProfile | null> {
    const user = await this.store.findUser(this.name, { userId: parseInput(userIdSchema, userId) })
    return user ? toUserProfile(user) : null
  }

  /**
   * An admin call: patches profile fields, `user_metadata` and `app_metadata` (replaced
   * whole), `blocked` and `email_verified`.
   *
   * @throws UserNotFoundError, InvalidInputError
   */
  async updateUser(userId: string, patch: UserPatch): Promise<UserProfile> {
    const id = parseInput(userIdSchema, userId)
    const p = parseInput(userPatchSchema, patch)
    const updated = await this.store.updateUser(this.name, id, { ...dropUndefined(p), at: this.now() })
    if (!updated) throw new UserNotFoundError()
    return toUserProfile(updated)
  }

  /**
   * The admin call: sets a new password for the user named by email or username, without
   * the current one, after the policy (history included). Voids the user's open reset
   * tickets. An end user changing their own password goes through {@link changeOwnPassword}.
   *
   * @throws UserNotFoundError, PasswordPolicyError, InvalidInputError
   */
  async changePassword(identifier: string, newPassword: string, ctx?: RequestContext): Promise<void> {
    const id = parseInput(identifierSchema, identifier)
    const password = parseInput(passwordSchema, newPassword)
    const context = parseContext(ctx)
    const user = await this.findByIdentifier(id)
    if (!user) {
      this.emit('fcp', { ...context, identifier_hash: await this.hashIdentifier(id), details: { reason: 'user_not_found' } })
      throw new UserNotFoundError()
    }
    await this.setPasswordFor(user, password, context, undefined)
  }

  /**
   * The end user's password change (ASVS 6.2.3): the current password is verified under the
   * same brute-force counters as login (a wrong one counts as a failed login, a blocked pair
   * is refused before any bcrypt work), then the new one goes through the policy, history
   * and breached list. An unknown user and a wrong current password give the same error.
   * Voids the user's open reset tickets.
   *
   * @example
   * await users.changeOwnPassword({ identifier: session.email, currentPassword, newPassword }, { ip: req.ip })
   * @throws WrongUsernameOrPasswordError, TooManyAttemptsError, PasswordPolicyError, PasswordLeakedError, UnauthorizedError
   */
  changeOwnPassword(input: ChangeOwnPasswordInput, ...ctx: IpContextArgs<Protection>): Promise<UserProfile>
  async changeOwnPassword(input: ChangeOwnPasswordInput, ctx?: RequestContext): Promise<UserProfile> {
    const { identifier, currentPassword, newPassword } = parseInput(changeOwnPasswordInputSchema, input)
    const context = parseContext(ctx)
    // The same counters as login: a known user's, whichever identifier was typed.
    const user = await this.credentials.find(identifier)
    const lease = await this.protection.begin(identifier, context, user?.user_id ?? null)
    try {
      // An unknown user pays the dummy compare inside verify, as at login.
      const verdict = await this.credentials.verify(user, currentPassword)
      if (!user || !verdict.matches) {
        lease.wrongPassword()
        const who = user ? { user_id: user.user_id } : { identifier_hash: await this.hashIdentifier(identifier) }
        this.emit('fcp', { ...context, ...who, details: { reason: 'invalid_user_password' } })
        throw new WrongUsernameOrPasswordError()
      }
      if (user.blocked) {
        this.emit('fcp', { ...context, user_id: user.user_id, details: { reason: 'blocked' } })
        throw new UnauthorizedError('user is blocked')
      }
      await lease.match()
      return await this.setPasswordFor(user, newPassword, context, undefined)
    } finally {
      await lease.release()
    }
  }

  /** Marks the user's email verified. @throws UserNotFoundError */
  async verifyEmail(email: string): Promise<void> {
    const user = await this.findByEmail(parseInput(emailSchema, email))
    if (!user) throw new UserNotFoundError()
    const updated = await this.store.updateUser(this.name, user.user_id, { email_verified: true, at: this.now() })
    if (!updated) throw new UserNotFoundError()
    this.emit('sv', { user_id: user.user_id })
  }

  /**
   * Changes a user's email. The new email is unverified unless `verified` is set. Open
   * reset tickets are voided, and verification tickets for the old email stop working.
   *
   * @throws UserNotFoundError, UserExistsError, InvalidInputError
   */
  async changeEmail(email: string, newEmail: string, opts?: { verified?: boolean }): Promise<void> {
    const from = parseInput(emailSchema, email)
    const to = parseInput(emailSchema, newEmail)
    const { verified } = parseInput(changeEmailOptionsSchema, opts ?? {})
    const user = await this.findByEmail(from)
    if (!user) throw new UserNotFoundError()
    const result = await this.store.changeEmail(this.name, user.user_id, {
      email: to,
      emailNormalized: normalizeEmail(to),
      verified: verified ?? false,
      at: this.now(),
    })
    if (result === 'no_user') throw new UserNotFoundError()
    if (result === 'conflict') throw new UserExistsError('Another user has that email.')
    this.emit('sce', { user_id: user.user_id })
  }

  /** Deletes a user and their password history. @throws UserNotFoundError */
  async deleteUser(userId: string): Promise<void> {
    const id = parseInput(userIdSchema, userId)
    if (!(await this.store.deleteUser(this.name, id))) throw new UserNotFoundError()
    this.emit('du', { user_id: id })
  }

  /**
   * Issues a password-reset ticket, or returns null for an unknown email and for an email
   * past the hourly issuance limit, so the two cannot be told apart. Answer the end user
   * the same way either way, and send the mail off the request path.
   */
  async createPasswordResetTicket(email: string, opts?: TicketOptions, ctx?: RequestContext): Promise<IssuedTicket | null> {
    return this.issueTicket('reset', email, opts, ctx)
  }

  /**
   * Redeems a reset ticket. The policy is checked first; only then, in the transaction
   * that writes the password, is the ticket consumed and the user's other reset tickets
   * voided. Of concurrent redemptions of one ticket, exactly one succeeds.
   *
   * @throws InvalidTicketError, PasswordPolicyError, InvalidInputError
   */
  async resetPassword(ticket: string, newPassword: string, ctx?: RequestContext): Promise<UserProfile> {
    const token = parseInput(ticketTokenSchema, ticket)
    const password = parseInput(passwordSchema, newPassword)
    const context = parseContext(ctx)
    const record = await this.tickets.live(token, 'reset')
    const user = record && (await this.store.findUser(this.name, { userId: record.user_id }))
    if (!record || !user || user.email_normalized !== record.email_normalized) {
      this.emit('fcp', { ...context, details: { reason: 'invalid_ticket' } })
      throw new InvalidTicketError()
    }
    return this.setPasswordFor(user, password, context, record.token_hash)
  }

  /** Issues an email-verification ticket for the user's current email; null as for reset tickets. */
  async createEmailVerificationTicket(email: string, opts?: TicketOptions, ctx?: RequestContext): Promise<IssuedTicket | null> {
    return this.issueTicket('verify', email, opts, ctx)
  }

  /**
   * Verifies the email a ticket was issued for. Void once the user's email has changed.
   *
   * @throws InvalidTicketError, InvalidInputError
   */
  async verifyEmailWithTicket(ticket: string, ctx?: RequestContext): Promise<UserProfile> {
    const token = parseInput(ticketTokenSchema, ticket)
    const context = parseContext(ctx)
    const record = await this.tickets.live(token, 'verify')
    const outcome = record ? await this.store.redeemVerificationTicket(record.token_hash, this.now()) : null
    if (!outcome || outcome.result !== 'ok') {
      this.emit('fv', { ...context, details: { reason: 'invalid_ticket' } })
      throw new InvalidTicketError()
    }
    this.emit('sv', { ...context, user_id: outcome.user.user_id })
    return toUserProfile(outcome.user)
  }

  // ---- internals -------------------------------------------------------------------

  private async setPasswordFor(
    user: StoredUser,
    password: string,
    context: RequestContext,
    ticketHash: string | undefined,
  ): Promise<UserProfile> {
    const normalized = normalizePassword(password)
    const fail = (reason: string) => this.emit('fcp', { ...context, user_id: user.user_id, details: { reason } })
    const history =
      this.policy.history > 0
        ? [
            {
              id: 'history',
              message: `Not one of your last ${this.policy.history} passwords`,
              verified: !(await this.inHistory(user, normalized)),
            },
          ]
        : []
    await this.checks.enforce(normalized, personalInfoOf(user), fail, history)
    const hash = await bcryptHash(normalized, this.bcryptCost)
    const at = this.now()
    const result = await this.store.setPassword(this.name, user.user_id, {
      hash,
      at,
      historyLimit: this.policy.history,
      ...(ticketHash ? { ticket: { tokenHash: ticketHash } } : {}),
    })
    if (result === 'invalid_ticket') {
      fail('invalid_ticket')
      throw new InvalidTicketError()
    }
    if (result === 'no_user') {
      fail('user_not_found')
      throw new UserNotFoundError()
    }
    this.emit('scp', { ...context, user_id: user.user_id, ...(ticketHash ? { details: { via: 'reset_ticket' } } : {}) })
    if (ticketHash) {
      // Proving control of the email lifts brute-force blocks on every identifier of the user.
      await this.protection.unblockAll([user.email, user.username], 'password_reset', user.user_id)
    }
    return toUserProfile({ ...user, updated_at: at, ...(ticketHash ? { last_password_reset: at } : {}) })
  }

  private async inHistory(user: StoredUser, normalized: string): Promise<boolean> {
    if (!fitsBcrypt(normalized)) return false
    const hashes = new Set(await this.store.passwordHistory(this.name, user.user_id, this.policy.history))
    if (user.password_hash) hashes.add(user.password_hash)
    const matches = await Promise.all([...hashes].map((h) => bcryptCompare(normalized, h)))
    return matches.some(Boolean)
  }

  private async issueTicket(
    purpose: TicketPurpose,
    email: string,
    opts: TicketOptions | undefined,
    ctx: RequestContext | undefined,
  ): Promise<IssuedTicket | null> {
    const address = parseInput(emailSchema, email)
    const { ttlSeconds, deliver } = parseInput(ticketOptionsSchema, opts ?? {})
    const context = parseContext(ctx)
    this.tickets.checkTtl(ttlSeconds)
    const issue = async () => {
      const user = await this.findByEmail(address)
      if (!user || user.email_normalized === null) return null
      const issued = await this.tickets.issue(
        purpose,
        { userId: user.user_id, email: user.email ?? address, emailNormalized: user.email_normalized },
        ttlSeconds,
      )
      if (issued && purpose === 'reset') this.emit('scpr', { ...context, user_id: user.user_id })
      return issued
    }
    return deliver ? issueOffPath(issue, deliver) : issue()
  }

  private findByEmail(email: string): Promise<StoredUser | null> {
    return this.store.findUser(this.name, { emailNormalized: normalizeEmail(email) })
  }

  private findByIdentifier(identifier: string): Promise<StoredUser | null> {
    return this.credentials.find(identifier)
  }

  /** A keyed HMAC of the normalised identifier; the key is per connection and shared by every process. */
  hashIdentifier(identifier: string): Promise<string> {
    return this.events.hashIdentifier(identifier)
  }

  private emit(type: LatchkeyEventType, fields: EventFields): void {
    this.events.emit(type, fields)
  }
}

function personalInfoOf(user: StoredUser): PersonalInfo {
  return { email: user.email, username: user.username, name: user.name, nickname: user.nickname, user_metadata: user.user_metadata }
}

function dropUndefined<T extends object>(value: T): { [K in keyof T]: Exclude<T[K], undefined> } {
  return Object.fromEntries(Object.entries(value).filter(([, v]) => v !== undefined)) as { [K in keyof T]: Exclude<T[K], undefined> }
}
