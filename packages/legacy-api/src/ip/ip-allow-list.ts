import proxyaddr from 'proxy-addr'
import { z } from 'zod'
import { parseOptions } from '../invalid-options-error.js'
import { sendJson } from '../json-response.js'
import type { Middleware } from '../middleware.js'
import { AddressRanges, isAddressOrRange } from './address-ranges.js'

/** Options of {@link ipAllowList}. */
export const ipAllowListOptionsSchema = z.strictObject({
  /**
   * How many reverse proxies in front of this server to trust. 0 (the default) uses the
   * socket's peer address and ignores `X-Forwarded-For`; n takes the address n hops back
   * in `X-Forwarded-For`, the way Express's numeric `trust proxy` does.
   */
  trustProxy: z.number().int().min(0).max(10).optional(),
})
export type IpAllowListOptions = z.input<typeof ipAllowListOptionsSchema>

/** The allow-list: IPv4 or IPv6 addresses and CIDR ranges. */
export const cidrListSchema = z
  .array(z.string().min(1).max(64).refine(isAddressOrRange, 'must be an IP address or a CIDR range'))
  .min(1)
  .max(1000)

/**
 * Middleware that answers 403 to any caller whose address is not in `cidrs` (IPv4 and IPv6
 * addresses or CIDR ranges; IPv4-mapped IPv6 addresses count as IPv4). Addresses and proxy
 * chains are parsed by ipaddr.js and proxy-addr.
 *
 * An allow-list is never enough alone: addresses are shared (cloud egress ranges, NAT), so
 * put {@link requireAccessToken} behind it.
 *
 * @example
 * app.use(ipAllowList(['10.20.0.0/16', '2001:db8::/32'], { trustProxy: 1 }))
 */
export function ipAllowList(cidrs: readonly string[], options: IpAllowListOptions = {}): Middleware {
  const ranges = new AddressRanges(parseOptions(cidrListSchema, cidrs, 'ipAllowList cidrs'))
  const o = parseOptions(ipAllowListOptionsSchema, options, 'ipAllowList')
  const hops = o.trustProxy ?? 0
  const trust = (_address: string, hop: number) => hop < hops
  return (req, res, next) => {
    // With no trusted hop, X-Forwarded-For is never read: the peer is the socket's address.
    const address = hops === 0 ? req.socket.remoteAddress : proxyaddr(req, trust)
    if (!ranges.includes(address)) {
      sendJson(res, 403, { error: 'forbidden', error_description: 'This address may not call this API' })
      return
    }
    next()
  }
}
