import { z } from 'zod'
import type { LegacyUser } from './legacy-user.js'

/** The three operations the router offers, as named to the rate-limit hook. */
export type LegacyOperation = 'verify_password' | 'get_user' | 'change_password'

/** What the rate-limit hook is asked about; decide on it before any work is done. */
export interface RateLimitRequest {
  operation: LegacyOperation
  /** The email or username the call is about. */
  identifier: string
  /** The caller's address as the socket saw it. */
  ip: string | undefined
}

/** `true` lets the call through; `false` or `{ retryAfterSeconds }` answers 429. */
export type RateLimitDecision = boolean | { retryAfterSeconds: number }

const fn = <T extends (...args: never[]) => unknown>() => z.custom<T>((v) => typeof v === 'function', 'must be a function')

/** Options of {@link createLegacyIdentityRouter}. */
export const legacyIdentityRouterOptionsSchema = z.strictObject({
  /** Checks a password against the legacy store: the user on a match, null otherwise (unknown user included). */
  verifyPassword: fn<(input: { identifier: string; password: string }) => Promise<LegacyUser | null>>(),
  /** Reads a user by email or username: the user, or null when there is none. */
  getUser: fn<(input: { identifier: string }) => Promise<LegacyUser | null>>(),
  /** Sets a new password: true when the user existed and was changed, false when there is no such user. */
  changePassword: fn<(input: { identifier: string; newPassword: string }) => Promise<boolean>>(),
  /** Asked before every call; see {@link RateLimitDecision}. */
  rateLimit: fn<(request: RateLimitRequest) => RateLimitDecision | Promise<RateLimitDecision>>().optional(),
  /** Told about a callback that threw or answered a password hash; the client only sees `server_error`. */
  onError: fn<(error: Error, operation: LegacyOperation) => void>().optional(),
})
export type LegacyIdentityRouterOptions = z.input<typeof legacyIdentityRouterOptionsSchema>

const identifier = z.string().trim().min(1).max(512)
const password = z.string().min(1).max(1024)

/** Request bodies, one per endpoint. */
export const verifyPasswordBodySchema = z.strictObject({ identifier, password })
export const getUserBodySchema = z.strictObject({ identifier })
export const changePasswordBodySchema = z.strictObject({ identifier, new_password: password })
