import { RateLimiterMemory, RateLimiterRes } from 'rate-limiter-flexible'
import { TooManyAttemptsError } from '@latchkey/core'
import { normalizeClientIp } from '@latchkey/core/internal'

/**
 * Password-reset requests per client IP (IPv6 per /64, as attack protection counts). Kept
 * in this process's memory by rate-limiter-flexible: it only slows one source down, the
 * per-email issuance limit in the store is what bounds the mail an address receives.
 */
export class ForgotLimiter {
  private readonly limiter: RateLimiterMemory

  constructor(limit: { requests: number; perSeconds: number }) {
    this.limiter = new RateLimiterMemory({ points: limit.requests, duration: limit.perSeconds })
  }

  /** @throws TooManyAttemptsError with `retryAfter` once the IP has used its allowance. */
  async take(ip: string | null): Promise<void> {
    const key = (ip !== null && normalizeClientIp(ip)) || 'unknown'
    try {
      await this.limiter.consume(key)
    } catch (result) {
      if (!(result instanceof RateLimiterRes)) throw result
      throw new TooManyAttemptsError('Too many reset requests. Try again later.', Math.ceil(result.msBeforeNext / 1000))
    }
  }
}
