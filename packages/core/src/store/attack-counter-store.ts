/**
 * The attack-protection role of a store: counters of failed logins and signups, taken
 * and settled atomically so that every process sharing the store sees one count.
 */
export interface AttackCounterStore {
  /**
   * Takes one slot of an attack-protection counter, atomically, if one is free; never
   * overshoots `capacity` under concurrency, across processes too.
   *
   * - `window`: the count resets once `resetMs` has passed since its last counted slot.
   * - `leak`: the level drains steadily by `capacity / resetMs` per ms.
   *
   * Returns the level after taking the slot, or the ms until one frees.
   */
  takeCounterSlot(
    connection: string,
    counter: CounterSpec,
    at: Date,
  ): Promise<{ ok: true; level: number } | { ok: false; retryAfterMs: number }>
  /**
   * {@link takeCounterSlot} for each of one attempt's counters (of distinct kinds), each taken or refused on its own,
   * results in the same order. A store may take them in one statement; that is the login path's main cost.
   */
  takeCounterSlots(
    connection: string,
    counters: readonly CounterSpec[],
    at: Date,
  ): Promise<({ ok: true; level: number } | { ok: false; retryAfterMs: number })[]>

  /**
   * After an attempt, in one statement: each counter either gives its slot back or, with
   * `reset`, goes back to zero (a success resets a brute-force pair).
   */
  settleCounters(connection: string, counters: { kind: string; key: string; reset: boolean }[]): Promise<void>

  /** Deletes counters of `kind` whose key equals `key`, or starts with `keyPrefix`. */
  clearCounters(connection: string, kind: string, match: { key: string } | { keyPrefix: string }): Promise<void>
}

/** One attack-protection counter and its limit. */
export interface CounterSpec {
  kind: string
  key: string
  capacity: number
  mode: 'window' | 'leak'
  resetMs: number
}
