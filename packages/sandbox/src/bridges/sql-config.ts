import { isIP } from 'node:net'
import { EgressDenied } from '../egress/egress-policy.js'

/**
 * The only settings a script's SQL connection passes to a driver: no socket paths, no file
 * paths, no driver options. Everything else a script puts in its config is ignored.
 */
export interface SafeSqlConfig {
  host: string
  port: number
  user?: string
  password?: string
  database?: string
  ssl: boolean
}

/** Parses a connection string or config object as the mysql and pg shims accept them. */
export function safeSqlConfig(input: unknown, defaultPort: number, schemes: readonly string[]): SafeSqlConfig {
  if (typeof input === 'string') return fromUrl(input, defaultPort, schemes)
  if (typeof input !== 'object' || input === null) throw new TypeError('a connection needs a config object or a connection string')
  const c = input as Record<string, unknown>
  if (typeof c['connectionString'] === 'string') return fromUrl(c['connectionString'], defaultPort, schemes)
  if (typeof c['uri'] === 'string') return fromUrl(c['uri'], defaultPort, schemes)
  if ('socketPath' in c && c['socketPath'] !== undefined)
    throw new EgressDenied('socket paths are not allowed; connect over TCP to an allow-listed host')
  return checked({
    host: String(c['host'] ?? 'localhost'),
    port: c['port'] === undefined ? defaultPort : Number(c['port']),
    ...optional('user', c['user'] ?? c['username']),
    ...optional('password', c['password']),
    ...optional('database', c['database']),
    ssl: Boolean(c['ssl']),
  })
}

function fromUrl(text: string, defaultPort: number, schemes: readonly string[]): SafeSqlConfig {
  // libpq reads an empty or path-like host (%2F…) as a Unix socket directory.
  const authority = /^[a-z][a-z0-9+.-]*:\/\/([^/?#]*)/i.exec(text)?.[1] ?? ''
  const hostPart = authority.slice(authority.lastIndexOf('@') + 1)
  if (hostPart === '' || /^(%2f|%5c|\/|\.)/i.test(hostPart)) {
    throw new EgressDenied('socket paths are not allowed; name an allow-listed host in the connection string')
  }
  let url: URL
  try {
    url = new URL(text)
  } catch {
    throw new TypeError('invalid connection string')
  }
  if (!schemes.includes(url.protocol.replace(/:$/, '')))
    throw new TypeError(`a connection string must start with ${schemes.map((s) => `${s}://`).join(' or ')}`)
  const params = url.searchParams
  if (params.has('host') || params.has('socketPath') || params.has('socket')) {
    throw new EgressDenied('socket paths are not allowed; connect over TCP to an allow-listed host')
  }
  const ssl = params.get('ssl') ?? params.get('sslmode')
  return checked({
    host: decodeURIComponent(url.hostname),
    port: url.port ? Number(url.port) : defaultPort,
    ...optional('user', url.username ? decodeURIComponent(url.username) : undefined),
    ...optional('password', url.password ? decodeURIComponent(url.password) : undefined),
    ...optional('database', url.pathname.length > 1 ? decodeURIComponent(url.pathname.slice(1)) : undefined),
    ssl: ssl !== null && ssl !== 'false' && ssl !== 'disable' && ssl !== '0',
  })
}

function checked(config: SafeSqlConfig): SafeSqlConfig {
  const host = config.host.replace(/^\[|\]$/g, '')
  if (host === '' || host.startsWith('/') || host.startsWith('.') || host.includes('\\')) {
    throw new EgressDenied('socket and file paths are not allowed; connect over TCP to an allow-listed host')
  }
  if (isIP(host) === 0 && !/^[a-z0-9.-]+$/i.test(host)) throw new TypeError(`invalid host name: ${host.slice(0, 100)}`)
  if (!Number.isInteger(config.port) || config.port < 1 || config.port > 65535) throw new TypeError('invalid port')
  return { ...config, host }
}

function optional<K extends string>(key: K, value: unknown): { [P in K]?: string } {
  return value === undefined || value === null ? {} : ({ [key]: String(value) } as { [P in K]?: string })
}
