import { isIP } from 'node:net'
import ipaddr from 'ipaddr.js'

type Address = ipaddr.IPv4 | ipaddr.IPv6

/**
 * An address as a client or an allow-list gives it. node's `isIP` decides what is an
 * address (strict dotted quads: ipaddr.js alone would also take `10` or `0x0a.1`);
 * ipaddr.js does the rest. Brackets and a zone index are dropped.
 */
function parseAddress(text: string): Address | null {
  const bare = text
    .trim()
    .replace(/^\[|\]$/g, '')
    .replace(/%.*$/, '')
  return isIP(bare) === 0 ? null : ipaddr.parse(bare)
}

/** IPv4-mapped IPv6 (`::ffff:a.b.c.d`, in any spelling) is the IPv4 it carries. */
function unmapped(address: Address): Address {
  return address instanceof ipaddr.IPv6 && address.isIPv4MappedAddress() ? address.toIPv4Address() : address
}

/**
 * The IP a counter is kept for: IPv4-mapped IPv6 becomes IPv4, and IPv6 is aggregated to
 * its /64, since one subscriber usually holds a whole /64. Null when `ip` is not an IP.
 */
export function normalizeClientIp(ip: string): string | null {
  const parsed = parseAddress(ip)
  if (parsed === null) return null
  const address = unmapped(parsed)
  if (address instanceof ipaddr.IPv4) return address.toString()
  return `${address.parts
    .slice(0, 4)
    .map((g) => g.toString(16))
    .join(':')}::/64`
}

/**
 * One spelling per address: IPv4-mapped IPv6 becomes the IPv4 it carries; IPv6 is
 * lower-cased and compressed (RFC 5952). Null when `ip` is not an IP.
 */
export function canonicalIp(ip: string): string | null {
  const parsed = parseAddress(ip)
  return parsed === null ? null : unmapped(parsed).toString()
}

/**
 * An allow-list entry: an address, or a CIDR range whose prefix is 0–32 (IPv4) or 0–128
 * (IPv6) written out in full. Null when malformed: `10.0.0.0/` is not `/0`, and `/33` is
 * not a range. An IPv4-mapped range of /96 or longer is the IPv4 range it carries.
 */
export function parseCidr(entry: string): [Address, number] | null {
  const m = /^([^/\s]+)(?:\/(\d{1,3}))?$/.exec(entry.trim())
  if (!m) return null
  const address = parseAddress(m[1]!)
  if (address === null) return null
  const max = address instanceof ipaddr.IPv4 ? 32 : 128
  const bits = m[2] === undefined ? max : Number(m[2])
  if (bits > max) return null
  if (address instanceof ipaddr.IPv6 && address.isIPv4MappedAddress() && bits >= 96) return [address.toIPv4Address(), bits - 96]
  return [address, bits]
}

/** An allow-list of IPs and CIDR ranges, IPv4 and IPv6; entries are checked with {@link parseCidr} first. */
export class IpAllowList {
  private readonly ranges: [Address, number][]

  constructor(entries: readonly string[]) {
    this.ranges = entries.map((entry) => {
      const range = parseCidr(entry)
      if (!range) throw new TypeError('not an IP or CIDR range')
      return range
    })
  }

  has(ip: string): boolean {
    const parsed = parseAddress(ip)
    if (parsed === null || this.ranges.length === 0) return false
    // An IPv4-mapped address is checked as the IPv4 it carries.
    const address = unmapped(parsed)
    return this.ranges.some(([range, bits]) => range.kind() === address.kind() && address.match(range, bits))
  }
}
