import type { LatchkeyEvent } from '@latchkey/core'

/** Collects a connection's events for assertions. */
export function eventLog() {
  const events: LatchkeyEvent[] = []
  return {
    events,
    onEvent: (e: LatchkeyEvent) => {
      events.push(e)
    },
    types: () => events.map((e) => e.type),
    clear: () => {
      events.length = 0
    },
  }
}
