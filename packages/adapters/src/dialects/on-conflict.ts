import { sql, type Kysely } from 'kysely'
import type { LatchkeyDatabase } from '../database.js'
import { firstCounterRow } from './first-counter-row.js'
import type { PreparedQueries } from '../prepared-queries.js'
import type { CounterSlotQuery, StoreDialect } from './store-dialect.js'

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

/** Whole days since the epoch: `/` on BIGINT is integer division on SQLite and PostgreSQL. */
export const integerEpochDay = (column: string) => sql<number>`${sql.ref(column)} / 86400000`
