import { sql, type Kysely } from 'kysely'
import type { LatchkeyDatabase } from '../../database.js'
import { firstCounterRow } from '../first-counter-row.js'
import type { PreparedQueries } from '../../prepared-queries.js'
import type { CounterSlotQuery } from '../store-dialect.js'

/**
 * MySQL has no RETURNING. One conditional UPDATE takes the slot (the row lock serialises
 * racers and the WHERE re-checks the level), and LAST_INSERT_ID(expr) hands the new level
 * back in the same round trip.
 */
export async function mysqlTakeSlot(
  db: Kysely<LatchkeyDatabase>,
  prepared: PreparedQueries,
  { mode, level, values }: CounterSlotQuery,
): Promise<number | null> {
  const update = () =>
    prepared.execute(
      `take-${mode}`,
      (slot) =>
        db
          .updateTable('latchkey_counters')
          .set({ value: sql`last_insert_id(${level(slot)} + 1)`, updated_at: slot(4) as never })
          .where('connection', '=', slot(0))
          .where('kind', '=', slot(1))
          .where('counter_key', '=', slot(2))
          .where(sql<boolean>`${level(slot)} + 1 <= ${slot(6)}`),
      values,
    )
  let result = await update()
  if (result.affected === 0) {
    // Refused, or no row yet: a first slot is a row with value 1. A no-op upsert,
    // not INSERT IGNORE, which would also swallow real errors. mysql2 counts matched
    // rows, so LAST_INSERT_ID tells a fresh row (1) from an existing one (0).
    const inserted = await prepared.execute(
      'take-insert',
      (slot) =>
        db
          .insertInto('latchkey_counters')
          .values(firstCounterRow(slot, sql`last_insert_id(${slot(3)})`))
          .onDuplicateKeyUpdate({ value: sql`last_insert_id(0) + value` }),
      values,
    )
    // A row that existed (or that another racer created in between) is tried once more.
    result = inserted.insertId === 1 ? inserted : await update()
  }
  return result.affected > 0 ? Number(result.insertId) : null
}
