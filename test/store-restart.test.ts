// The database server restarts in the middle of a stream of logins and signups. Every call
// either succeeds or fails with a typed error, no row is half-written, and the same
// process works again once the server is back, without being restarted itself.
import { execFile } from 'node:child_process'
import { promisify } from 'node:util'
import { afterAll, describe, expect, it } from 'vitest'
import { BuiltinConnection, closeHashPool, LatchkeyError } from '@latchkey/core'
import { openStore } from '@latchkey/adapters'
import { DIALECTS, storeUrl, uniqueName } from './support/dialects.js'
import { TEST_COST } from './support/test-cost.js'

const run = promisify(execFile)
const ctx = { ip: '203.0.113.60' }
const SERVERS = DIALECTS.filter((d) => d !== 'sqlite')

afterAll(async () => {
  await closeHashPool()
})

describe.runIf(SERVERS.length > 0)('server restarts', () => {
  for (const dialect of SERVERS) {
    it(`${dialect}: a restart mid-stream gives typed errors only, then recovers in-process`, async () => {
      const store = await openStore(storeUrl(dialect), { connectTimeoutMs: 1000 })
      const connection = new BuiltinConnection({ name: uniqueName('rs'), store, ...TEST_COST })
      await connection.signup({ email: 'steady@example.com', password: 'pw-Tr0ub4dor-42' }, ctx)

      const outcomes: { at: number; op: string; outcome: string }[] = []
      const signedUp: string[] = []
      let stop = false
      let n = 0
      const stream = async () => {
        while (!stop) {
          const i = n++
          const op = i % 2 === 0 ? 'login' : 'signup'
          const email = `user${i}@example.com`
          // Each call from its own address: the stream must not trip the signup limit.
          const from = { ip: `2001:db8:77:${i.toString(16)}::1` }
          const outcome = await (op === 'login'
            ? connection.login({ identifier: 'steady@example.com', password: 'pw-Tr0ub4dor-42' }, from)
            : connection.signup({ email, password: 'pw-Tr0ub4dor-42' }, from)
          ).then(
            () => 'ok',
            (error: unknown) => (error instanceof LatchkeyError ? error.code : `untyped: ${String(error)}`),
          )
          if (op === 'signup' && outcome === 'ok') signedUp.push(email)
          outcomes.push({ at: Date.now(), op, outcome })
          if (outcome !== 'ok') await new Promise((r) => setTimeout(r, 20))
        }
      }
      const streams = Array.from({ length: 4 }, stream)
      await new Promise((r) => setTimeout(r, 300))
      await run('bash', ['scripts/restart-database.sh', dialect, '1'], { env: process.env })
      const back = Date.now()
      await new Promise((r) => setTimeout(r, 2000))
      stop = true
      await Promise.all(streams)

      const failures = outcomes.filter((o) => o.outcome !== 'ok')
      expect(failures.length, 'the server never looked down').toBeGreaterThan(0)
      expect(failures.map((f) => f.outcome).filter((o) => o !== 'store_unavailable')).toEqual([])
      // Recovered without a new store: the last second of the stream is all successes.
      const tail = outcomes.filter((o) => o.at > back + 1000)
      expect(tail.length).toBeGreaterThan(10)
      expect(tail.filter((o) => o.outcome !== 'ok')).toEqual([])

      // Nothing half-written: every row is whole, and every acknowledged signup is there.
      const rows = await store.db.selectFrom('latchkey_users').selectAll().where('connection', '=', connection.name).execute()
      for (const row of rows) {
        expect(row.password_hash).toMatch(/^\$2b\$04\$/)
        expect(row.email_normalized).toBe(row.email)
        expect(JSON.parse(row.user_metadata)).toEqual({})
      }
      const emails = new Set(rows.map((r) => r.email))
      for (const email of signedUp) expect(emails.has(email)).toBe(true)
      await expect(connection.login({ identifier: 'steady@example.com', password: 'pw-Tr0ub4dor-42' }, ctx)).resolves.toBeTruthy()
      await store.close()
    })
  }
})
