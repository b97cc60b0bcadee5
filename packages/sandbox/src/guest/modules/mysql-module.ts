/* eslint-disable */
import type { GuestLib } from './guest-lib.js'

/**
 * `require('mysql')` for scripts, shaped like the mysql package: createConnection,
 * connect, query with `?` placeholders (and `SET ?`), end; plus createPool. The work runs
 * on the host's mysql2. Evaluated inside the sandbox on first `require`; self-contained.
 */
function mysqlModule(lib: GuestLib) {
  const { call, sync, invoke: later } = lib

  function createConnection(config: unknown) {
    const id = sync('mysql', 'open', { config })
    const connection = {
      connect(cb?: unknown) {
        call('mysql', 'connect', { id }).then(
          () => later(cb, null),
          (e: unknown) => later(cb, e),
        )
      },
      query(sql: any, values?: any, cb?: any) {
        if (typeof values === 'function') {
          cb = values
          values = undefined
        }
        const text = typeof sql === 'object' && sql !== null ? sql.sql : sql
        const params = typeof sql === 'object' && sql !== null && values === undefined ? sql.values : values
        const promise = call('mysql', 'query', { id, sql: String(text), values: params ?? [] }).then((r: any) =>
          r.rows === null ? r.info : r.rows,
        )
        promise.then(
          (results: unknown) => later(cb, null, results, []),
          (e: unknown) => later(cb, e),
        )
        return promise
      },
      end(cb?: unknown) {
        call('mysql', 'end', { id }).then(
          () => later(cb, null),
          (e: unknown) => later(cb, e),
        )
      },
      destroy() {
        call('mysql', 'end', { id }).catch(() => undefined)
      },
      release() {
        /* a pooled connection here is a plain one; it closes when the run ends */
      },
      on() {
        return connection
      },
    }
    return connection
  }
  function createPool(config: unknown) {
    const connection = createConnection(config)
    return {
      query: connection.query,
      getConnection(cb: unknown) {
        later(cb, null, connection)
      },
      end: connection.end,
      on() {
        return this
      },
    }
  }
  const escape = (value: unknown): string => {
    if (value === null || value === undefined) return 'NULL'
    if (typeof value === 'number' || typeof value === 'boolean') return String(value)
    return `'${String(value).replace(/[\0\n\r\b\t\\'"\x1a]/g, (c) => (({ '\0': '\\0', '\n': '\\n', '\r': '\\r', '\b': '\\b', '\t': '\\t', '\x1a': '\\Z' }) as Record<string, string>)[c] ?? `\\${c}`)}'`
  }
  return { createConnection, createPool, escape }
}

export const MYSQL_MODULE_SOURCE = `(${mysqlModule.toString()})`
