import type { ConnectionEvents } from '../events/connection-events.js'
import type { AttackCounterStore } from '../store/attack-counter-store.js'
import { isMark } from './in-flight-marks.js'

/** A counter slot an attempt holds, and the level it reached when taken. */
export interface HeldSlot {
  kind: string
  key: string
  capacity: number
  level: number
}

/**
 * One login attempt's hold on its attack-protection counters, from
 * {@link AttackProtection.begin}. The login reports exactly one outcome: `match` (the
 * password was right), `wrongPassword`, or `release` (anything else: a blocked user, a
 * legacy store that is down). Only the first report counts, so `release` can sit in a
 * `finally`.
 */
export class LoginLease {
  private reported: Promise<void> | null = null

  /** A lease that holds nothing: attack protection is off, or the IP is exempt. */
  static free(): LoginLease {
    return new LoginLease(null, '', [], null, '', () => undefined)
  }

  constructor(
    private readonly store: AttackCounterStore | null,
    private readonly connection: string,
    private readonly slots: HeldSlot[],
    private readonly events: ConnectionEvents | null,
    private readonly idHash: string,
    private readonly leave: () => void,
    private readonly ip: string | null = null,
  ) {}

  /**
   * The password matched: the pair and the account lock go back to zero, and the attempt
   * was no failure of this IP. The write starts at once, so it overlaps the caller's own
   * writes; await the promise before answering.
   */
  match(): Promise<void> {
    return this.report(() =>
      this.store!.settleCounters(
        this.connection,
        // An in-flight mark only goes down: other attempts may still hold it.
        this.slots.map((s) => ({ kind: s.kind, key: s.key, reset: s.kind !== 'ip' && !isMark(s.kind) })),
      ),
    )
  }

  /** The password was wrong: the slots stay counted (the in-flight marks go down), and a counter that is now full says so. */
  wrongPassword(): void {
    void this.report(async () => {
      const marks = this.slots.filter((s) => isMark(s.kind))
      const settled =
        marks.length === 0
          ? null
          : this.store!.settleCounters(
              this.connection,
              marks.map((s) => ({ ...s, reset: false })),
            )
      for (const slot of this.slots) {
        if (isMark(slot.kind) || slot.level < slot.capacity) continue
        this.events!.emit(slot.kind === 'ip' ? 'limit_mu' : 'limit_wc', {
          ...(this.ip === null ? {} : { ip: this.ip }),
          identifier_hash: this.idHash,
          details: { counter: slot.kind, threshold: slot.capacity },
        })
      }
      await settled
    })
  }

  /**
   * Anything but a password verdict: the slots are given back, so an outage never locks
   * users out. A no-op once the attempt reported a match or a wrong password.
   */
  release(): Promise<void> {
    return this.report(() =>
      this.store!.settleCounters(
        this.connection,
        this.slots.map((s) => ({ kind: s.kind, key: s.key, reset: false })),
      ),
    )
  }

  private report(write: () => Promise<void>): Promise<void> {
    if (this.reported) return this.reported
    const settled = this.slots.length === 0 ? Promise.resolve() : write()
    // Waiters wake once the counters hold this attempt's outcome, whether the write worked or not.
    this.reported = settled.finally(this.leave)
    // Observed at once: a caller may still be busy when the write fails; it awaits later.
    this.reported.catch(() => undefined)
    return this.reported
  }
}
