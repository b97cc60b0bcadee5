import type { UserProfile } from '../profile/profile-schema.js'

/** Facts about the end user's request. `ip` is required for login and signup while attack protection is on. */
export type RequestContext = { ip?: string; userAgent?: string }

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
}

export interface IssuedTicket {
  /** The token to put in the link you mail. Only its SHA-256 is stored. */
  ticket: string
  expiresAt: Date
}

/**
 * Username/password identity backed by a built-in store, a custom store reached through
 * scripts, or both during a migration. Every method validates its input and fails only
 * with `LatchkeyError` subclasses.
 */
export interface DatabaseConnection {
  readonly name: string
  signup(input: SignupInput, ctx?: RequestContext): Promise<UserProfile>
  login(input: LoginInput, ctx?: RequestContext): Promise<UserProfile>
  /** By email or username; null when there is no such user. */
  getUser(identifier: string): Promise<UserProfile | null>
  getUserById(userId: string): Promise<UserProfile | null>
  updateUser(userId: string, patch: UserPatch): Promise<UserProfile>
  /** The admin call: sets a password without the current one. End users go through `changeOwnPassword`. */
  changePassword(identifier: string, newPassword: string, ctx?: RequestContext): Promise<void>
  /** The end user's call: the current password is verified under the login counters, then the policy applies. */
  changeOwnPassword(input: ChangeOwnPasswordInput, ctx?: RequestContext): Promise<UserProfile>
  verifyEmail(email: string): Promise<void>
  changeEmail(email: string, newEmail: string, opts?: { verified?: boolean }): Promise<void>
  deleteUser(userId: string): Promise<void>
  createPasswordResetTicket(email: string, opts?: TicketOptions, ctx?: RequestContext): Promise<IssuedTicket | null>
  resetPassword(ticket: string, newPassword: string, ctx?: RequestContext): Promise<UserProfile>
  createEmailVerificationTicket(email: string, opts?: TicketOptions, ctx?: RequestContext): Promise<IssuedTicket | null>
  verifyEmailWithTicket(ticket: string, ctx?: RequestContext): Promise<UserProfile>
}
