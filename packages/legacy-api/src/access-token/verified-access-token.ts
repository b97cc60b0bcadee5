import type { IncomingMessage } from 'node:http'
import type { JWTPayload } from 'jose'

/** What {@link requireAccessToken} learned from a token it accepted. */
export interface VerifiedAccessToken {
  /** The client the token was issued to (`client_id`, or `azp`). */
  clientId: string
  /** The token's scopes, from its space-separated `scope` claim. */
  scopes: string[]
  /** Every claim of the token, after verification. */
  claims: JWTPayload
}

const verified = new WeakMap<IncomingMessage, VerifiedAccessToken>()

export function rememberAccessToken(req: IncomingMessage, token: VerifiedAccessToken): void {
  verified.set(req, token)
}

/**
 * The access token {@link requireAccessToken} accepted for this request, or `undefined`
 * when the request did not pass through it.
 *
 * @example
 * app.get('/whoami', requireAccessToken(opts), (req, res) => res.json({ client: getAccessToken(req)?.clientId }))
 */
export function getAccessToken(req: IncomingMessage): VerifiedAccessToken | undefined {
  return verified.get(req)
}
