import { sql, type Kysely, type RawBuilder } from 'kysely'
import type { LatchkeyDatabase } from '../database.js'
import { firstCounterRow } from './first-counter-row.js'
import type { PreparedQueries } from '../prepared-queries.js'
import { counterRowSlot, type CounterSlotQuery, type CounterSlotsQuery, type StoreDialect } from './store-dialect.js'

// SQL that SQLite and PostgreSQL share: INSERT … ON CONFLICT, with RETURNING.

/** {@link StoreDialect.upsert} as `on conflict (key) do update set …`, or `do nothing`. */
export const onConflictUpsert: StoreDialect['upsert'] = (db, table, row, key, set) => {
  const insert = (db as Kysely<any>).insertInto(table).values(row)
  return set === 'keep'
    ? insert.onConflict((oc) => oc.doNothing())
    : insert.onConflict((oc) => oc.columns([...key]).doUpdateSet(set as never))
}

/**
 * {@link StoreDialect.takeCounterSlot} in one upsert: the conflict's row lock serialises
 * racers, and the DO UPDATE … WHERE re-checks the level each one sees. No row back means refused.
 */
export async function onConflictTakeSlot(
  db: Kysely<LatchkeyDatabase>,
  prepared: PreparedQueries,
  { mode, level, values }: CounterSlotQuery,
): Promise<number | null> {
  const { rows } = await prepared.execute<{ value: number }>(
    `take-${mode}`,
    (slot) =>
      db
        .insertInto('latchkey_counters')
        .values(firstCounterRow(slot, slot(3)))
        .onConflict((oc) =>
          oc
            .columns(['connection', 'kind', 'counter_key'])
            .doUpdateSet({ value: sql`${level(slot)} + 1`, updated_at: slot(4) as never })
            .where(sql<boolean>`${level(slot)} + 1 <= ${slot(6)}`),
        )
        .returning('value'),
    values,
  )
  return rows[0] ? Number(rows[0].value) : null
}

/**
 * {@link StoreDialect.takeCounterSlots} as one multi-row upsert: rows are locked in VALUES order, and each row's
 * DO UPDATE … WHERE re-checks its own level (a CASE on its kind); RETURNING names the rows that took a slot.
 */
export async function onConflictTakeSlots(
  db: Kysely<LatchkeyDatabase>,
  prepared: PreparedQueries,
  { key, rows, level, values }: CounterSlotsQuery,
): Promise<Map<string, number>> {
  const each = Array.from({ length: rows }, (_, i) => i)
  const result = await prepared.execute<{ kind: string; value: number }>(
    key,
    (slot) => {
      const byKind = <T>(then: (i: number) => RawBuilder<unknown>) =>
        sql<T>`case latchkey_counters.kind ${sql.join(
          each.map((i) => sql`when ${slot(counterRowSlot(i, 'kind'))} then ${then(i)}`),
          sql` `,
        )} end`
      return db
        .insertInto('latchkey_counters')
        .values(
          each.map((i) => ({
            connection: slot(0),
            kind: slot(counterRowSlot(i, 'kind')),
            counter_key: slot(counterRowSlot(i, 'key')),
            value: slot(2) as never,
            updated_at: slot(1) as never,
            blocked_until: null,
          })),
        )
        .onConflict((oc) =>
          oc
            .columns(['connection', 'kind', 'counter_key'])
            .doUpdateSet({ value: byKind<number>((i) => sql`${level(slot, i)} + 1`), updated_at: slot(1) as never })
            .where(byKind<boolean>((i) => sql`${level(slot, i)} + 1 <= ${slot(counterRowSlot(i, 'capacity'))}`)),
        )
        .returning(['kind', 'value'])
    },
    values,
  )
  return new Map(result.rows.map((r) => [r.kind, Number(r.value)]))
}

/** Whole days since the epoch: `/` on BIGINT is integer division on SQLite and PostgreSQL. */
export const integerEpochDay = (column: string) => sql<number>`${sql.ref(column)} / 86400000`
