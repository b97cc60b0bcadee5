import type { CounterSpec } from '../store/user-store.js'

/**
 * Attempts in flight in every process, counted in the store next to each counter: its
 * "mark" (the counter's kind plus `~`) goes up when an attempt takes the counter's slot and
 * down when the attempt settles, whatever its outcome. A counter that is full while its mark
 * is up may be full only because of attempts that may yet succeed (a success resets it), in
 * this process or another one sharing the store, so a refused attempt waits for them instead
 * of being refused for someone else's attempt.
 */
const MARK = '~'

/** A mark clears itself once no attempt took it for this long, so a process that died holding one is forgotten. */
export const IN_FLIGHT_TTL_MS = 30_000
/** How long to wait between two looks at a mark, while others hold it. */
export const IN_FLIGHT_POLL_MS = 25

/** The in-flight mark of a counter: a window count that never refuses in practice. */
export function markOf(counter: { kind: string; key: string }): CounterSpec {
  return { kind: counter.kind + MARK, key: counter.key, mode: 'window', capacity: 1_000_000, resetMs: IN_FLIGHT_TTL_MS }
}

/** The mark of a counter as a probe: a slot is free only when no attempt holds the mark. */
export function probeOf(counter: { kind: string; key: string }): CounterSpec {
  return { ...markOf(counter), capacity: 1 }
}

export function isMark(kind: string): boolean {
  return kind.endsWith(MARK)
}
