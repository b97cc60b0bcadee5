import { createHash } from 'node:crypto'
import { isIP } from 'node:net'
import { z } from 'zod'

/** True for http URLs whose host is loopback: the one place a token may travel without TLS. */
function isLoopbackHost(hostname: string): boolean {
  const host = hostname.replace(/^\[|\]$/g, '').toLowerCase()
  if (host === 'localhost') return true
  if (isIP(host) === 4) return host.startsWith('127.')
  return host === '::1' || /^::ffff:(127\.|7f)/.test(host)
}

const tokenUrl = z
  .string()
  .max(2048)
  .transform((text, ctx) => {
    let url: URL
    try {
      url = new URL(text)
    } catch {
      ctx.addIssue({ code: 'custom', message: 'tokenUrl is not a URL' })
      return z.NEVER
    }
    if (url.protocol !== 'https:' && !(url.protocol === 'http:' && isLoopbackHost(url.hostname))) {
      ctx.addIssue({ code: 'custom', message: 'tokenUrl must be https (http only on loopback)' })
    }
    if (url.username || url.password)
      ctx.addIssue({ code: 'custom', message: 'tokenUrl must not carry credentials; pass clientId and clientSecret' })
    url.hash = ''
    return url.toString()
  })

const scopeToken = z
  .string()
  .regex(/^[\x21\x23-\x5b\x5d-\x7e]{1,256}$/, 'scope tokens are printable ASCII without spaces, quotes or backslashes')

/** What a script passes to `getAccessToken` (SPEC §5), checked on the host. */
export const tokenRequestSchema = z.strictObject({
  tokenUrl,
  clientId: z.string().min(1).max(256),
  clientSecret: z.string().min(1).max(1024),
  audience: z.string().min(1).max(2048),
  /** Space-separated, or a list; compared as a sorted set. */
  scope: z
    .union([z.string().max(4096), z.array(scopeToken).max(64)])
    .optional()
    .transform((s, ctx) => {
      const list = typeof s === 'string' ? s.split(' ').filter(Boolean) : (s ?? [])
      for (const t of list) if (!scopeToken.safeParse(t).success) ctx.addIssue({ code: 'custom', message: `invalid scope token` })
      return [...new Set(list)].sort()
    }),
  /** The form parameter that carries the audience: RFC 8707 `resource` (default), or `audience`. */
  audienceParam: z.enum(['resource', 'audience']).optional(),
  /** Skip the cache and fetch a new token, for use after a 401. */
  forceRefresh: z.boolean().optional(),
})
export type TokenRequest = z.output<typeof tokenRequestSchema>

/**
 * The cache key of a request within one connection: token URL, client, audience and how
 * it is sent, the sorted scopes, and a SHA-256 of the secret (so a script with a wrong
 * secret never gets the token a right one obtained). The secret itself is never kept.
 */
export function tokenCacheKey(scope: string, request: TokenRequest): string {
  const secret = createHash('sha256').update(request.clientSecret).digest('hex')
  const parts = [
    scope,
    request.tokenUrl,
    request.clientId,
    request.audience,
    request.audienceParam ?? 'resource',
    request.scope.join(' '),
    secret,
  ]
  return createHash('sha256').update(JSON.stringify(parts)).digest('hex')
}
