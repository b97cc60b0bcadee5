import { randomBytes } from 'node:crypto'
import { z } from 'zod'
import {
  InvalidTicketError,
  LatchkeyError,
  NotSupportedError,
  ScriptError,
  ScriptTimeoutError,
  UnauthorizedError,
  UserExistsError,
  UserNotFoundError,
  WrongUsernameOrPasswordError,
} from '../errors/errors.js'
import { AttackProtection, attackProtectionSchema, type AttackProtectionOptions } from '../attack/attack-protection.js'
import { ConnectionEvents, type EventFields } from '../events/connection-events.js'
import type { EventListener } from '../events/events.js'
import { parseInput } from '../input/parse-input.js'
import { breachedPasswordsOptionSchema, PasswordChecks } from '../password/password-checks.js'
import { normalizePassword } from '../password/password-text.js'
import { passwordPolicyOptionsSchema, type PersonalInfo } from '../password/policy.js'
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
} from '../input/schemas.js'
import { emailSchema, isEmail, normalizeEmail } from '../profile/email.js'
import type { UserProfile } from '../profile/profile-schema.js'
import type { ScriptRunner } from '../script/script-runner.js'
import type { AttackCounterStore } from '../store/attack-counter-store.js'
import type { SettingStore } from '../store/setting-store.js'
import type { TicketPurpose, TicketStore } from '../store/ticket-store.js'
import { issueOffPath } from '../tickets/issue-off-path.js'
import { TicketIssuer, ticketSettingsSchema } from '../tickets/ticket-issuer.js'
import { ticketTokenHash } from '../tickets/ticket-token.js'
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
import { ScriptCalls, type ScriptName } from './script-calls.js'
import { egressSchema } from '../script/egress-allow.js'

const scriptSource = z
  .string()
  .min(1)
  .max(512 * 1024)

/** The scripts of a custom-script connection; only `login` is required. */
export const customScriptsSchema = z.strictObject({
  login: scriptSource,
  create: scriptSource.optional(),
  verify: scriptSource.optional(),
  change_password: scriptSource.optional(),
  get_user: scriptSource.optional(),
  delete: scriptSource.optional(),
  change_email: scriptSource.optional(),
})
export type CustomScripts = z.input<typeof customScriptsSchema>

/** Options of a {@link CustomScriptConnection}; every one is validated at construction. */
export const customScriptConnectionOptionsSchema = z
  .strictObject({
    /** The connection's name: its scope in the store, its name in events. */
    name: z
      .string()
      .min(1)
      .max(128)
      .regex(/^[A-Za-z0-9._\-]+$/, 'letters, digits, dot, dash and underscore only'),
    /** Runs the scripts. The connection never closes it; the host does. */
    runner: z.custom<ScriptRunner>((v) => typeof v === 'object' && v !== null && 'run' in v, 'must be a ScriptRunner'),
    scripts: customScriptsSchema,
    /** String values visible to scripts as the frozen `configuration`; redacted from every log and error. */
    configuration: z.record(z.string().max(256), z.string().max(64 * 1024)).optional(),
    /** Hosts (host or host:port; no wildcards) the scripts may reach. Default: none. */
    egress: egressSchema.optional(),
    /** Wall-clock limit of each script run, in ms. Default: the runner's. */
    timeoutMs: z.number().int().min(10).max(600_000).optional(),
    /**
     * Where tickets and attack-protection counters live. Required unless `attackProtection: false`:
     * without it nothing could count failed logins, and that must be said, not silent.
     */
    store: z.custom<CustomScriptStore>((v) => typeof v === 'object' && v !== null && 'findTicket' in v, 'must be a UserStore').optional(),
    tickets: ticketSettingsSchema.optional(),
    /**
     * Brute-force blocking, IP throttling and signup limits; on by default and counted in `store`.
     * `false` is for a connection protected by its owner, such as the legacy side of a migrating connection.
     */
    attackProtection: attackProtectionSchema.optional(),
    /**
     * The password policy, checked before `create`, `change_password` and a reset reach the scripts, as on a built-in
     * connection. No `history`: the legacy store's old hashes are out of reach.
     */
    passwordPolicy: passwordPolicyOptionsSchema.omit({ history: true }).optional(),
    /** Refuses leaked passwords before `create`, `change_password` and a reset reach the scripts. As on a built-in connection. */
    breachedPasswords: breachedPasswordsOptionSchema.optional(),
    /** Receives every event. A throwing listener is reported as a process warning. */
    onEvent: z.custom<EventListener>((v) => typeof v === 'function', 'must be a function').optional(),
    /** The clock, injectable for tests. */
    now: z.custom<() => Date>((v) => typeof v === 'function', 'must be a function').optional(),
  })
  .superRefine((o, ctx) => {
    if (o.store === undefined && o.attackProtection !== false) {
      ctx.addIssue({
        code: 'custom',
        path: ['store'],
        message: 'is required for attack protection: pass a store, or attackProtection: false if something else protects this connection',
      })
    }
  })
export type CustomScriptConnectionOptions = z.input<typeof customScriptConnectionOptionsSchema>

/**
 * The store roles a custom-script connection uses: tickets, attack-protection counters,
 * and settings (its identifier HMAC key). Users stay in the legacy store. Any `UserStore` has them.
 */
export type CustomScriptStore = TicketStore & AttackCounterStore & SettingStore

/**
 * A database connection whose users live in someone's legacy store, reached by scripts
 * that run in the sandbox (SPEC §3). Profiles that scripts return are validated;
 * script errors map to SDK errors; passwords and configuration values are redacted.
 *
 * @example
 * const runner = new QuickJsRunner()
 * const legacy = new CustomScriptConnection({
 *   name: 'legacy', runner, scripts: { login, get_user, create },
 *   configuration: { DB_PASSWORD: process.env.LEGACY_DB_PASSWORD! },
 *   egress: { allow: ['legacy-db.internal:3306'] }, store, // counters for attack protection; tickets
 * })
 * const profile = await legacy.login({ identifier: 'ada@example.com', password }, { ip })
 */
export class CustomScriptConnection<Protection extends AttackProtectionOptions | undefined = AttackProtectionOptions | undefined>
  implements DatabaseConnection
{
  readonly name: string
  private readonly runner: ScriptRunner
  private readonly scripts: z.output<typeof customScriptsSchema>
  private readonly configuration: Record<string, string>
  private readonly egress: { allow: string[] }
  private readonly timeoutMs: number | undefined
  private readonly store: CustomScriptStore | undefined
  private readonly tickets: TicketIssuer | undefined
  private readonly events: ConnectionEvents
  private readonly protection: AttackProtection
  private readonly checks: PasswordChecks
  private readonly now: () => Date
  /** The scripts as plain calls, the login script as a credentials verifier. */
  private readonly calls: ScriptCalls
  /**
   * This connection's key in the runner (its `global` and other per-connection state):
   * unguessable and made here, so a connection that picks another's name gets nothing of it.
   */
  private readonly handle = randomBytes(32).toString('base64url')
  private closed = false

  constructor(options: CustomScriptConnectionOptions & { attackProtection?: Protection }) {
    const o = parseInput(customScriptConnectionOptionsSchema, options)
    this.name = o.name
    this.runner = o.runner
    this.scripts = o.scripts
    this.configuration = o.configuration ?? {}
    this.egress = o.egress ?? { allow: [] }
    this.timeoutMs = o.timeoutMs
    this.store = o.store
    this.now = o.now ?? (() => new Date())
    this.events = new ConnectionEvents(this.name, o.onEvent, this.now, o.store)
    this.tickets = o.store
      ? new TicketIssuer(this.name, o.store, this.now, o.tickets, (email) => this.events.hashIdentifier(email))
      : undefined
    this.protection = new AttackProtection(o.attackProtection, this.name, o.store, this.events, this.now)
    this.checks = new PasswordChecks(o.passwordPolicy, o.breachedPasswords)
    this.calls = this.scriptCalls(this.events)
  }

  /** Whether this connection counts failed logins itself (attack protection on, with a store). */
  get protectsItself(): boolean {
    return this.protection.enabled
  }

  /**
   * This connection's scripts as plain calls whose `script_error` events go to `events`,
   * for a connection that owns the events and counters, such as a migrating connection.
   */
  scriptCalls(events: ConnectionEvents): ScriptCalls {
    return new ScriptCalls(
      (script, args, secrets, sink) => this.run(script, args, secrets, sink),
      (script) => this.has(script),
      events,
    )
  }

  /**
   * Drops what the runner keeps for this connection (its `global`, host-side caches).
   * The runner and store stay open: the host owns them. Later calls that run a script
   * throw NotSupportedError.
   */
  async close(): Promise<void> {
    if (this.closed) return
    this.closed = true
    await this.runner.forget(this.handle)
  }

  /**
   * Lifts every IP pair and the account lock of an identifier and, with a `get_user`
   * script, of the user's other identifiers (email and username) too.
   */
  async unblock(identifier: string): Promise<void> {
    const id = parseInput(identifierSchema, identifier)
    await this.protection.unblockAll([id])
    if (!this.has('get_user')) return
    const profile = await this.calls.getUser(id)
    if (profile) await this.protection.unblockAll([profile.email, profile.username].filter((other) => other && other !== id))
  }

  /** Whether a script for this operation was given. */
  has(script: ScriptName): boolean {
    return this.scripts[script] !== undefined
  }

  /**
   * Signup is `get_user` (if present; a profile means the user exists), then `create`,
   * then `login` with the same email and password, whose profile is returned.
   *
   * @throws UserExistsError, NotSupportedError, ScriptError
   */
  signup(input: SignupInput, ...ctx: IpContextArgs<Protection>): Promise<UserProfile>
  async signup(input: SignupInput, ctx?: RequestContext): Promise<UserProfile> {
    const { email, password, username, user_metadata } = parseInput(signupInputSchema, input)
    const context = parseContext(ctx)
    this.require('create')
    await this.protection.signupAllowed(context)
    try {
      await this.checkNewPassword(password, { email, username: username ?? null, user_metadata: user_metadata ?? null })
      if (this.has('get_user') && (await this.calls.getUser(email))) throw new UserExistsError()
      await this.calls.create({
        email,
        password,
        ...(username === undefined ? {} : { username }),
        ...(user_metadata === undefined ? {} : { user_metadata }),
        connection: this.name,
      })
      const profile = await this.calls.verify(email, password)
      if (!profile) throw new ScriptError('The login script did not find the user that create had just created', { scriptName: 'login' })
      this.events.emit('ss', { ...context, user_id: profile.user_id })
      return profile
    } catch (error) {
      this.events.emit('fs', { ...context, identifier_hash: await this.events.hashIdentifier(email), details: { reason: reasonOf(error) } })
      throw error
    }
  }

  /**
   * Runs the `login` script. "No" (a WrongUsernameOrPasswordError or an empty answer)
   * gives WrongUsernameOrPasswordError; a profile with `blocked: true` gives
   * UnauthorizedError('user is blocked').
   */
  login(input: LoginInput, ...ctx: IpContextArgs<Protection>): Promise<UserProfile>
  async login(input: LoginInput, ctx?: RequestContext): Promise<UserProfile> {
    const { identifier, password } = parseInput(loginInputSchema, input)
    const context = parseContext(ctx)
    // A blocked pair is refused here, before the login script runs.
    const lease = await this.protection.begin(identifier, context)
    try {
      let profile: UserProfile | null
      try {
        profile = await this.calls.verify(identifier, password)
      } catch (error) {
        this.events.emit('f', {
          ...context,
          identifier_hash: await this.events.hashIdentifier(identifier),
          details: { reason: reasonOf(error) },
        })
        throw error
      }
      if (!profile) {
        // A script's "no" does not say whether the user exists, so it counts as a wrong password.
        lease.wrongPassword()
        this.events.emit('fp', { ...context, identifier_hash: await this.events.hashIdentifier(identifier) })
        throw new WrongUsernameOrPasswordError()
      }
      if (profile.blocked) {
        this.events.emit('f', { ...context, user_id: profile.user_id, details: { reason: 'blocked' } })
        throw new UnauthorizedError('user is blocked')
      }
      await lease.match()
      this.events.emit('s', { ...context, user_id: profile.user_id })
      return profile
    } finally {
      await lease.release()
    }
  }

  /** Runs `get_user`; null when the script answers with nothing. */
  async getUser(identifier: string): Promise<UserProfile | null> {
    const id = parseInput(identifierSchema, identifier)
    this.require('get_user')
    return this.calls.getUser(id)
  }

  /** No script reads a user by id: always NotSupportedError. */
  async getUserById(userId: string): Promise<UserProfile | null> {
    parseInput(userIdSchema, userId)
    throw new NotSupportedError('getUserById is not supported by a custom-script connection: no script reads a user by id')
  }

  /** No script updates a profile: always NotSupportedError. */
  async updateUser(userId: string, _patch: UserPatch): Promise<UserProfile> {
    parseInput(userIdSchema, userId)
    throw new NotSupportedError('updateUser is not supported by a custom-script connection: no script updates a profile')
  }

  /**
   * The admin call: runs `change_password(email, newPassword)` without the current password,
   * after the connection's password policy and breached list (the legacy store's own rules
   * apply too). A username is turned into the email through `get_user` first. End users go
   * through {@link changeOwnPassword}.
   *
   * @throws UserNotFoundError when the script answers false, PasswordPolicyError, PasswordLeakedError
   */
  async changePassword(identifier: string, newPassword: string, ctx?: RequestContext): Promise<void> {
    const id = parseInput(identifierSchema, identifier)
    const password = parseInput(passwordSchema, newPassword)
    const context = parseContext(ctx)
    this.require('change_password')
    try {
      await this.checkNewPassword(password, isEmail(id) ? { email: id } : { username: id })
      const email = await this.calls.emailOf(id)
      if (!email || !(await this.calls.changePassword(email, password))) throw new UserNotFoundError()
      await this.voidTickets({ emailNormalized: normalizeEmail(email) })
      this.events.emit('scp', { ...context, identifier_hash: await this.events.hashIdentifier(email) })
    } catch (error) {
      this.events.emit('fcp', { ...context, identifier_hash: await this.events.hashIdentifier(id), details: { reason: reasonOf(error) } })
      throw error
    }
  }

  /**
   * The end user's password change (ASVS 6.2.3): the `login` script verifies the current
   * password under the same brute-force counters as login, then the policy and breached list
   * check the new one, and only then does `change_password` run.
   *
   * @throws WrongUsernameOrPasswordError, TooManyAttemptsError, PasswordPolicyError, PasswordLeakedError, UnauthorizedError
   */
  changeOwnPassword(input: ChangeOwnPasswordInput, ...ctx: IpContextArgs<Protection>): Promise<UserProfile>
  async changeOwnPassword(input: ChangeOwnPasswordInput, ctx?: RequestContext): Promise<UserProfile> {
    const { identifier, currentPassword, newPassword } = parseInput(changeOwnPasswordInputSchema, input)
    const context = parseContext(ctx)
    this.require('change_password')
    const lease = await this.protection.begin(identifier, context)
    try {
      const fail = async (reason: string, profile?: UserProfile) =>
        this.events.emit('fcp', {
          ...context,
          ...(profile ? { user_id: profile.user_id } : { identifier_hash: await this.events.hashIdentifier(identifier) }),
          details: { reason },
        })
      let profile: UserProfile | null
      try {
        profile = await this.calls.verify(identifier, currentPassword)
      } catch (error) {
        await fail(reasonOf(error))
        throw error
      }
      if (!profile) {
        lease.wrongPassword()
        await fail('invalid_user_password')
        throw new WrongUsernameOrPasswordError()
      }
      if (profile.blocked) {
        await fail('blocked', profile)
        throw new UnauthorizedError('user is blocked')
      }
      await lease.match()
      try {
        await this.checkNewPassword(newPassword, profile)
        const email = profile.email ?? (await this.calls.emailOf(identifier))
        if (!email || !(await this.calls.changePassword(email, newPassword))) throw new UserNotFoundError()
      } catch (error) {
        await fail(reasonOf(error), profile)
        throw error
      }
      this.events.emit('scp', { ...context, user_id: profile.user_id })
      return profile
    } finally {
      await lease.release()
    }
  }

  /** Runs `verify(email)`. */
  async verifyEmail(email: string): Promise<void> {
    const address = parseInput(emailSchema, email)
    this.require('verify')
    if (!(await this.calls.verifyEmail(address))) throw new UserNotFoundError()
    this.events.emit('sv', { identifier_hash: await this.events.hashIdentifier(address) })
  }

  /** Runs `change_email(email, newEmail, verified)`. @throws UserNotFoundError when the script answers false */
  async changeEmail(email: string, newEmail: string, opts?: { verified?: boolean }): Promise<void> {
    const from = parseInput(emailSchema, email)
    const to = parseInput(emailSchema, newEmail)
    const { verified } = parseInput(changeEmailOptionsSchema, opts ?? {})
    this.require('change_email')
    if (!(await this.calls.changeEmail(from, to, verified ?? false))) throw new UserNotFoundError()
    // Tickets issued for the old address die now, so an email changed back (A → B → A) revives none.
    await this.voidTickets({ emailNormalized: normalizeEmail(from) })
    this.events.emit('sce', { identifier_hash: await this.events.hashIdentifier(to) })
  }

  /** Runs `delete(id)`. */
  async deleteUser(userId: string): Promise<void> {
    const id = parseInput(userIdSchema, userId)
    this.require('delete')
    await this.calls.remove(id)
    await this.voidTickets({ userId: id })
    this.events.emit('du', { user_id: id })
  }

  /**
   * With a store: a reset ticket for a user that `get_user` finds, or null (unknown
   * email, or past the issuance limit). Redemption runs `change_password`.
   */
  async createPasswordResetTicket(email: string, opts?: TicketOptions, ctx?: RequestContext): Promise<IssuedTicket | null> {
    this.ticketIssuer()
    this.require('get_user')
    this.require('change_password')
    return this.issueTicket('reset', email, opts, ctx)
  }

  /**
   * Redeems a reset ticket: `get_user` must still find the same user, then the ticket is
   * consumed (exactly one concurrent redemption wins) and `change_password` runs. If the
   * script fails, the ticket is released so the user can try again.
   */
  async resetPassword(ticket: string, newPassword: string, ctx?: RequestContext): Promise<UserProfile> {
    const token = parseInput(ticketTokenSchema, ticket)
    const password = parseInput(passwordSchema, newPassword)
    const context = parseContext(ctx)
    this.ticketIssuer()
    this.require('change_password')
    try {
      // Checked before the ticket is consumed, so a refused password leaves it usable.
      await this.checkNewPassword(password, {})
    } catch (error) {
      this.events.emit('fcp', { ...context, details: { reason: reasonOf(error) } })
      throw error
    }
    const profile = await this.redeem(
      token,
      'reset',
      async (email) => {
        if (!(await this.calls.changePassword(email, password))) throw new UserNotFoundError()
      },
      context,
    )
    // The password changed: the user's other open tickets die with the old one.
    await this.voidTickets({ userId: profile.user_id })
    this.events.emit('scp', { ...context, user_id: profile.user_id, details: { via: 'reset_ticket' } })
    await this.protection.unblockAll([profile.email, profile.username], 'password_reset')
    return profile
  }

  /** With a store and `get_user` and `verify` scripts: a verification ticket, or null. */
  async createEmailVerificationTicket(email: string, opts?: TicketOptions, ctx?: RequestContext): Promise<IssuedTicket | null> {
    this.ticketIssuer()
    this.require('get_user')
    this.require('verify')
    return this.issueTicket('verify', email, opts, ctx)
  }

  /** Redeems a verification ticket by running `verify(email)`. */
  async verifyEmailWithTicket(ticket: string, ctx?: RequestContext): Promise<UserProfile> {
    const token = parseInput(ticketTokenSchema, ticket)
    const context = parseContext(ctx)
    this.ticketIssuer()
    this.require('verify')
    const profile = await this.redeem(
      token,
      'verify',
      async (email) => {
        if (!(await this.calls.verifyEmail(email))) throw new UserNotFoundError()
      },
      context,
    )
    this.events.emit('sv', { ...context, user_id: profile.user_id })
    return { ...profile, email_verified: true }
  }

  // ---- internals -------------------------------------------------------------------

  /** The policy and breached list, on the password as the scripts will receive it (NFKC for the rules only). */
  private async checkNewPassword(password: string, info: PersonalInfo): Promise<void> {
    await this.checks.enforce(normalizePassword(password), info, () => undefined)
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
    const tickets = this.ticketIssuer()
    tickets.checkTtl(ttlSeconds)
    const issue = async () => {
      const profile = await this.calls.getUser(address)
      if (!profile) return null
      const email = profile.email ?? address
      const issued = await tickets.issue(purpose, { userId: profile.user_id, email, emailNormalized: normalizeEmail(email) }, ttlSeconds)
      if (issued && purpose === 'reset') this.events.emit('scpr', { ...context, user_id: profile.user_id })
      return issued
    }
    return deliver ? issueOffPath(issue, deliver) : issue()
  }

  /** Checks a ticket against `get_user`, consumes it, and runs `write`; releases it if `write` fails. */
  private async redeem(
    token: string,
    purpose: TicketPurpose,
    write: (email: string) => Promise<void>,
    context: EventFields,
  ): Promise<UserProfile> {
    const tickets = this.ticketIssuer()
    const record = await tickets.live(token, purpose)
    const profile = record && (await this.calls.getUser(record.email_normalized))
    const fail = purpose === 'reset' ? 'fcp' : 'fv'
    if (!record || !profile || profile.user_id !== record.user_id) {
      this.events.emit(fail, { ...context, details: { reason: 'invalid_ticket' } })
      throw new InvalidTicketError()
    }
    const at = this.now()
    if (!(await this.store!.consumeTicket(ticketTokenHash(token), at))) {
      this.events.emit(fail, { ...context, user_id: profile.user_id, details: { reason: 'invalid_ticket' } })
      throw new InvalidTicketError()
    }
    try {
      await write(record.email_normalized)
    } catch (error) {
      await this.store!.releaseTicket(ticketTokenHash(token), at)
      this.events.emit(fail, { ...context, user_id: profile.user_id, details: { reason: reasonOf(error) } })
      throw error
    }
    return profile
  }

  /**
   * With a store, voids the open tickets of a user or an email after the script changed
   * the credential, the email or deleted the user: a ticket lives no longer than what it
   * was issued for. The script's write cannot share a transaction with the store, so this
   * comes right after it.
   */
  private async voidTickets(of: { userId: string } | { emailNormalized: string }): Promise<void> {
    await this.store?.voidTickets(this.name, of, this.now())
  }

  private ticketIssuer(): TicketIssuer {
    // Checked before any script is looked for, so a missing store is the reason given, not a missing script.
    if (!this.tickets) throw new NotSupportedError('Tickets need a store: pass `store` to the custom-script connection')
    return this.tickets
  }

  private require(script: ScriptName): void {
    if (!this.has(script)) throw new NotSupportedError(`This connection has no ${script} script`)
  }

  /** One script run, with this connection's global, reach, limits and secrets. */
  private async run(script: ScriptName, args: unknown[], secrets: string[], events: ConnectionEvents): Promise<unknown> {
    if (this.closed) throw new NotSupportedError(`The connection ${this.name} is closed`)
    try {
      const { value } = await this.runner.run(this.scripts[script]!, args, {
        scriptName: script,
        configuration: this.configuration,
        global: this.handle,
        connection: this.name,
        // Reads may run again if a runaway script of another connection costs them their worker; writes never.
        retrySafe: script === 'login' || script === 'get_user',
        egress: this.egress,
        // The runner scrubs configuration values itself, by its rule for short settings (a port is no secret).
        redact: secrets,
        ...(this.timeoutMs === undefined ? {} : { timeoutMs: this.timeoutMs }),
      })
      return value
    } catch (error) {
      if (error instanceof ScriptError || error instanceof ScriptTimeoutError) {
        events.emit('script_error', { details: { script, code: error.code, message: error.message } })
      }
      if (error instanceof LatchkeyError) throw error
      throw new ScriptError(`The ${script} script could not be run: ${error instanceof Error ? error.message : String(error)}`, {
        scriptName: script,
      })
    }
  }
}

function reasonOf(error: unknown): string {
  return error instanceof LatchkeyError ? error.code : 'error'
}
