import type { IncomingMessage } from 'node:http'
import proxyaddr from 'proxy-addr'
import ipaddr from 'ipaddr.js'

/** The address the request names for its client (a forwarded one) is not an IP. */
export class UnusableClientIpError extends Error {}

/**
 * The end user's IP: the peer address the adapter saw, or, when `trustProxy` names how
 * many proxies stand in front of the app, the address that many hops back in
 * `X-Forwarded-For` (Express's `trust proxy` = n, parsed by proxy-addr). Without
 * `trustProxy` the header is ignored, so a client cannot choose its own counter.
 * Null when the chosen address is not an IP.
 */
export function clientIp(remoteAddress: string | undefined, forwardedFor: string | null, trustProxy: number): string | null {
  if (remoteAddress === undefined) return null
  let address = remoteAddress
  if (trustProxy > 0 && forwardedFor !== null) {
    // proxy-addr reads only these two fields of a node request.
    const req = { headers: { 'x-forwarded-for': forwardedFor }, socket: { remoteAddress } } as unknown as IncomingMessage
    address = proxyaddr(req, (_addr, hop) => hop < trustProxy)
  }
  if (!ipaddr.isValid(address)) return null
  const parsed = ipaddr.parse(address)
  // An IPv4-mapped IPv6 peer (a dual-stack socket) is the IPv4 it carries.
  if (parsed.kind() === 'ipv6' && (parsed as ipaddr.IPv6).isIPv4MappedAddress()) {
    return (parsed as ipaddr.IPv6).toIPv4Address().toString()
  }
  return parsed.toString()
}
