// bench/sandbox: what running a script in the sandbox costs against calling a plain
// function, how fast a fresh sandbox is ready, and whether the host's event loop stays
// free while a script spins. node:vm is a reference row only: it is no security boundary.
import { createContext, runInContext } from 'node:vm'
import { monitorEventLoopDelay, performance } from 'node:perf_hooks'
import { QuickJsRunner } from '@latchkey/sandbox'
import { ScriptTimeoutError } from '@latchkey/core'
import { benchSandboxSql } from './sandbox-sql.js'
import { fmt, median, report, type Row } from './support/stats.js'

const CALLBACK_ONLY = 'function login(email, password, callback) { callback(null, { user_id: "1", email }) }'

export async function benchSandbox(): Promise<boolean> {
  const rows: Row[] = []

  // Worker start-up: a new runner's first run, against a warm run on the same runner.
  let t0 = performance.now()
  const runner = new QuickJsRunner({ workers: 2, timeoutMs: 5000 })
  await runner.run(CALLBACK_ONLY, ['a@example.com', 'pw'])
  const firstRun = performance.now() - t0

  // Baseline: a plain function call that answers through a callback, as a promise.
  const plain = (email: string, _password: string, callback: (e: null, v: unknown) => void) => callback(null, { user_id: '1', email })
  const plainTimes: number[] = []
  for (let i = 0; i < 2000; i++) {
    t0 = performance.now()
    await new Promise((resolve) => plain('a@example.com', 'pw', (_e, v) => resolve(v)))
    plainTimes.push(performance.now() - t0)
  }

  // Warm: every run still gets a fresh runtime and context (no state crosses runs).
  const warm: number[] = []
  for (let i = 0; i < 400; i++) {
    t0 = performance.now()
    await runner.run(CALLBACK_ONLY, ['a@example.com', 'pw'])
    warm.push(performance.now() - t0)
  }
  const overhead = median(warm) - median(plainTimes)
  rows.push({ measure: 'warm call overhead p50 (run - plain call)', value: `${fmt(overhead, 3)} ms`, target: '<= 1 ms', ok: overhead <= 1 })
  rows.push({
    measure: 'cold sandbox p50 (new runtime + context, started worker)',
    value: `${fmt(median(warm), 3)} ms`,
    target: '<= 20 ms',
    ok: median(warm) <= 20,
  })

  // A run that also needs a new QuickJS module (fresh bounded memory) in a started worker.
  const fresh = new QuickJsRunner({ workers: 1, concurrencyPerWorker: 16, timeoutMs: 5000 })
  await fresh.run(CALLBACK_ONLY, ['a@example.com', 'pw'])
  const slow = 'function f(cb) { setTimeout(() => cb(null, 1), 50) }'
  t0 = performance.now()
  await Promise.all(Array.from({ length: 8 }, () => fresh.run(slow, [])))
  const newModules = (performance.now() - t0 - 50) / 8
  await fresh.close()
  rows.push({
    measure: 'run on a new module (instantiate + runtime + context), mean',
    value: `${fmt(newModules, 2)} ms`,
    target: '<= 20 ms',
    ok: newModules <= 20,
  })
  rows.push({
    measure: 'worker start-up (first run of a new runner - warm p50)',
    value: `${fmt(firstRun - median(warm), 1)} ms`,
    target: 'reported',
    ok: null,
  })

  // The event loop while a script spins until its deadline.
  const loop = monitorEventLoopDelay({ resolution: 1 })
  loop.enable()
  const spin = await runner.run('function f(cb) { for (;;) {} }', [], { timeoutMs: 1500 }).catch((e: unknown) => e)
  loop.disable()
  const p99 = loop.percentile(99) / 1e6
  rows.push({
    measure: 'event-loop delay p99 while a script spins 1.5 s',
    value: `${fmt(p99)} ms`,
    target: '< 20 ms',
    ok: p99 < 20 && spin instanceof ScriptTimeoutError,
  })

  // node:vm, for reference: a fresh context per call, as isolated as vm gets.
  const vmTimes: number[] = []
  for (let i = 0; i < 400; i++) {
    t0 = performance.now()
    const context = createContext({})
    runInContext(CALLBACK_ONLY, context)
    await new Promise((resolve) => (context['login'] as typeof plain)('a@example.com', 'pw', (_e, v) => resolve(v)))
    vmTimes.push(performance.now() - t0)
  }
  rows.push({
    measure: 'node:vm fresh context per call p50 (reference; not a security boundary)',
    value: `${fmt(median(vmTimes), 3)} ms`,
    target: 'reported',
    ok: null,
  })

  await runner.close()
  // Template-style SQL logins against host code, on each database whose URL is set.
  rows.push(...(await benchSandboxSql()))
  return report('sandbox (QuickJS, 2 workers)', rows, [`plain function call p50: ${fmt(median(plainTimes) * 1000, 1)} µs`])
}
