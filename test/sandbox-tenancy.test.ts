// One tenant's runaway or flood never fails, or is blamed on, another tenant's run:
// deadlines count from run(), the queue is bounded, and a worker lost to a runaway script
// moves, re-runs or truthfully fails the other runs it held.
import { afterAll, describe, expect, it } from 'vitest'
import {
  closeHashPool,
  CustomScriptConnection,
  LatchkeyError,
  ScriptError,
  ScriptRunnerBusyError,
  ScriptTimeoutError,
} from '@latchkey/core'
import { QuickJsRunner, type WorkerLostEvent } from '@latchkey/sandbox'

const ctx = { ip: '203.0.113.5' }
const PASSWORD = 'Tr0ub4dor-horse-42'
const SLEEP = 'function f(ms, cb) { setTimeout(() => cb(null, ms), ms) }'
const TRIVIAL = 'function f(cb) { cb(null, "done") }'
const settle = <T>(p: Promise<T>) =>
  p.then(
    (value) => ({ value }),
    (error: unknown) => ({ error: error as Error }),
  )

afterAll(async () => {
  await closeHashPool()
})

describe('deadlines and the queue', () => {
  it('a run that waits in the queue past its deadline times out at its deadline, counted from run()', async () => {
    const runner = new QuickJsRunner({ workers: 1, concurrencyPerWorker: 1, timeoutMs: 20_000 })
    try {
      await runner.run(TRIVIAL, [])
      const busy = [0, 1, 2].map(() => runner.run(SLEEP, [2500]))
      const started = Date.now()
      const late = await settle(runner.run(TRIVIAL, [], { timeoutMs: 1000 }))
      expect(late).toHaveProperty('error')
      expect((late as { error: Error }).error).toBeInstanceOf(ScriptTimeoutError)
      expect((late as { error: Error }).error.message).toBe('The script timed out after 1000 ms while waiting for a sandbox worker.')
      // Containment: it settled within its timeout and a second, not after the runs before it.
      expect(Date.now() - started).toBeLessThan(2000)
      await Promise.all(busy)
    } finally {
      await runner.close()
    }
  })

  it('refuses a run at once with ScriptRunnerBusyError (runner_busy, retryable) when the queue is full', async () => {
    const runner = new QuickJsRunner({ workers: 1, concurrencyPerWorker: 1, maxQueued: 2, timeoutMs: 20_000 })
    try {
      await runner.run(TRIVIAL, [])
      const accepted = [0, 1, 2].map(() => runner.run(SLEEP, [300]))
      const refused = await settle(runner.run(TRIVIAL, []))
      const error = (refused as { error: ScriptRunnerBusyError }).error
      expect(error).toBeInstanceOf(ScriptRunnerBusyError)
      expect(error).toBeInstanceOf(LatchkeyError)
      expect(error.code).toBe('runner_busy')
      expect(error.retryable).toBe(true)
      expect((await Promise.all(accepted)).map((r) => r.value)).toEqual([300, 300, 300])
      expect((await runner.run(TRIVIAL, [])).value).toBe('done')
    } finally {
      await runner.close()
    }
  })

  it('holds 256 waiting runs by default', async () => {
    const runner = new QuickJsRunner({ workers: 1, concurrencyPerWorker: 1, timeoutMs: 30_000 })
    try {
      await runner.run(TRIVIAL, [])
      const first = runner.run(SLEEP, [500])
      const waiting = Array.from({ length: 256 }, () => settle(runner.run(TRIVIAL, [])))
      expect(((await settle(runner.run(TRIVIAL, []))) as { error: Error }).error).toBeInstanceOf(ScriptRunnerBusyError)
      await first
      const results = await Promise.all(waiting)
      expect(results.filter((r) => 'value' in r)).toHaveLength(256)
    } finally {
      await runner.close()
    }
  })
})

describe('a runaway tenant and its neighbours on one worker', () => {
  it('moves runs that had not begun, re-runs retry-safe ones, fails writes truthfully, and tells only the host who caused it', async () => {
    const events: WorkerLostEvent[] = []
    const runner = new QuickJsRunner({ workers: 1, timeoutMs: 20_000, onEvent: (e) => events.push(e) })
    try {
      await runner.run(TRIVIAL, [])
      const spinner = new CustomScriptConnection({
        name: 'tenant-spinner',
        runner,
        attackProtection: false,
        timeoutMs: 1000,
        // One builtin call that never checks the interrupt: only terminating the worker stops it.
        scripts: { login: 'function login(e, p, cb) { cb(null, new Array(1e9).join("").length) }' },
      })
      const neighbour = new CustomScriptConnection({
        name: 'tenant-neighbour',
        runner,
        attackProtection: false,
        scripts: {
          login: 'function login(e, p, cb) { setTimeout(() => cb(null, { user_id: "n1", email: e }), 400) }',
          get_user: 'function getUser(e, cb) { cb(null, { user_id: "n2", email: e }) }',
        },
      })
      // Begun before the runaway: a login (retry-safe) and a write that is not.
      const begunLogin = settle(neighbour.login({ identifier: 'a@example.com', password: PASSWORD }, ctx))
      const begunWrite = settle(
        runner.run('function create(u, cb) { setTimeout(() => cb(null, "written"), 400) }', [{}], {
          scriptName: 'create',
          global: 'neighbour-lane',
        }),
      )
      await new Promise((r) => setTimeout(r, 100))
      const runaway = settle(spinner.login({ identifier: 'x@example.com', password: PASSWORD }, ctx))
      await new Promise((r) => setTimeout(r, 300))
      // Sent while the worker spins: it has not begun when the worker is terminated.
      const notBegun = settle(neighbour.getUser('b@example.com'))

      const culprit = await runaway
      expect((culprit as { error: Error }).error).toBeInstanceOf(ScriptTimeoutError)
      expect((culprit as { error: Error }).error.message).toMatch(/did not stop/)
      expect(await begunLogin).toEqual({ value: { user_id: 'n1', email: 'a@example.com' } })
      expect(await notBegun).toEqual({ value: { user_id: 'n2', email: 'b@example.com' } })
      const write = (await begunWrite) as { error: ScriptError }
      expect(write.error).toBeInstanceOf(ScriptError)
      expect(write.error).not.toBeInstanceOf(ScriptTimeoutError)
      expect(write.error.retryable).toBe(true)
      expect(write.error.message).toBe(
        'The create script could not finish: its sandbox worker was lost to another run that did not stop. It may be retried.',
      )
      expect(write.error.message).not.toContain('spinner')
      expect(events).toEqual([{ type: 'worker_lost', connection: 'tenant-spinner', scriptName: 'login', moved: 1, rerun: 1, failed: 1 }])
      expect(runner.stats.workersKilled).toBe(1)
    } finally {
      await runner.close()
    }
  })
})
