/* eslint-disable */
import type { GuestLib } from './guest-lib.js'

/**
 * `require('pg')` for scripts: the old `pg.connect(conString, (err, client, done) => …)`
 * form and `new pg.Client(config)` with connect, query and end, in callback and promise
 * forms. The work runs on the host's pg. Evaluated inside the sandbox on first `require`.
 */
function pgModule(lib: GuestLib) {
  const { call, sync, settle, invoke } = lib

  class Client {
    private readonly id: number
    constructor(config?: unknown) {
      this.id = sync('pg', 'open', { config: config ?? {} })
    }
    connect(cb?: unknown) {
      return settle(
        call('pg', 'connect', { id: this.id }).then(() => undefined),
        cb,
      )
    }
    query(text: any, values?: any, cb?: any) {
      if (typeof values === 'function') {
        cb = values
        values = undefined
      }
      const sql = typeof text === 'object' && text !== null ? text.text : text
      const params = typeof text === 'object' && text !== null && values === undefined ? text.values : values
      return settle(call('pg', 'query', { id: this.id, text: String(sql), values: params ?? [] }), cb)
    }
    end(cb?: unknown) {
      return settle(
        call('pg', 'end', { id: this.id }).then(() => undefined),
        cb,
      )
    }
    on() {
      return this
    }
  }
  function connect(config: unknown, cb: (err: unknown, client?: Client, done?: () => void) => void) {
    const client = new Client(config)
    call('pg', 'connect', { id: (client as any).id }).then(
      () =>
        invoke(cb, null, client, () => {
          /* the client closes when the run ends */
        }),
      (e: unknown) => invoke(cb, e),
    )
  }
  class Pool {
    private readonly client: Client
    constructor(config?: unknown) {
      this.client = new Client(config)
    }
    query(text: any, values?: any, cb?: any) {
      return this.client.query(text, values, cb)
    }
    connect(cb?: unknown) {
      return settle(
        (this.client.connect() as Promise<void>).then(() => Object.assign(this.client, { release() {} })),
        cb,
      )
    }
    end(cb?: unknown) {
      return this.client.end(cb)
    }
    on() {
      return this
    }
  }
  return { Client, Pool, connect }
}

export const PG_MODULE_SOURCE = `(${pgModule.toString()})`
