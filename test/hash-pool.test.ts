import { execFileSync } from 'node:child_process'
import { mkdirSync, writeFileSync } from 'node:fs'
import { afterAll, describe, expect, it } from 'vitest'
import { closeHashPool } from '@latchkey/core'
import { hashPoolStats } from '@latchkey/core/internal'
import { openStore } from '@latchkey/adapters'
import { BuiltinConnection } from '@latchkey/core'
import { monitorEventLoopDelay } from 'node:perf_hooks'
import { TEST_COST } from './support/test-cost.js'

afterAll(async () => {
  await closeHashPool()
})

describe('hash pool', () => {
  it('starts lazily, hashes off the main thread and reports compute time', async () => {
    await closeHashPool()
    expect(hashPoolStats()).toMatchObject({ workers: 0, jobs: 0, computeMs: 0 })
    const store = await openStore('sqlite::memory:')
    const connection = new BuiltinConnection({ name: 'pool', store, bcryptCost: 10 })
    const delay = monitorEventLoopDelay({ resolution: 5 })
    delay.enable()
    await connection.signup({ email: 'p@example.com', password: 'pw-Tr0ub4dor-42' }, { ip: '192.0.2.1' })
    delay.disable()
    const stats = hashPoolStats()
    expect(stats.workers).toBeGreaterThanOrEqual(1)
    expect(stats.jobs).toBe(1)
    // A cost-10 bcrypt takes tens of ms; had it run here the loop would have stalled that long.
    expect(stats.computeMs).toBeGreaterThan(10)
    expect(delay.max / 1e6).toBeLessThan(stats.computeMs)
    await store.close()
  })

  it('can be closed and used again', async () => {
    const store = await openStore('sqlite::memory:')
    const connection = new BuiltinConnection({ name: 'pool2', store, ...TEST_COST })
    await connection.signup({ email: 'q@example.com', password: 'pw-Tr0ub4dor-42' }, { ip: '192.0.2.1' })
    await closeHashPool()
    await expect(connection.login({ identifier: 'q@example.com', password: 'pw-Tr0ub4dor-42' }, { ip: '192.0.2.1' })).resolves.toBeTruthy()
    await store.close()
  })

  it('never keeps a process alive: its workers are unref()ed', () => {
    // A child process that hashes and then simply ends, without closeHashPool().
    const script = `
      import { BuiltinConnection } from '@latchkey/core'
      import { openStore } from '@latchkey/adapters'
      const store = await openStore('sqlite::memory:')
      const c = new BuiltinConnection({ name: 'x', store, bcryptCost: 4, unsafeLowCostForTests: true })
      await c.signup({ email: 'a@example.com', password: 'pw-Tr0ub4dor-42' }, { ip: '192.0.2.1' })
      await store.close()
      console.log('done')`
    mkdirSync('.tmp', { recursive: true })
    const file = `.tmp/unref-${process.pid}.mjs`
    writeFileSync(file, script)
    const out = execFileSync(process.execPath, [file], { timeout: 20_000 })
    expect(out.toString().trim()).toBe('done')
  })
})
