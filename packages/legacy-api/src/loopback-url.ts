import { isIP } from 'node:net'

/**
 * True when `url` is https, or http to a loopback host. Keys and tokens travel over these
 * URLs, so plain http is allowed only where no network sits in between.
 */
export function isSecureOrLoopback(url: string): boolean {
  let parsed: URL
  try {
    parsed = new URL(url)
  } catch {
    return false
  }
  if (parsed.protocol === 'https:') return true
  if (parsed.protocol !== 'http:') return false
  const host = parsed.hostname.replace(/^\[|\]$/g, '').toLowerCase()
  if (host === 'localhost') return true
  if (isIP(host) === 4) return host.startsWith('127.')
  return host === '::1'
}
