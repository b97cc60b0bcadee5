import { setTimeout as sleep } from 'node:timers/promises'
import { z } from 'zod'
import type { RequestContext } from '../connection/database-connection.js'
import { TooManyAttemptsError } from '../errors/errors.js'
import type { ConnectionEvents } from '../events/connection-events.js'
import { invalidInput } from '../input/parse-input.js'
import type { AttackCounterStore, CounterSpec } from '../store/attack-counter-store.js'
import { AttemptsInFlight } from './attempts-in-flight.js'
import { IN_FLIGHT_POLL_MS, IN_FLIGHT_TTL_MS, markOf, probeOf } from './in-flight-marks.js'
import { IpAllowList, normalizeClientIp, parseCidr } from './client-ip.js'
import { LoginLease } from './login-lease.js'

/** Attack protection of a connection. On by default; `false` turns all of it off. */
export const attackProtectionSchema = z.union([
  z.literal(false),
  z.strictObject({
    /** Lets login and signup run without `ctx.ip`; those calls then share no counter. Default false. */
    allowMissingIp: z.boolean().optional(),
    /** IPs and CIDR ranges (IPv4 and IPv6) exempt from every counter, such as your own servers. */
    allowList: z
      .array(
        z
          .string()
          .max(64)
          .refine((entry) => parseCidr(entry) !== null, 'must be an IP address or a CIDR range such as 10.0.0.0/8'),
      )
      .max(10_000)
      .optional(),
    /** Per identifier and IP: after `threshold` failed logins (default 10, 1–100) the pair is blocked for `blockSeconds` (default 1 hour), or until a password reset or `unblock`. */
    bruteForce: z
      .union([
        z.literal(false),
        z.strictObject({
          threshold: z.number().int().min(1).max(100).optional(),
          blockSeconds: z.number().int().positive().optional(),
          /** Also lock the account after this many failures from all IPs together. Off by default. */
          accountLockout: z.number().int().min(1).max(10_000).optional(),
          /**
           * Per account, from every IP together, on by default (NIST SP 800-63B §3.2.2): growing delays rather than a
           * lock, so an attacker cannot lock a user out cheaply. After `slowAfter` failures (default 20) one attempt a
           * minute, after `maxFailures` (default 100) one every 15 minutes, both refilling steadily; a success resets them.
           */
          accountThrottling: z
            .union([
              z.literal(false),
              z.strictObject({
                maxFailures: z.number().int().min(1).max(10_000).optional(),
                slowAfter: z.number().int().min(1).max(10_000).optional(),
              }),
            ])
            .optional(),
        }),
      ])
      .optional(),
    /** Per IP: at most `maxFailures` failed logins per `windowSeconds` (default 100 per 24 h), refilling steadily. */
    ipThrottling: z
      .union([
        z.literal(false),
        z.strictObject({
          maxFailures: z.number().int().min(1).max(1_000_000).optional(),
          windowSeconds: z.number().int().positive().optional(),
        }),
      ])
      .optional(),
    /** Per IP: at most `perMinute` signups (default 10), refilling steadily. */
    signupThrottling: z
      .union([
        z.literal(false),
        z.strictObject({
          perMinute: z.number().int().min(1).max(100_000).optional(),
        }),
      ])
      .optional(),
  }),
])
export type AttackProtectionOptions = z.input<typeof attackProtectionSchema>

/**
 * Brute-force blocking, IP throttling and signup limits, counted in the store so every
 * process shares them. Each attempt takes its counter slots atomically before any
 * password work; a refused attempt does no bcrypt work at all. Identifiers appear only
 * as keyed HMACs.
 */
export class AttackProtection {
  private readonly on: boolean
  private readonly allowMissingIp: boolean
  private readonly allowList: IpAllowList
  private readonly pair: { capacity: number; resetMs: number } | null
  private readonly account: { capacity: number; resetMs: number } | null
  /** The growing delays per account: a gentle tier, then the cap. */
  private readonly accountTiers: { kind: string; capacity: number; resetMs: number }[]
  private readonly ip: { capacity: number; resetMs: number } | null
  private readonly signup: { capacity: number; resetMs: number } | null
  private readonly inFlight: AttemptsInFlight | null

  constructor(
    options: AttackProtectionOptions | undefined,
    private readonly connection: string,
    private readonly store: AttackCounterStore | undefined,
    private readonly events: ConnectionEvents,
    private readonly now: () => Date,
  ) {
    const o = options === false ? null : (options ?? {})
    // Counters live in the store: without one (a custom-script connection may have none)
    // there is nothing to count in, and the IP is not required either.
    this.on = o !== null && store !== undefined
    this.allowMissingIp = !this.on || (o?.allowMissingIp ?? false)
    this.allowList = new IpAllowList(o?.allowList ?? [])
    const brute = o?.bruteForce === false ? null : (o?.bruteForce ?? {})
    const blockMs = (brute?.blockSeconds ?? 3600) * 1000
    this.pair = brute ? { capacity: brute.threshold ?? 10, resetMs: blockMs } : null
    this.account = brute?.accountLockout ? { capacity: brute.accountLockout, resetMs: blockMs } : null
    const throttle = !brute || brute.accountThrottling === false ? null : (brute.accountThrottling ?? {})
    const maxFailures = throttle?.maxFailures ?? 100
    const slowAfter = throttle?.slowAfter ?? 20
    this.accountTiers = !throttle
      ? []
      : [
          // Leaky buckets: after `capacity` failures, one more every resetMs / capacity.
          ...(slowAfter < maxFailures ? [{ kind: 'account_delay', capacity: slowAfter, resetMs: slowAfter * 60_000 }] : []),
          { kind: 'account_cap', capacity: maxFailures, resetMs: maxFailures * 15 * 60_000 },
        ]
    const ip = o?.ipThrottling === false ? null : (o?.ipThrottling ?? {})
    this.ip = ip ? { capacity: ip.maxFailures ?? 100, resetMs: (ip.windowSeconds ?? 24 * 3600) * 1000 } : null
    const signup = o?.signupThrottling === false ? null : (o?.signupThrottling ?? {})
    this.signup = signup ? { capacity: signup.perMinute ?? 10, resetMs: 60_000 } : null
    this.inFlight = store ? new AttemptsInFlight(store, connection) : null
  }

  /** Whether counters are kept at all (protection on, and a store to count in). */
  get enabled(): boolean {
    return this.on
  }

  /** The normalised client IP; InvalidInputError when it is required and missing or invalid. */
  clientIp(ctx: RequestContext): string | null {
    if (ctx.ip === undefined) {
      if (this.allowMissingIp) return null
      invalidInput(
        ['ip'],
        'is required for login and signup while attack protection is on (or set attackProtection: { allowMissingIp: true })',
        'invalid_type',
      )
    }
    const ip = normalizeClientIp(ctx.ip)
    if (ip === null) invalidInput(['ip'], 'must be an IPv4 or IPv6 address', 'invalid_format')
    return ip
  }

  /**
   * Begins one login attempt: takes its counter slots atomically before any password
   * work, or refuses with TooManyAttemptsError (no bcrypt work at all). A counter that is
   * full only because attempts of this process are still in flight waits for them to
   * settle, since a success among them resets the pair; so exactly `threshold` of many
   * concurrent wrong attempts are judged, and a right password is never refused because
   * others were in flight. The caller reports the outcome on the returned lease.
   *
   * `userId` names a known user: the per-identifier counters are then the user's, so a
   * user's email and username share them. An unknown identifier keeps its own, counted
   * the same way, so the counters reveal nothing about which accounts exist.
   */
  async begin(identifier: string, ctx: RequestContext, userId: string | null = null): Promise<LoginLease> {
    const ip = this.clientIp(ctx)
    if (!this.on || ip === null || this.allowList.has(ctx.ip!)) return LoginLease.free()
    const idHash = userId === null ? await this.events.hashIdentifier(identifier) : await this.events.hashUser(userId)
    const wanted: {
      kind: string
      key: string
      limit: { capacity: number; resetMs: number }
      mode: CounterSpec['mode']
      event: 'limit_wc' | 'limit_mu'
    }[] = []
    if (this.ip) wanted.push({ kind: 'ip', key: ip, limit: this.ip, mode: 'leak', event: 'limit_mu' })
    if (this.pair) wanted.push({ kind: 'pair', key: `${idHash}|${ip}`, limit: this.pair, mode: 'window', event: 'limit_wc' })
    if (this.account) wanted.push({ kind: 'account', key: idHash, limit: this.account, mode: 'window', event: 'limit_wc' })
    for (const tier of this.accountTiers) wanted.push({ kind: tier.kind, key: idHash, limit: tier, mode: 'leak', event: 'limit_wc' })
    // Each counter's in-flight mark is taken with it (in the same store call) and goes down when the attempt settles.
    const marks = wanted.map((w) => markOf(w))
    const waitUntil = Date.now() + IN_FLIGHT_TTL_MS
    for (;;) {
      // Registered before taking, so a racer refused meanwhile sees this attempt as in flight.
      const leave = this.inFlight!.enter(wanted)
      const settledBefore = wanted.map((w) => this.inFlight!.settlementsOf(w))
      // The counters are independent rows, each taken or refused on its own, in one store call.
      let results: Awaited<ReturnType<AttackCounterStore['takeCounterSlots']>>
      try {
        results = await this.store!.takeCounterSlots(
          this.connection,
          [...wanted.map((w) => ({ kind: w.kind, key: w.key, mode: w.mode, ...w.limit })), ...marks],
          this.now(),
        )
      } catch (error) {
        leave('refused')
        throw error
      }
      const counters = [...wanted.map((w) => ({ kind: w.kind, key: w.key, capacity: w.limit.capacity })), ...marks]
      const slots = counters.flatMap((c, i) => {
        const r = results[i]!
        return r.ok ? [{ kind: c.kind, key: c.key, capacity: c.capacity, level: r.level }] : []
      })
      const refusedAt = results.slice(0, wanted.length).findIndex((r) => !r.ok)
      if (refusedAt === -1) return new LoginLease(this.store!, this.connection, slots, this.events, idHash, () => leave('settled'), ip)
      // Still registered here: an attempt that settled since this one began may have freed the slot (retry at once);
      // one still in flight may yet free it (wait for it). Both are read before giving the other slots back, since
      // attempts that settle during that write would otherwise go unseen.
      const refusedCounter = wanted[refusedAt]!
      const settledSince = this.inFlight!.settlementsOf(refusedCounter) !== settledBefore[refusedAt]
      const oneSettles = this.inFlight!.settledOne(refusedCounter)
      await new LoginLease(this.store!, this.connection, slots, this.events, idHash, () => leave('refused'), ip).release()
      if (settledSince || (await oneSettles)) continue
      // None of this process's attempts holds the counter; another process's may, and a success among them resets it.
      if (Date.now() < waitUntil && (await this.othersInFlight(refusedCounter))) {
        await sleep(IN_FLIGHT_POLL_MS + Math.random() * IN_FLIGHT_POLL_MS)
        continue
      }
      const refused = results[refusedAt] as { ok: false; retryAfterMs: number }
      this.events.emit(wanted[refusedAt]!.event, { ip, identifier_hash: idHash, details: { refused: true } })
      throw new TooManyAttemptsError(undefined, Math.ceil(refused.retryAfterMs / 1000))
    }
  }

  /** Whether any attempt, in any process sharing the store, holds this counter now: a probe of its in-flight mark. */
  private async othersInFlight(counter: { kind: string; key: string }): Promise<boolean> {
    const probe = probeOf(counter)
    const [taken] = await this.store!.takeCounterSlots(this.connection, [probe], this.now())
    if (!taken?.ok) return true
    await this.store!.settleCounters(this.connection, [{ kind: probe.kind, key: probe.key, reset: false }])
    return false
  }

  /** Takes a signup slot for this IP before any work; TooManyAttemptsError when none is free. */
  async signupAllowed(ctx: RequestContext): Promise<void> {
    const ip = this.clientIp(ctx)
    if (!this.on || !this.signup || ip === null || this.allowList.has(ctx.ip!)) return
    const taken = await this.store!.takeCounterSlot(this.connection, { kind: 'signup', key: ip, mode: 'leak', ...this.signup }, this.now())
    if (!taken.ok) {
      this.events.emit('limit_signup', { ip })
      throw new TooManyAttemptsError('Too many signups from this address. Try again later.', Math.ceil(taken.retryAfterMs / 1000))
    }
  }

  /**
   * Lifts every IP pair, the account lock and the account's delays of each identifier given (a
   * user's email and username, say) and, when `userId` names their user, of that user (the
   * counters every identifier of a known user shares), once per distinct counter key.
   */
  async unblockAll(
    identifiers: readonly (string | null | undefined)[],
    reason: 'admin' | 'password_reset' = 'admin',
    userId: string | null = null,
  ): Promise<void> {
    if (!this.store) return
    const hashes = new Set(await Promise.all(identifiers.filter((id): id is string => !!id).map((id) => this.events.hashIdentifier(id))))
    const userHash = userId === null ? null : await this.events.hashUser(userId)
    await Promise.all(
      [...hashes, ...(userHash === null ? [] : [userHash])].flatMap((hash) => [
        this.store!.clearCounters(this.connection, 'pair', { keyPrefix: `${hash}|` }),
        ...['account', 'account_delay', 'account_cap'].map((kind) => this.store!.clearCounters(this.connection, kind, { key: hash })),
      ]),
    )
    // One event per identifier, as before counters were the user's; the user is named on them when known.
    for (const idHash of hashes) {
      this.events.emit('unblock', { identifier_hash: idHash, ...(userId === null ? {} : { user_id: userId }), details: { reason } })
    }
  }
}
