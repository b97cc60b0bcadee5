import type { UserProfile } from '../profile/profile-schema.js'

/** Facts about the end user's request. `ip` is required for login and signup while attack protection is on. */
export type RequestContext = { ip?: string; userAgent?: string }

/** A {@link RequestContext} with the end user's IP, as attack protection needs it. */
export type RequestContextWithIp = RequestContext & { ip: string }

/**
 * The context argument of `login`, `signup` and `changeOwnPassword` on the concrete connection
 * classes, from the type of their `attackProtection` option: the IP is required at compile time
 * unless attack protection is `false` or has `allowMissingIp: true`. (The DatabaseConnection
 * contract keeps `ctx?`.)
 */
export type IpContextArgs<Protection> = [Protection] extends [false | { allowMissingIp: true }]
  ? [ctx?: RequestContext]
  : [ctx: RequestContextWithIp]

/** Input of {@link DatabaseConnection.signup}. `app_metadata` is never accepted here. */
export interface SignupInput {
  email: string
  password: string
  username?: string
  user_metadata?: Record<string, unknown>
}

export interface LoginInput {
  /** An email or a username. */
  identifier: string
  password: string
}

/** Input of {@link DatabaseConnection.changeOwnPassword}. */
export interface ChangeOwnPasswordInput {
  /** The user's email or username. */
  identifier: string
  currentPassword: string
  newPassword: string
}

/** An admin patch. The only way to set `app_metadata` and `blocked`. */
export interface UserPatch {
  user_metadata?: Record<string, unknown>
  app_metadata?: Record<string, unknown>
  name?: string | null
  given_name?: string | null
  family_name?: string | null
  nickname?: string | null
  picture?: string | null
  blocked?: boolean
  email_verified?: boolean
}

export interface TicketOptions {
  /** Lifetime of the ticket in seconds; capped by the connection. */
  ttlSeconds?: number
  /**
   * The way to call ticket creation from a request: the call answers null at once, and the
   * lookup, the issuance limit and the insert run after it, off the caller's path, so no
   * timing tells a known email from an unknown or rate-limited one. `deliver` receives the
   * ticket when one is issued (mail it to `ticket.email`); a failure becomes a process warning.
   */
  deliver?: (ticket: IssuedTicket) => unknown
}

export interface IssuedTicket {
  /** The token to put in the link you mail. Only its SHA-256 is stored. */
  ticket: string
  expiresAt: Date
  /**
   * The address the ticket belongs to, as stored for the user. Mail the link here, never
   * to the address the requester typed: a look-alike spelling must not receive it.
   */
  email: string
}

/**
 * Username/password identity backed by a built-in store, a custom store reached through
 * scripts, or both during a migration. Every method validates its input and fails only
 * with `LatchkeyError` subclasses (see the README's table of codes).
 *
 * The examples use `users`, any connection, and `req`, the host's incoming request.
 */
export interface DatabaseConnection {
  /** The connection's name: its scope in the store and its name in events. */
  readonly name: string

  /**
   * Creates a user and returns the profile. `ctx.ip` is required while attack protection is on.
   *
   * @throws UserExistsError, PasswordPolicyError, PasswordLeakedError, TooManyAttemptsError, InvalidInputError
   * @example
   * const profile = await users.signup({ email: 'ada@example.com', password: 'Analytical-Engine-1843' }, { ip: req.ip })
   */
  signup(input: SignupInput, ctx?: RequestContext): Promise<UserProfile>

  /**
   * Logs a user in by email or username. An unknown user and a wrong password give the same error.
   *
   * @throws WrongUsernameOrPasswordError, UnauthorizedError, TooManyAttemptsError, InvalidInputError
   * @example
   * const profile = await users.login({ identifier: 'ada@example.com', password }, { ip: req.ip })
   */
  login(input: LoginInput, ctx?: RequestContext): Promise<UserProfile>

  /**
   * By email or username; null when there is no such user.
   *
   * @example
   * const user = await users.getUser('ada@example.com')
   * if (user === null) res.status(404)
   */
  getUser(identifier: string): Promise<UserProfile | null>

  /**
   * By `user_id`; null when there is no such user.
   *
   * @example
   * const user = await users.getUserById(session.userId)
   */
  getUserById(userId: string): Promise<UserProfile | null>

  /**
   * An admin patch: metadata, profile fields, `blocked`, `email_verified`. Returns the new profile.
   *
   * @throws UserNotFoundError, NotSupportedError (custom-script connections)
   * @example
   * await users.updateUser(userId, { app_metadata: { plan: 'pro' }, blocked: false })
   */
  updateUser(userId: string, patch: UserPatch): Promise<UserProfile>

  /**
   * The admin call: sets a new password (by email or username) without the current one,
   * checked against the policy. End users go through {@link changeOwnPassword}.
   *
   * @throws UserNotFoundError, PasswordPolicyError, PasswordLeakedError
   * @example
   * await users.changePassword('ada@example.com', 'Notes-on-the-Engine-G', { ip: req.ip })
   */
  changePassword(identifier: string, newPassword: string, ctx?: RequestContext): Promise<void>

  /**
   * The end user's call: the current password is verified under the login counters, then
   * the policy applies to the new one.
   *
   * @throws WrongUsernameOrPasswordError, TooManyAttemptsError, PasswordPolicyError, PasswordLeakedError
   * @example
   * await users.changeOwnPassword({ identifier: 'ada@example.com', currentPassword, newPassword }, { ip: req.ip })
   */
  changeOwnPassword(input: ChangeOwnPasswordInput, ctx?: RequestContext): Promise<UserProfile>

  /**
   * Marks an email as verified, as an admin. End users go through {@link verifyEmailWithTicket}.
   *
   * @throws UserNotFoundError
   * @example
   * await users.verifyEmail('ada@example.com')
   */
  verifyEmail(email: string): Promise<void>

  /**
   * Changes a user's email, unverified unless `verified: true`.
   *
   * @throws UserNotFoundError, UserExistsError
   * @example
   * await users.changeEmail('ada@example.com', 'ada@analytical.example', { verified: false })
   */
  changeEmail(email: string, newEmail: string, opts?: { verified?: boolean }): Promise<void>

  /**
   * Deletes a user.
   *
   * @throws UserNotFoundError
   * @example
   * await users.deleteUser(profile.user_id)
   */
  deleteUser(userId: string): Promise<void>

  /**
   * A password-reset ticket to mail, or null for an unknown email or one past its issuance
   * limit; answer the end user the same way in both cases.
   *
   * @example
   * const issued = await users.createPasswordResetTicket(email, {}, { ip: req.ip })
   * if (issued) queueMail(email, `https://app.example/reset?t=${issued.ticket}`)
   */
  createPasswordResetTicket(email: string, opts?: TicketOptions, ctx?: RequestContext): Promise<IssuedTicket | null>

  /**
   * Redeems a reset ticket with a new password; returns the user's profile.
   *
   * @throws InvalidTicketError, PasswordPolicyError
   * @example
   * const profile = await users.resetPassword(req.body.ticket, req.body.password, { ip: req.ip })
   */
  resetPassword(ticket: string, newPassword: string, ctx?: RequestContext): Promise<UserProfile>

  /**
   * An email-verification ticket to mail, or null (unknown email, or past the issuance limit).
   *
   * @example
   * const issued = await users.createEmailVerificationTicket(profile.email!, { ttlSeconds: 86_400 })
   */
  createEmailVerificationTicket(email: string, opts?: TicketOptions, ctx?: RequestContext): Promise<IssuedTicket | null>

  /**
   * Redeems a verification ticket; returns the profile with `email_verified: true`.
   *
   * @throws InvalidTicketError
   * @example
   * const profile = await users.verifyEmailWithTicket(req.query.t, { ip: req.ip })
   */
  verifyEmailWithTicket(ticket: string, ctx?: RequestContext): Promise<UserProfile>
}
