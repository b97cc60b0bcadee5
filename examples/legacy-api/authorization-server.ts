import http from 'node:http'
import type net from 'node:net'
import { exportJWK, generateKeyPair, type JWK } from 'jose'
import Provider, { errors } from 'oidc-provider'

/** One client of the authorization server: its id, secret and the audiences it may obtain. */
export interface OAuthClient {
  clientId: string
  clientSecret: string
  audiences: string[]
}

/**
 * An OAuth 2.0 authorization server (oidc-provider) on 127.0.0.1 that issues JWT access
 * tokens (RFC 9068) by the client-credentials grant with resource indicators (RFC 8707).
 * Each audience goes only to the clients listed for it; anyone else gets `invalid_target`:
 * the issuer-side half of "only one specific client may obtain the legacy API's audience".
 * A stand-in for your identity provider, for the demo and the tests; its keys and grants
 * live in memory.
 */
export async function startAuthorizationServer(opts: { clients: OAuthClient[]; scope?: string; accessTokenTtlSeconds?: number }) {
  const { privateKey } = await generateKeyPair('RS256', { extractable: true })
  const signingJwk: JWK = { ...(await exportJWK(privateKey)), kid: 'test-key-1', alg: 'RS256', use: 'sig' }
  let tokenRequests = 0
  let jwksRequests = 0
  const server = http.createServer()
  const sockets = new Set<net.Socket>()
  server.on('connection', (s) => {
    sockets.add(s)
    s.on('close', () => sockets.delete(s))
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const port = (server.address() as net.AddressInfo).port
  const issuer = `http://127.0.0.1:${port}`
  const scope = opts.scope ?? 'legacy:read legacy:write'
  const ttl = { value: opts.accessTokenTtlSeconds ?? 3600 }
  const provider = new Provider(issuer, {
    clients: opts.clients.map((c) => ({
      client_id: c.clientId,
      client_secret: c.clientSecret,
      grant_types: ['client_credentials'],
      response_types: [],
      redirect_uris: [],
      token_endpoint_auth_method: 'client_secret_basic',
    })),
    jwks: { keys: [signingJwk] },
    cookies: { keys: ['test-cookie-key-not-used-by-client-credentials'] },
    ttl: { ClientCredentials: () => ttl.value },
    scopes: scope.split(' '),
    features: {
      clientCredentials: { enabled: true },
      devInteractions: { enabled: false },
      resourceIndicators: {
        enabled: true,
        defaultResource: () => undefined as unknown as string,
        useGrantedResource: () => true,
        getResourceServerInfo: (_ctx, resource, client) => {
          const allowed = opts.clients.find((c) => c.clientId === client.clientId)?.audiences ?? []
          if (!allowed.includes(resource)) throw new errors.InvalidTarget(`client may not obtain ${resource}`)
          return { scope, audience: resource, accessTokenTTL: ttl.value, accessTokenFormat: 'jwt', jwt: { sign: { alg: 'RS256' } } }
        },
      },
    },
  })
  const callback = provider.callback()
  server.on('request', (req, res) => {
    if (req.method === 'POST' && req.url?.startsWith('/token')) tokenRequests += 1
    if (req.url?.startsWith('/jwks')) jwksRequests += 1
    callback(req, res)
  })
  return {
    issuer,
    tokenUrl: `${issuer}/token`,
    jwksUrl: `${issuer}/jwks`,
    port,
    signingJwk,
    get tokenRequests() {
      return tokenRequests
    },
    get jwksRequests() {
      return jwksRequests
    },
    /** Lifetime of tokens issued from now on. */
    setAccessTokenTtl(seconds: number) {
      ttl.value = seconds
    },
    async close() {
      for (const s of sockets) s.destroy()
      await new Promise<void>((resolve) => server.close(() => resolve()))
    },
  }
}
