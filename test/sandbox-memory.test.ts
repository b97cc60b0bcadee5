// Host→guest copies never write past a full guest heap: a result that does not fit ends
// the run with a typed out-of-memory ScriptError, the worker and its other runs go on,
// and SQL results are capped by bytes as well as rows.
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { closeHashPool, ScriptError } from '@latchkey/core'
import { QuickJsRunner } from '@latchkey/sandbox'
import { DIALECTS } from './support/dialects.js'
import { httpServer } from './support/servers.js'

let api: Awaited<ReturnType<typeof httpServer>>
beforeAll(async () => {
  const body = Buffer.alloc(9.5 * 1024 * 1024, 'y')
  api = await httpServer((_req, res) => res.end(body))
})
afterAll(async () => {
  await api.close()
  await closeHashPool()
})

describe('a large bridge result and a nearly full guest heap', () => {
  it('fails the run with a typed out-of-memory ScriptError, and takes no co-tenant run with it', async () => {
    const runner = new QuickJsRunner({ workers: 1, concurrencyPerWorker: 4, timeoutMs: 30_000 })
    try {
      // Fill the heap until QuickJS refuses, give a little back, then ask for 9.5 MB.
      const hog = `async function login(email, password) {
        const keep = []
        try { for (;;) keep.push('z'.repeat(1 << 20) + keep.length) } catch (e) {}
        keep.length = keep.length - 2
        const body = await (await fetch(configuration.API + '/big')).text()
        return { user_id: String(body.length) }
      }`
      const neighbour = 'function login(email, password, cb) { setTimeout(() => cb(null, { user_id: "neighbour" }), 200) }'
      const [hogged, next] = await Promise.allSettled([
        runner.run(hog, ['a@example.com', 'Tr0ub4dor-horse-42'], {
          scriptName: 'login',
          configuration: { API: api.url },
          egress: { allow: [`127.0.0.1:${api.port}`] },
        }),
        runner.run(neighbour, ['b@example.com', 'Tr0ub4dor-horse-42'], { scriptName: 'login' }),
      ])
      expect(hogged.status).toBe('rejected')
      const error = (hogged as PromiseRejectedResult).reason as ScriptError
      expect(error).toBeInstanceOf(ScriptError)
      expect(error.message).toMatch(/out of memory/)
      expect(next).toEqual({ status: 'fulfilled', value: { value: { user_id: 'neighbour' }, logs: [] } })
      expect(runner.stats).toMatchObject({ workersStarted: 1, workersKilled: 0 })
      // The same worker still serves the next run.
      expect((await runner.run(neighbour, ['c@example.com', 'Tr0ub4dor-horse-42'], { scriptName: 'login' })).value).toEqual({
        user_id: 'neighbour',
      })
    } finally {
      await runner.close()
    }
  })
})

const SQL_CASES = {
  postgres: {
    env: 'LATCHKEY_PG_URL',
    source: `function f(cb) {
    require('pg').connect(configuration.DSN, (err, client) => {
      if (err) return cb(err)
      client.query("select repeat('x', 1000000) as s from generate_series(1, 10)", [], (e, r) => cb(e, r && r.rows.length))
    })
  }`,
  },
  mysql: {
    env: 'LATCHKEY_MYSQL_URL',
    source: `function f(cb) {
    const c = require('mysql').createConnection(configuration.DSN)
    c.query("select repeat('x', 1000000) as s from seq_1_to_10", [], (e, rows) => cb(e, rows && rows.length))
  }`,
  },
} as const

describe('SQL results are capped by bytes, not only rows', () => {
  for (const [dialect, { env, source }] of Object.entries(SQL_CASES)) {
    it.runIf(DIALECTS.includes(dialect as 'postgres' | 'mysql'))(`on ${dialect}: ten rows of 1 MB are refused`, async () => {
      const url = new URL(process.env[env]!)
      const runner = new QuickJsRunner({ workers: 1, timeoutMs: 20_000 })
      try {
        const error = await runner
          .run(source, [], { configuration: { DSN: url.toString() }, egress: { allow: [`${url.hostname}:${url.port}`] } })
          .catch((e: unknown) => e)
        expect(error).toBeInstanceOf(ScriptError)
        expect((error as Error).message).toMatch(/the query returned more than 8388608 bytes/)
        const small = source.replace('1000000', '1000')
        expect(
          (await runner.run(small, [], { configuration: { DSN: url.toString() }, egress: { allow: [`${url.hostname}:${url.port}`] } }))
            .value,
        ).toBe(10)
      } finally {
        await runner.close()
      }
    })
  }
})
