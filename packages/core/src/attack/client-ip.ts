import { BlockList, isIP } from 'node:net'

/**
 * The IP a counter is kept for: IPv4-mapped IPv6 becomes IPv4, and IPv6 is aggregated to
 * its /64, since one subscriber usually holds a whole /64. Null when `ip` is not an IP.
 */
export function normalizeClientIp(ip: string): string | null {
  const canonical = canonicalIp(ip)
  if (canonical === null || isIP(canonical) === 4) return canonical
  return `${expand(canonical).slice(0, 4).map((g) => g.toString(16)).join(':')}::/64`
}

/**
 * One spelling per address: IPv4-mapped IPv6 (`::ffff:a.b.c.d`, in any form) becomes the
 * IPv4 it carries; IPv6 is lower-cased and compressed. Null when `ip` is not an IP.
 */
export function canonicalIp(ip: string): string | null {
  const text = ip.trim().replace(/^\[|\]$/g, '').replace(/%.*$/, '').toLowerCase()
  const kind = isIP(text)
  if (kind === 4) return text
  if (kind !== 6) return null
  const groups = expand(text)
  if (groups.slice(0, 5).every((g) => g === 0) && groups[5] === 0xffff) {
    return `${groups[6]! >> 8}.${groups[6]! & 255}.${groups[7]! >> 8}.${groups[7]! & 255}`
  }
  return compress(groups)
}

function compress(groups: number[]): string {
  let bestStart = -1
  let bestLength = 1
  for (let i = 0; i < 8;) {
    if (groups[i] !== 0) { i++; continue }
    let j = i
    while (j < 8 && groups[j] === 0) j++
    if (j - i > bestLength) { bestStart = i; bestLength = j - i }
    i = j
  }
  const hex = groups.map((g) => g.toString(16))
  if (bestStart === -1) return hex.join(':')
  return `${hex.slice(0, bestStart).join(':')}::${hex.slice(bestStart + bestLength).join(':')}`
}

function expand(ip: string): number[] {
  let text = ip
  const v4 = /(\d+\.\d+\.\d+\.\d+)$/.exec(text)
  if (v4) {
    const [a, b, c, d] = v4[1]!.split('.').map(Number) as [number, number, number, number]
    text = text.slice(0, -v4[1]!.length) + `${((a << 8) | b).toString(16)}:${((c << 8) | d).toString(16)}`
  }
  const [head, tail] = text.includes('::') ? (text.split('::') as [string, string]) : [text, null]
  const parse = (s: string) => (s === '' ? [] : s.split(':').map((g) => parseInt(g, 16)))
  const left = parse(head)
  const right = tail === null ? [] : parse(tail)
  return [...left, ...new Array<number>(8 - left.length - right.length).fill(0), ...right]
}

/** An allow-list of IPs and CIDR ranges, IPv4 and IPv6. */
export class IpAllowList {
  private readonly list = new BlockList()

  constructor(entries: readonly string[]) {
    for (const entry of entries) {
      const [address, prefix] = entry.trim().split('/') as [string, string | undefined]
      const kind = isIP(address)
      if (kind === 0) throw new TypeError(`not an IP or CIDR range: ${entry}`)
      const family = kind === 4 ? 'ipv4' : 'ipv6'
      if (prefix === undefined) this.list.addAddress(address, family)
      else this.list.addSubnet(address, Number(prefix), family)
    }
  }

  has(ip: string): boolean {
    const text = ip.trim().replace(/^\[|\]$/g, '')
    const kind = isIP(text)
    if (kind === 0) return false
    const mapped = normalizeClientIp(text)
    // An IPv4-mapped address is checked as the IPv4 it carries.
    if (kind === 6 && mapped !== null && isIP(mapped) === 4) return this.list.check(mapped, 'ipv4')
    return this.list.check(text, kind === 4 ? 'ipv4' : 'ipv6')
  }
}
