import { CompiledQuery, type Compilable, type Kysely, type QueryResult } from 'kysely'

type Param = { slot: number } | { value: unknown }

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

  constructor(private readonly db: Kysely<any>) {}

  execute<R>(key: string, build: (slot: (i: number) => string) => Compilable, values: readonly unknown[]): Promise<QueryResult<R>> {
    let prepared = this.cache.get(key)
    if (!prepared) {
      const marker = `\u0000latchkey-slot-${key}-`
      const compiled = build((i) => `${marker}${i}`).compile()
      const params = compiled.parameters.map((p): Param =>
        typeof p === 'string' && p.startsWith(marker) ? { slot: Number(p.slice(marker.length)) } : { value: p })
      prepared = { sql: compiled.sql, params }
      this.cache.set(key, prepared)
    }
    const parameters = prepared.params.map((p) => ('slot' in p ? values[p.slot] : p.value))
    return this.db.executeQuery<R>(CompiledQuery.raw(prepared.sql, parameters))
  }
}
