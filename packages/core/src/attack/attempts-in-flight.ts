import type { AttackCounterStore } from '../store/attack-counter-store.js'

/** How an attempt left its counters: it held slots and reported an outcome, or it was refused. */
export type Departure = 'settled' | 'refused'

/**
 * The attempts of this process that are taking or holding a slot of a counter, so that
 * an attempt refused by a counter that those attempts fill can wait for them to settle
 * instead of being refused for someone else's attempt that may yet succeed (a success
 * resets the pair). Keyed by store, so two connection objects of one name share it.
 */
const registries = new WeakMap<AttackCounterStore, Map<string, Set<Promise<Departure>>>>()
/** How many attempts settled on each counter while any attempt was registered on it. */
const settlements = new WeakMap<AttackCounterStore, Map<string, number>>()

export class AttemptsInFlight {
  private readonly held: Map<string, Set<Promise<Departure>>>
  private readonly settled: Map<string, number>

  constructor(
    store: AttackCounterStore,
    private readonly connection: string,
  ) {
    let registry = registries.get(store)
    if (!registry) registries.set(store, (registry = new Map()))
    this.held = registry
    let counts = settlements.get(store)
    if (!counts) settlements.set(store, (counts = new Map()))
    this.settled = counts
  }

  /** Registers one attempt on these counters; call the returned function once, when it leaves. */
  enter(counters: { kind: string; key: string }[]): (how: Departure) => void {
    let done!: (how: Departure) => void
    const departed = new Promise<Departure>((resolve) => {
      done = resolve
    })
    const keys = counters.map((c) => this.keyOf(c))
    for (const key of keys) {
      let set = this.held.get(key)
      if (!set) this.held.set(key, (set = new Set()))
      set.add(departed)
    }
    let left = false
    return (how) => {
      if (left) return
      left = true
      for (const key of keys) {
        const set = this.held.get(key)
        set?.delete(departed)
        if (how === 'settled') this.settled.set(key, (this.settled.get(key) ?? 0) + 1)
        // Kept only while someone is registered, so the maps stay as small as the attempts in flight.
        if (set?.size === 0) {
          this.held.delete(key)
          this.settled.delete(key)
        }
      }
      done(how)
    }
  }

  /**
   * Waits until an attempt in flight on this counter settles (true: worth taking a slot
   * again), or until none is left (false). Attempts that were refused themselves never
   * wake a retry, so refused attempts cannot keep waking each other.
   */
  async settledOne(counter: { kind: string; key: string }): Promise<boolean> {
    for (;;) {
      const set = this.held.get(this.keyOf(counter))
      if (!set || set.size === 0) return false
      if ((await Promise.race(set)) === 'settled') return true
    }
  }

  /**
   * How many attempts have settled on this counter so far. Read by an attempt that is registered on it (so the
   * count cannot be dropped in between): a change tells it that a slot may have been freed since it took its own.
   */
  settlementsOf(counter: { kind: string; key: string }): number {
    return this.settled.get(this.keyOf(counter)) ?? 0
  }

  private keyOf(counter: { kind: string; key: string }): string {
    return `${this.connection}\u0000${counter.kind}\u0000${counter.key}`
  }
}
