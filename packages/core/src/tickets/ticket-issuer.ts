import { z } from 'zod'
import { invalidInput } from '../input/parse-input.js'
import type { AttackCounterStore } from '../store/attack-counter-store.js'
import type { TicketPurpose, TicketRecord, TicketStore } from '../store/ticket-store.js'
import { newTicketToken, ticketTokenHash } from './ticket-token.js'

const DAY = 24 * 60 * 60
const HOUR_MS = 3600_000

/** Ticket settings of a connection. */
export const ticketSettingsSchema = z.strictObject({
  /** Default lifetime of email-verification tickets; default 5 days. */
  verifyTtlSeconds: z.number().int().positive().optional(),
  /** Default lifetime of password-reset tickets; default 1 day. */
  resetTtlSeconds: z.number().int().positive().optional(),
  /** The cap on any `ttlSeconds`; default 30 days. */
  maxTtlSeconds: z
    .number()
    .int()
    .positive()
    .max(365 * DAY)
    .optional(),
  /** Tickets per email per purpose per hour; past it, creation returns null. Default 5. */
  perEmailPerHour: z.number().int().min(1).max(1000).optional(),
})
export type TicketSettings = z.input<typeof ticketSettingsSchema>

/**
 * Issues and looks up tickets for one connection: 256-bit tokens stored as SHA-256,
 * bound to a purpose, a user and an email, with capped lifetimes and an hourly
 * issuance limit per email and purpose.
 */
export class TicketIssuer {
  private readonly ttl: Record<TicketPurpose, number>
  private readonly maxTtl: number
  private readonly perHour: number

  constructor(
    private readonly connection: string,
    private readonly store: TicketStore & AttackCounterStore,
    private readonly now: () => Date,
    settings: TicketSettings = {},
    /** The counter key of an email: the connection's keyed HMAC, so the counters table holds no address. */
    private readonly counterKey: (emailNormalized: string) => Promise<string>,
  ) {
    this.ttl = { verify: settings.verifyTtlSeconds ?? 5 * DAY, reset: settings.resetTtlSeconds ?? DAY }
    this.maxTtl = settings.maxTtlSeconds ?? 30 * DAY
    this.perHour = settings.perEmailPerHour ?? 5
  }

  /** Throws InvalidInputError when `ttlSeconds` is over the cap. */
  checkTtl(ttlSeconds: number | undefined): void {
    if (ttlSeconds !== undefined && ttlSeconds > this.maxTtl) invalidInput(['ttlSeconds'], `must be at most ${this.maxTtl}`, 'too_big')
  }

  /**
   * A new ticket, or null when this email is past its hourly limit for the purpose. The
   * issuance slot is taken atomically in the store, as attack protection takes its counter
   * slots, so concurrent requests (in any number of processes) never issue more than the
   * limit. The allowance comes back an hour after the last ticket issued.
   */
  async issue(
    purpose: TicketPurpose,
    subject: { userId: string; email: string; emailNormalized: string; legacyId?: string },
    ttlSeconds?: number,
  ): Promise<{ ticket: string; expiresAt: Date; email: string } | null> {
    this.checkTtl(ttlSeconds)
    const at = this.now()
    const slot = { kind: `ticket_${purpose}`, key: await this.counterKey(subject.emailNormalized) }
    const taken = await this.store.takeCounterSlot(
      this.connection,
      { ...slot, capacity: this.perHour, mode: 'window', resetMs: HOUR_MS },
      at,
    )
    if (!taken.ok) return null
    const ticket = newTicketToken()
    const expiresAt = new Date(at.getTime() + 1000 * (ttlSeconds ?? this.ttl[purpose]))
    try {
      await this.store.insertTicket({
        token_hash: ticketTokenHash(ticket),
        connection: this.connection,
        purpose,
        user_id: subject.userId,
        email_normalized: subject.emailNormalized,
        legacy_id: subject.legacyId ?? null,
        created_at: at,
        expires_at: expiresAt,
        used_at: null,
      })
    } catch (error) {
      // No ticket was issued, so its slot goes back.
      await this.store.settleCounters(this.connection, [{ ...slot, reset: false }]).catch(() => undefined)
      throw error
    }
    return { ticket, expiresAt, email: subject.email }
  }

  /** The ticket if it exists, is this connection's, has this purpose, is unused and unexpired. */
  async live(token: string, purpose: TicketPurpose): Promise<TicketRecord | null> {
    const record = await this.store.findTicket(ticketTokenHash(token))
    const live =
      record &&
      record.connection === this.connection &&
      record.purpose === purpose &&
      record.used_at === null &&
      record.expires_at.getTime() > this.now().getTime()
    return live ? record : null
  }
}
