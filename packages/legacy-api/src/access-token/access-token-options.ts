import { z } from 'zod'
import { isSecureOrLoopback } from '../loopback-url.js'

/**
 * Signature algorithms accepted by default: asymmetric only. `none` and every HMAC
 * algorithm are absent on purpose: an HMAC token "signed" with the issuer's public key
 * must never verify.
 */
export const ASYMMETRIC_ALGORITHMS = ['RS256', 'RS384', 'RS512', 'PS256', 'PS384', 'PS512', 'ES256', 'ES384', 'ES512', 'EdDSA'] as const

const secureUrl = z.url().refine(isSecureOrLoopback, 'must be an https URL (http only on loopback)')
const token = z.string().min(1).max(512)

/** Options of {@link requireAccessToken}. */
export const accessTokenOptionsSchema = z.strictObject({
  /** The authorization server's issuer identifier; tokens must carry exactly this `iss`. */
  issuer: secureUrl,
  /** This API's audience (resource indicator); a token must list it in `aud`. */
  audience: token,
  /** Client ids whose tokens this API accepts (`client_id`, or `azp` when that is the only one present). */
  allowedClients: z.array(token).min(1).max(100),
  /** Scopes a token must carry (space-separated `scope` claim); missing ones give 403. */
  requiredScopes: z
    .array(z.string().regex(/^[\x21\x23-\x5b\x5d-\x7e]{1,128}$/, 'an RFC 6749 scope token'))
    .max(50)
    .optional(),
  /** Where the issuer's keys are. Default: `jwks_uri` from the issuer's discovery document. */
  jwksUri: secureUrl.optional(),
  /** Accepted signature algorithms, a subset of {@link ASYMMETRIC_ALGORITHMS}. Default: all of them. */
  algorithms: z.array(z.enum(ASYMMETRIC_ALGORITHMS)).min(1).optional(),
  /**
   * Accepted JOSE `typ` values. Default `['at+jwt']` (RFC 9068); add `'JWT'` for issuers
   * that label access tokens as plain JWTs.
   */
  tokenTypes: z
    .array(z.enum(['at+jwt', 'JWT']))
    .min(1)
    .optional(),
  /** Leeway for `exp`, `nbf` and `iat`, in seconds. Default 5, at most 120. */
  clockToleranceSeconds: z.number().int().min(0).max(120).optional(),
  /** Least time between two fetches of the key set (a token with an unknown `kid` triggers one). Default 30 s. */
  jwksCooldownSeconds: z.number().int().min(1).max(3600).optional(),
  /** How long fetched keys are trusted before a refetch. Default 600 s. */
  jwksCacheMaxAgeSeconds: z.number().int().min(1).max(86_400).optional(),
  /** The `realm` of the `WWW-Authenticate` challenge. Default `legacy-identity-api`. */
  realm: z
    .string()
    .regex(/^[\x20-\x21\x23-\x5b\x5d-\x7e]{1,100}$/, 'printable ASCII without quotes or backslashes')
    .optional(),
})
export type AccessTokenOptions = z.input<typeof accessTokenOptionsSchema>
