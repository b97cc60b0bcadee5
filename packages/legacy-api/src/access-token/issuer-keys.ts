import { createRemoteJWKSet, type JWTVerifyGetKey } from 'jose'
import { isSecureOrLoopback } from '../loopback-url.js'

/** The issuer's keys could not be had (discovery or JWKS unreachable or malformed). */
export class IssuerUnavailableError extends Error {
  constructor(message: string, options?: { cause: unknown }) {
    super(message, options)
    this.name = 'IssuerUnavailableError'
  }
}

/**
 * The issuer's signing keys, through jose's remote key set: cached, refetched when a token
 * names an unknown `kid`, and never fetched twice within the cooldown, so a flood of tokens
 * with made-up key ids cannot turn this API into a load on the issuer. Without a `jwksUri`
 * the key set's address comes from the issuer's discovery document, which must name the
 * same issuer.
 */
export class IssuerKeys {
  private keySet: Promise<JWTVerifyGetKey> | null = null
  private failedAt = 0

  constructor(private readonly opts: { issuer: string; jwksUri: string | undefined; cooldownMs: number; cacheMaxAgeMs: number }) {}

  /** The key getter jose's `jwtVerify` takes. */
  readonly getKey: JWTVerifyGetKey = async (header, token) => (await this.resolve())(header, token)

  private resolve(): Promise<JWTVerifyGetKey> {
    // A failed discovery is retried, but no sooner than the cooldown.
    if (!this.keySet && Date.now() - this.failedAt < this.opts.cooldownMs) {
      return Promise.reject(new IssuerUnavailableError("the issuer's discovery document was unavailable recently"))
    }
    this.keySet ??= this.jwksUri().then(
      (uri) =>
        createRemoteJWKSet(new URL(uri), {
          cooldownDuration: this.opts.cooldownMs,
          cacheMaxAge: this.opts.cacheMaxAgeMs,
          timeoutDuration: 5000,
        }),
      (error: unknown) => {
        this.keySet = null
        this.failedAt = Date.now()
        throw error
      },
    )
    return this.keySet
  }

  private async jwksUri(): Promise<string> {
    if (this.opts.jwksUri) return this.opts.jwksUri
    const base = this.opts.issuer.replace(/\/$/, '')
    let document: { issuer?: unknown; jwks_uri?: unknown }
    try {
      const response = await fetch(`${base}/.well-known/openid-configuration`, { redirect: 'error', signal: AbortSignal.timeout(5000) })
      if (!response.ok) throw new Error(`status ${response.status}`)
      document = (await response.json()) as typeof document
    } catch (error) {
      throw new IssuerUnavailableError("the issuer's discovery document could not be fetched", { cause: error })
    }
    if (document.issuer !== this.opts.issuer) throw new IssuerUnavailableError('the discovery document names another issuer')
    if (typeof document.jwks_uri !== 'string' || !isSecureOrLoopback(document.jwks_uri)) {
      throw new IssuerUnavailableError('the discovery document has no usable jwks_uri')
    }
    return document.jwks_uri
  }
}
