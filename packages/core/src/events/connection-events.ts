import { createHmac, randomBytes } from 'node:crypto'
import type { RequestContext } from '../connection/database-connection.js'
import { isEmail, normalizeEmail } from '../profile/email.js'
import type { SettingStore } from '../store/setting-store.js'
import { deliverEvent, type EventListener, type LatchkeyEvent, type LatchkeyEventType } from './events.js'

export type EventFields = Omit<LatchkeyEvent, 'type' | 'connection' | 'at'> & RequestContext

/**
 * A connection's event output and its identifier hashing. Identifiers are named in events
 * only by a keyed HMAC of their normalised form. With a store the key is created once per
 * connection name and shared by every process; without one it lives in this process only.
 */
export class ConnectionEvents {
  private key: Promise<string> | null = null

  constructor(
    private readonly connection: string,
    private readonly listener: EventListener | undefined,
    private readonly now: () => Date,
    private readonly store: SettingStore | undefined,
  ) {}

  emit(type: LatchkeyEventType, fields: EventFields = {}): void {
    const { userAgent: _userAgent, ...rest } = fields
    deliverEvent(this.listener, { type, connection: this.connection, at: this.now(), ...rest })
  }

  async hashIdentifier(identifier: string): Promise<string> {
    const normalized = isEmail(identifier) ? normalizeEmail(identifier) : identifier.trim().toLowerCase()
    // Counters only, never identity: look-alikes a legacy store's collation may treat as one
    // account ('kím', 'kîm', the Kelvin sign's 'K') share one key (accents dropped, compatibility
    // forms folded), so spelling variants cannot each get a fresh allowance.
    return this.hmac(normalized.normalize('NFKD').replace(/\p{M}/gu, '').toLowerCase())
  }

  /**
   * The keyed HMAC that names a known user's attack-protection counters, so that every identifier of the user
   * (email, username) shares them. The NUL separator keeps it apart from any identifier's hash: no identifier has one.
   */
  hashUser(userId: string): Promise<string> {
    return this.hmac(`user\u0000${userId}`)
  }

  private async hmac(text: string): Promise<string> {
    this.key ??= this.store
      ? this.store.getOrCreateSetting(this.connection, 'identifier_hmac_key', () => randomBytes(32).toString('base64url'))
      : Promise.resolve(randomBytes(32).toString('base64url'))
    return createHmac('sha256', await this.key)
      .update(text, 'utf8')
      .digest('hex')
      .slice(0, 32)
  }
}
