import type { Expression } from 'kysely'
import type { CounterSlotQuery } from './store-dialect.js'

/**
 * The row a counter's first slot inserts, its values taken from the slots of a
 * {@link CounterSlotQuery}; `value` is how the dialect writes the first level.
 */
export function firstCounterRow(slot: (i: number) => string, value: string | Expression<unknown>) {
  return {
    connection: slot(0),
    kind: slot(1),
    counter_key: slot(2),
    value: value as never,
    updated_at: slot(4) as never,
    blocked_until: null,
  }
}
