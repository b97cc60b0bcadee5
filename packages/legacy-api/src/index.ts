// @latchkey/legacy-api: a server-side kit for a least-privilege legacy identity API (SPEC §5).
// What is not exported here is private.
export { requireAccessToken } from './access-token/require-access-token.js'
export { accessTokenOptionsSchema, ASYMMETRIC_ALGORITHMS, type AccessTokenOptions } from './access-token/access-token-options.js'
export { getAccessToken, type VerifiedAccessToken } from './access-token/verified-access-token.js'
export { ipAllowList, ipAllowListOptionsSchema, cidrListSchema, type IpAllowListOptions } from './ip/ip-allow-list.js'
export { createLegacyIdentityRouter } from './router/legacy-identity-router.js'
export {
  legacyIdentityRouterOptionsSchema,
  verifyPasswordBodySchema,
  getUserBodySchema,
  changePasswordBodySchema,
  type LegacyIdentityRouterOptions,
  type LegacyOperation,
  type RateLimitRequest,
  type RateLimitDecision,
} from './router/router-options.js'
export { legacyUserSchema, type LegacyUser, type PublicLegacyUser } from './router/legacy-user.js'
export { InvalidOptionsError } from './invalid-options-error.js'
export type { Middleware } from './middleware.js'
