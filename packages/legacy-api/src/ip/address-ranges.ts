import ipaddr from 'ipaddr.js'

type Address = ipaddr.IPv4 | ipaddr.IPv6
type Range = [Address, number]

/**
 * A list of address ranges (CIDR or single addresses, IPv4 and IPv6), parsed by ipaddr.js.
 * IPv4-mapped IPv6 forms (`::ffff:10.0.0.1`) are the IPv4 address they carry, on both
 * sides of a match, so a dual-stack socket never slips past an IPv4 entry or around it.
 */
export class AddressRanges {
  private readonly ranges: Range[]

  /** Throws a RangeError naming the first entry that is not an address or a CIDR range. */
  constructor(entries: readonly string[]) {
    this.ranges = entries.map(parseRange)
  }

  /** True when `address` lies in one of the ranges; false for anything that does not parse. */
  includes(address: string | undefined): boolean {
    const ip = parseAddress(address)
    if (ip === null) return false
    return this.ranges.some(([network, bits]) => network.kind() === ip.kind() && ip.match(network, bits))
  }
}

/** An address in its canonical kind (IPv4-mapped becomes IPv4), or null. */
export function parseAddress(text: string | undefined): Address | null {
  if (typeof text !== 'string' || !ipaddr.isValid(text)) return null
  try {
    return ipaddr.process(text)
  } catch {
    return null
  }
}

/** True when `entry` is an IP address or a CIDR range. */
export function isAddressOrRange(entry: string): boolean {
  try {
    parseRange(entry)
    return true
  } catch {
    return false
  }
}

function parseRange(entry: string): Range {
  let range: Range
  try {
    range = entry.includes('/') ? ipaddr.parseCIDR(entry) : wholeAddress(ipaddr.parse(entry))
  } catch {
    throw new RangeError(`'${entry}' is not an IP address or CIDR range`)
  }
  const [network, bits] = range
  if (network.kind() === 'ipv6' && (network as ipaddr.IPv6).isIPv4MappedAddress() && bits >= 96) {
    return [(network as ipaddr.IPv6).toIPv4Address(), bits - 96]
  }
  return range
}

function wholeAddress(address: Address): Range {
  return [address, address.kind() === 'ipv4' ? 32 : 128]
}
