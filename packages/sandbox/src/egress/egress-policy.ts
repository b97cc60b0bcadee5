import { lookup } from 'node:dns/promises'
import { BlockList, isIP } from 'node:net'

/**
 * A run's egress allow-list (SPEC §3): scripts reach the hosts listed and nothing else.
 *
 * - An entry is `host` or `host:port` (`[v6]:port` for IPv6 literals); without a port,
 *   every port of that host is allowed.
 * - A listed hostname allows the addresses it resolves to, private ones included.
 * - Loopback, unspecified, link-local and metadata addresses (and their IPv4-mapped
 *   forms) are reachable only when listed as an IP literal.
 * - Every check is on the resolved address, at connect time; callers connect to the
 *   address that was checked, so a DNS answer that changes in between cannot redirect them.
 */
export class EgressPolicy {
  private readonly entries: { host: string; ip: string | null; port: number | null }[]

  constructor(allow: readonly string[]) {
    this.entries = allow.map(parseEntry)
  }

  /**
   * Resolves `hostname` and returns the first address this policy allows for `port`.
   * Throws an `EgressDenied` error before any connection is attempted otherwise.
   */
  async resolve(hostname: string, port: number): Promise<string> {
    const host = normalizeHost(hostname)
    if (host === '') throw new EgressDenied('an empty host is not allowed')
    const literal = isIP(host) !== 0 ? canonicalIp(host) : null
    // An unlisted name is refused before any DNS query: a lookup could itself leak data.
    if (literal === null && !this.entries.some((e) => e.ip === null && e.host === host && (e.port === null || e.port === port))) {
      throw new EgressDenied(`host ${host}:${port} is not on this connection's egress allow-list`)
    }
    const candidates = literal ? [literal] : (await lookupAll(host)).map(canonicalIp)
    for (const address of candidates) {
      if (this.allows(host, literal, address, port)) return address
    }
    throw new EgressDenied(`${literal ? 'address' : 'host'} ${formatHost(host)}:${port} is not on this connection's egress allow-list` +
      (literal === null && candidates.some(isSpecial) ? ' (it resolves to a loopback, link-local or metadata address, which must be listed as an IP literal)' : ''))
  }

  private allows(host: string, literal: string | null, address: string, port: number): boolean {
    return this.entries.some((e) => {
      if (e.port !== null && e.port !== port) return false
      if (e.ip !== null) return e.ip === address
      // A hostname entry: the name must match, and its addresses may not be special ones.
      return literal === null && e.host === host && !isSpecial(address)
    })
  }
}

/** The error the bridges raise; the runner turns it into core's EgressDeniedError. */
export class EgressDenied extends Error {
  constructor(message: string) {
    super(`Egress denied: ${message}`)
    this.name = 'EgressDeniedError'
  }
}

const SPECIAL = new BlockList()
SPECIAL.addSubnet('127.0.0.0', 8, 'ipv4') // loopback
SPECIAL.addSubnet('0.0.0.0', 8, 'ipv4') // "this network", includes the unspecified address
SPECIAL.addSubnet('169.254.0.0', 16, 'ipv4') // link-local, includes 169.254.169.254 (cloud metadata)
SPECIAL.addAddress('100.100.100.200', 'ipv4') // Alibaba Cloud metadata
SPECIAL.addAddress('::1', 'ipv6')
SPECIAL.addAddress('::', 'ipv6')
SPECIAL.addSubnet('fe80::', 10, 'ipv6') // link-local
SPECIAL.addAddress('fd00:ec2::254', 'ipv6') // AWS metadata over IPv6

/** Loopback, unspecified, link-local or metadata: reachable only as a listed IP literal. */
export function isSpecial(address: string): boolean {
  const ip = canonicalIp(address)
  return SPECIAL.check(ip, isIP(ip) === 6 ? 'ipv6' : 'ipv4')
}

/** IPv4-mapped IPv6 (::ffff:a.b.c.d, in any spelling) becomes plain IPv4; IPv6 is lower-cased and compressed. */
export function canonicalIp(address: string): string {
  const ip = address.replace(/^\[|\]$/g, '').toLowerCase()
  if (isIP(ip) !== 6) return ip
  const expanded = expandIpv6(ip)
  if (expanded.slice(0, 5).every((g) => g === 0) && expanded[5] === 0xffff) {
    return `${expanded[6]! >> 8}.${expanded[6]! & 255}.${expanded[7]! >> 8}.${expanded[7]! & 255}`
  }
  return compressIpv6(expanded)
}

function expandIpv6(ip: string): number[] {
  let text = ip
  const v4 = /(\d+\.\d+\.\d+\.\d+)$/.exec(text)
  if (v4) {
    const [a, b, c, d] = v4[1]!.split('.').map(Number) as [number, number, number, number]
    text = text.slice(0, -v4[1]!.length) + `${((a << 8) | b).toString(16)}:${((c << 8) | d).toString(16)}`
  }
  const [head, tail] = text.includes('::') ? text.split('::') as [string, string] : [text, null]
  const parse = (s: string) => (s === '' ? [] : s.split(':').map((g) => parseInt(g, 16)))
  const left = parse(head)
  const right = tail === null ? [] : parse(tail)
  return [...left, ...new Array<number>(8 - left.length - right.length).fill(0), ...right]
}

function compressIpv6(groups: number[]): string {
  let bestStart = -1
  let bestLength = 0
  for (let i = 0; i < 8;) {
    if (groups[i] !== 0) { i++; continue }
    let j = i
    while (j < 8 && groups[j] === 0) j++
    if (j - i > bestLength && j - i > 1) { bestStart = i; bestLength = j - i }
    i = j
  }
  const hex = groups.map((g) => g.toString(16))
  if (bestStart === -1) return hex.join(':')
  return `${hex.slice(0, bestStart).join(':')}::${hex.slice(bestStart + bestLength).join(':')}`
}

function parseEntry(entry: string): { host: string; ip: string | null; port: number | null } {
  const text = entry.trim().toLowerCase()
  let host = text
  let port: number | null = null
  const bracketed = /^\[([^\]]+)\](?::(\d+))?$/.exec(text)
  if (bracketed) {
    host = bracketed[1]!
    port = bracketed[2] ? Number(bracketed[2]) : null
  } else if (isIP(text) !== 6) {
    const m = /^(.*):(\d+)$/.exec(text)
    if (m) {
      host = m[1]!
      port = Number(m[2])
    }
  }
  if (port !== null && (port < 1 || port > 65535)) throw new EgressDenied(`invalid port in egress entry '${entry}'`)
  host = normalizeHost(host)
  return { host, ip: isIP(host) !== 0 ? canonicalIp(host) : null, port }
}

function normalizeHost(hostname: string): string {
  return hostname.trim().toLowerCase().replace(/^\[|\]$/g, '').replace(/\.$/, '')
}

function formatHost(host: string): string {
  return isIP(host) === 6 ? `[${host}]` : host
}

async function lookupAll(host: string): Promise<string[]> {
  try {
    return (await lookup(host, { all: true, verbatim: true })).map((a) => a.address)
  } catch (error) {
    throw new Error(`host ${host} could not be resolved (${(error as NodeJS.ErrnoException).code ?? 'lookup failed'})`, { cause: error })
  }
}
