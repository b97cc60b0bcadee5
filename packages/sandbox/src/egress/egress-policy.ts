import { lookup } from 'node:dns/promises'
import { BlockList, isIP } from 'node:net'
import { canonicalIp as canonicalIpOf } from '@latchkey/core/internal'

/**
 * A run's egress allow-list (SPEC §3): scripts reach the hosts listed and nothing else.
 *
 * - An entry is `host` or `host:port` (`[v6]:port` for IPv6 literals); without a port,
 *   every port of that host is allowed.
 * - A listed hostname allows the addresses it resolves to, private ones included.
 * - Loopback, unspecified, link-local and metadata addresses, and the IPv6 forms that
 *   embed an IPv4 address, are reachable only when listed as an IP literal ({@link isSpecial}).
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
    throw new EgressDenied(
      `${literal ? 'address' : 'host'} ${formatHost(host)}:${port} is not on this connection's egress allow-list` +
        (literal === null && candidates.some(isSpecial)
          ? ' (it resolves to a loopback, link-local or metadata address, which must be listed as an IP literal)'
          : ''),
    )
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
SPECIAL.addSubnet('192.0.0.0', 24, 'ipv4') // IETF protocol assignments (DS-Lite, NAT64 discovery)
SPECIAL.addSubnet('224.0.0.0', 4, 'ipv4') // multicast
SPECIAL.addSubnet('240.0.0.0', 4, 'ipv4') // reserved, and the broadcast address
SPECIAL.addSubnet('::', 96, 'ipv6') // unspecified, loopback and IPv4-compatible (::a.b.c.d)
SPECIAL.addSubnet('fe80::', 10, 'ipv6') // link-local
SPECIAL.addSubnet('fec0::', 10, 'ipv6') // site-local (deprecated, still routed by some stacks)
SPECIAL.addSubnet('ff00::', 8, 'ipv6') // multicast
SPECIAL.addAddress('fd00:ec2::254', 'ipv6') // AWS metadata over IPv6
// Forms that carry an IPv4 address inside an IPv6 one, which a gateway or relay turns
// back into IPv4 (127.0.0.1, 169.254.169.254…): refused whole, whatever they embed.
SPECIAL.addSubnet('64:ff9b::', 96, 'ipv6') // NAT64
SPECIAL.addSubnet('64:ff9b:1::', 48, 'ipv6') // local-use NAT64
SPECIAL.addSubnet('2002::', 16, 'ipv6') // 6to4
SPECIAL.addSubnet('2001::', 32, 'ipv6') // Teredo

/**
 * Loopback, unspecified, link-local, site-local, metadata, multicast and reserved
 * addresses, and the IPv6 forms that embed an IPv4 address (IPv4-compatible, NAT64, 6to4,
 * Teredo; IPv4-mapped ones are checked as the IPv4 they map): reachable only as a listed
 * IP literal.
 */
export function isSpecial(address: string): boolean {
  const ip = canonicalIp(address)
  return SPECIAL.check(ip, isIP(ip) === 6 ? 'ipv6' : 'ipv4')
}

/** One spelling per address (core's): IPv4-mapped IPv6 becomes IPv4; IPv6 is compressed. */
export function canonicalIp(address: string): string {
  return canonicalIpOf(address) ?? address.toLowerCase()
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
  return hostname
    .trim()
    .toLowerCase()
    .replace(/^\[|\]$/g, '')
    .replace(/\.$/, '')
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
