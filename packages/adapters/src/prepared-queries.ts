import { CompiledQuery, type Compilable, type Kysely } from 'kysely'

type Param = { slot: number } | { value: unknown }

/** What a hot-path statement returns: its rows, or how many rows it changed. */
export interface DirectResult<R> {
  rows: R[]
  affected: number
  /** MySQL's LAST_INSERT_ID() as the statement left it (0 when it set none). */
  insertId?: number
}

/**
 * Runs one statement straight on the driver's pool as a named, server-side prepared
 * statement (pg's `name`, mysql2's `execute`), skipping Kysely's per-query connection
 * handling. Only for single statements outside transactions.
 */
export type DirectExecutor = (name: string, sql: string, parameters: unknown[]) => Promise<DirectResult<unknown>>

/**
 * Builds a Kysely query once per key and reuses its SQL text, swapping the parameters in.
 * The login path runs the same few statements every time; building them through the
 * query builder cost more than executing them on SQLite.
 *
 * `build` gets a `slot(i)` function and must use `slot(i)` wherever value `i` goes; any
 * other parameter the builder adds (such as the 1 in `logins_count + 1`) is kept as is.
 */
export class PreparedQueries {
  private readonly cache = new Map<string, { sql: string; params: Param[] }>()

  constructor(
    private readonly db: Kysely<any>,
    private readonly direct: DirectExecutor | undefined,
  ) {}

  /** Runs outside any transaction; with `via`, inside that transaction (never on the direct path). */
  async execute<R>(
    key: string,
    build: (slot: (i: number) => string) => Compilable,
    values: readonly unknown[],
    via?: Kysely<any>,
  ): Promise<DirectResult<R>> {
    let prepared = this.cache.get(key)
    if (!prepared) {
      const marker = `\u0000latchkey-slot-${key}-`
      const compiled = build((i) => `${marker}${i}`).compile()
      const params = compiled.parameters.map(
        (p): Param => (typeof p === 'string' && p.startsWith(marker) ? { slot: Number(p.slice(marker.length)) } : { value: p }),
      )
      prepared = { sql: compiled.sql, params }
      this.cache.set(key, prepared)
    }
    const parameters = prepared.params.map((p) => ('slot' in p ? values[p.slot] : p.value))
    if (this.direct && !via) return (await this.direct(`latchkey_${key}`, prepared.sql, parameters)) as DirectResult<R>
    const result = await (via ?? this.db).executeQuery<R>(CompiledQuery.raw(prepared.sql, parameters))
    return { rows: result.rows, affected: Number(result.numAffectedRows ?? 0n), insertId: Number(result.insertId ?? 0n) }
  }
}
