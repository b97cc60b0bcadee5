import { RunResources } from '../bridges/run-resources.js'
import { requestToken } from './token-endpoint.js'
import type { TokenGrant } from './token-grant.js'
import { tokenCacheKey, type TokenRequest } from './token-request.js'

/** A token is served from the cache until this long before it expires. */
export const TOKEN_EXPIRY_MARGIN_MS = 60_000
/** Tokens kept per connection; past it, expired ones go first, then the oldest. */
const MAX_TOKENS_PER_CONNECTION = 256

interface Cached {
  accessToken: string
  /** When the cache stops serving it: its expiry, less the margin. */
  until: number
}

/**
 * Access tokens of the client-credentials grant, kept on the host per connection (the
 * run's `global` handle), then per token URL, client, audience, scopes and secret.
 *
 * Concurrent runs asking for the same token share one request. That request belongs to
 * the cache, not to the run that started it, so a run that ends (or times out) while it is
 * in flight does not abort it for the others. Failed grants are never cached.
 */
export class TokenCache {
  private readonly tokens = new Map<string, Map<string, Cached>>()
  private readonly inFlight = new Map<string, Promise<TokenGrant>>()
  /** The sockets of requests in flight, closed when the runner closes. */
  private readonly open = new Set<RunResources>()

  /**
   * A token for `request`: from the cache, from a request already in flight, or from a new
   * one. `connection` scopes the cache; without it nothing is shared between runs.
   */
  get(connection: string | undefined, request: TokenRequest, egress: readonly string[]): Promise<TokenGrant> {
    if (connection === undefined) return this.request(request, egress)
    // The egress list is part of the key: a run may only use a token its own list let it fetch.
    const key = tokenCacheKey(`${connection}\n${[...egress].sort().join(',')}`, request)
    const tokens = this.tokens.get(connection)
    if (request.forceRefresh) tokens?.delete(key)
    const cached = tokens?.get(key)
    if (cached && Date.now() < cached.until) {
      return Promise.resolve({
        ok: true,
        accessToken: cached.accessToken,
        expiresIn: Math.floor((cached.until + TOKEN_EXPIRY_MARGIN_MS - Date.now()) / 1000),
      })
    }
    const pending = this.inFlight.get(key)
    if (pending) return pending
    const sentAt = Date.now()
    const grant = this.request(request, egress)
      .then((result) => {
        if (result.ok && result.expiresIn !== null)
          this.store(connection, key, { accessToken: result.accessToken, until: sentAt + result.expiresIn * 1000 - TOKEN_EXPIRY_MARGIN_MS })
        return result
      })
      .finally(() => this.inFlight.delete(key))
    this.inFlight.set(key, grant)
    return grant
  }

  /** Drops every token of one connection (it closed). */
  forget(connection: string): void {
    this.tokens.delete(connection)
  }

  /** Forgets every token and aborts the requests in flight (the runner is closing). */
  close(): void {
    this.tokens.clear()
    for (const resources of this.open) void resources.closeAll()
    this.open.clear()
  }

  private request(request: TokenRequest, egress: readonly string[]): Promise<TokenGrant> {
    const resources = new RunResources()
    this.open.add(resources)
    return requestToken(request, egress, resources).finally(() => this.open.delete(resources))
  }

  private store(connection: string, key: string, entry: Cached): void {
    const now = Date.now()
    if (entry.until <= now) return
    let tokens = this.tokens.get(connection)
    if (!tokens) this.tokens.set(connection, (tokens = new Map()))
    tokens.delete(key)
    if (tokens.size >= MAX_TOKENS_PER_CONNECTION) {
      for (const [k, v] of tokens) if (v.until <= now) tokens.delete(k)
      if (tokens.size >= MAX_TOKENS_PER_CONNECTION) tokens.delete(tokens.keys().next().value!)
    }
    tokens.set(key, entry)
  }
}
