import type { ServerResponse } from 'node:http'
import { errors as joseErrors, jwtVerify, type JWTPayload } from 'jose'
import { parseOptions } from '../invalid-options-error.js'
import { sendJson } from '../json-response.js'
import type { Middleware } from '../middleware.js'
import { accessTokenOptionsSchema, ASYMMETRIC_ALGORITHMS, type AccessTokenOptions } from './access-token-options.js'
import { IssuerKeys } from './issuer-keys.js'
import { rememberAccessToken } from './verified-access-token.js'

/** A compact JWS: three base64url parts. Anything else is refused before any crypto. */
const COMPACT_JWS = /^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]*$/
const MAX_TOKEN_LENGTH = 8192

class Refusal {
  constructor(
    readonly status: 401 | 403 | 503,
    readonly error: string,
    readonly description: string,
  ) {}
}

/**
 * Middleware that lets a request through only with a valid access token from `issuer` for
 * `audience`, issued to one of `allowedClients` (RFC 9068 JWT access tokens, RFC 6750
 * bearer usage).
 *
 * - The signature is checked against the issuer's JWKS (cached, refetched on an unknown
 *   `kid`, rate-limited), with asymmetric algorithms only: `none` and HMAC never verify.
 * - `iss`, `aud`, `exp` (required) and `nbf` are checked with a small leeway, and `typ`
 *   must be `at+jwt` unless `tokenTypes` allows `JWT`.
 * - The client is `client_id` or `azp`: refused when neither is present, when both are and
 *   disagree, or when it is not in `allowedClients`, so a token another client obtained
 *   for the right audience is refused all the same.
 * - Refusals are 401 (403 for missing scopes; 503 when the issuer's keys cannot be had)
 *   with a JSON body and a `WWW-Authenticate` challenge, never a stack trace.
 *
 * What was accepted is available to later handlers through `getAccessToken(req)`.
 *
 * @example
 * const auth = requireAccessToken({ issuer: 'https://id.example.com', audience: 'https://legacy-api.example.com',
 *                                   allowedClients: ['latchkey-scripts'] })
 * app.use(ipAllowList(['10.0.0.0/8']), auth, createLegacyIdentityRouter({ verifyPassword, getUser, changePassword }))
 */
export function requireAccessToken(options: AccessTokenOptions): Middleware {
  const o = parseOptions(accessTokenOptionsSchema, options, 'requireAccessToken')
  const keys = new IssuerKeys({
    issuer: o.issuer,
    jwksUri: o.jwksUri,
    cooldownMs: (o.jwksCooldownSeconds ?? 30) * 1000,
    cacheMaxAgeMs: (o.jwksCacheMaxAgeSeconds ?? 600) * 1000,
  })
  const algorithms = [...(o.algorithms ?? ASYMMETRIC_ALGORITHMS)]
  const tokenTypes = new Set((o.tokenTypes ?? ['at+jwt']).map((t) => t.toLowerCase()))
  const allowedClients = new Set(o.allowedClients)
  const requiredScopes = o.requiredScopes ?? []
  const realm = o.realm ?? 'legacy-identity-api'

  const verify = async (token: string) => {
    let result
    try {
      result = await jwtVerify(token, keys.getKey, {
        issuer: o.issuer,
        audience: o.audience,
        algorithms,
        clockTolerance: o.clockToleranceSeconds ?? 5,
        requiredClaims: ['exp'],
      })
    } catch (error) {
      throw refusalFor(error)
    }
    const typ = normaliseTyp(result.protectedHeader.typ)
    if (typ === null || !tokenTypes.has(typ))
      throw new Refusal(401, 'invalid_token', 'The token is not an access token of an accepted type')
    const clientId = clientOf(result.payload)
    if (clientId === null || !allowedClients.has(clientId))
      throw new Refusal(401, 'invalid_token', 'The token was not issued to a client this API accepts')
    const scopes = typeof result.payload['scope'] === 'string' ? result.payload['scope'].split(' ').filter(Boolean) : []
    if (requiredScopes.some((s) => !scopes.includes(s))) throw new Refusal(403, 'insufficient_scope', 'The token lacks a required scope')
    return { clientId, scopes, claims: result.payload }
  }

  return (req, res, next) => {
    const header = req.headers.authorization
    const match = typeof header === 'string' ? /^Bearer +(\S+) *$/i.exec(header) : null
    if (!match) {
      refuse(
        res,
        realm,
        requiredScopes,
        header === undefined ? null : new Refusal(401, 'invalid_request', 'Send the access token as "Authorization: Bearer <token>"'),
      )
      return
    }
    const token = match[1]!
    if (token.length > MAX_TOKEN_LENGTH || !COMPACT_JWS.test(token)) {
      refuse(res, realm, requiredScopes, new Refusal(401, 'invalid_token', 'The access token is malformed'))
      return
    }
    verify(token).then(
      (accepted) => {
        rememberAccessToken(req, accepted)
        next()
      },
      (error: unknown) =>
        refuse(
          res,
          realm,
          requiredScopes,
          error instanceof Refusal ? error : new Refusal(401, 'invalid_token', 'The access token is invalid'),
        ),
    )
  }
}

/** The client a token was issued to, or null when its claims do not name exactly one. */
function clientOf(claims: JWTPayload): string | null {
  const { client_id: clientId, azp } = claims as { client_id?: unknown; azp?: unknown }
  // A claim that is present but not a string is malformed, not absent.
  if ((clientId !== undefined && typeof clientId !== 'string') || (azp !== undefined && typeof azp !== 'string')) return null
  if (clientId !== undefined && azp !== undefined && clientId !== azp) return null
  return clientId ?? azp ?? null
}

/** `application/at+jwt` and `at+JWT` are `at+jwt` (RFC 7515 §4.1.9: the prefix may be omitted, compared case-insensitively). */
function normaliseTyp(typ: string | undefined): string | null {
  if (typeof typ !== 'string') return null
  return typ.toLowerCase().replace(/^application\//, '')
}

function refusalFor(error: unknown): Refusal {
  if (error instanceof joseErrors.JWTExpired) return new Refusal(401, 'invalid_token', 'The access token expired')
  if (error instanceof joseErrors.JWTClaimValidationFailed)
    return new Refusal(401, 'invalid_token', `The access token's ${error.claim} claim is not acceptable`)
  if (
    error instanceof joseErrors.JWKSTimeout ||
    error instanceof joseErrors.JWKSInvalid ||
    (error instanceof Error && error.name === 'IssuerUnavailableError')
  ) {
    return new Refusal(503, 'temporarily_unavailable', "The issuer's keys are unavailable; try again later")
  }
  if (error instanceof joseErrors.JOSEError) return new Refusal(401, 'invalid_token', 'The access token is invalid')
  // A network failure fetching the key set surfaces as a plain TypeError from fetch.
  if (error instanceof TypeError) return new Refusal(503, 'temporarily_unavailable', "The issuer's keys are unavailable; try again later")
  return new Refusal(401, 'invalid_token', 'The access token is invalid')
}

function refuse(res: ServerResponse, realm: string, scopes: string[], refusal: Refusal | null): void {
  if (refusal === null) {
    // No credentials at all: RFC 6750 §3.1 says the challenge then carries no error code.
    sendJson(
      res,
      401,
      { error: 'unauthorized', error_description: 'An access token is required' },
      { 'www-authenticate': `Bearer realm="${realm}"` },
    )
    return
  }
  const headers: Record<string, string> = {}
  if (refusal.status !== 503) {
    const scope = refusal.error === 'insufficient_scope' ? `, scope="${scopes.join(' ')}"` : ''
    headers['www-authenticate'] = `Bearer realm="${realm}", error="${refusal.error}", error_description="${refusal.description}"${scope}`
  } else {
    headers['retry-after'] = '30'
  }
  sendJson(res, refusal.status, { error: refusal.error, error_description: refusal.description }, headers)
}
