// bench/load: what users of a busy login endpoint would look at. Native bcrypt against
// bcryptjs (per hash and logins/s), the event loop and per-call fairness at 8 and 32
// concurrent callers, concurrent right-password logins of one account from one IP, and
// memory after 10,000 logins. Every figure is a ratio or a difference against a baseline
// measured in the same run.
import { execFileSync } from 'node:child_process'
import { availableParallelism } from 'node:os'
import { monitorEventLoopDelay, performance } from 'node:perf_hooks'
import { fileURLToPath } from 'node:url'
import native from '@node-rs/bcrypt'
import bcryptjs from 'bcryptjs'
import { BuiltinConnection, closeHashPool, TooManyAttemptsError } from '@latchkey/core'
import { hashPoolStats } from '@latchkey/core/internal'
import { openStore, type OpenedStore } from '@latchkey/adapters'
import { fmt, quantile, report, type Row } from './support/stats.js'

const COST = Number(process.env['BENCH_BCRYPT_COST'] ?? 10)
const PASSWORD = 'Tr0ub4dor-horse-42'
let nextIp = 0
const freshIp = () => ({ ip: `10.${(nextIp >> 16) & 255}.${(nextIp >> 8) & 255}.${nextIp++ & 255}` })

/** Single-thread compares per second of one implementation, measured on this thread. */
function comparesPerSecond(compare: (pw: string, hash: string) => boolean, hash: string): number {
  const n = Math.max(8, Math.round(1200 / 2 ** (COST - 4)))
  const t0 = performance.now()
  for (let i = 0; i < n; i++) compare(PASSWORD, hash)
  return n / ((performance.now() - t0) / 1000)
}

async function connectionOn(store: OpenedStore, cost = COST): Promise<{ connection: BuiltinConnection; email: string }> {
  const connection = new BuiltinConnection({
    name: `bench-load-${Date.now()}-${nextIp}`,
    store,
    bcryptCost: cost,
    unsafeLowCostForTests: cost < 10,
  })
  const email = `load${nextIp}@example.com`
  await connection.signup({ email, password: PASSWORD }, freshIp())
  return { connection, email }
}

/** `callers` concurrent loops of right-password logins, `total` in all: throughput, loop delay and per-call latency. */
async function underLoad(connection: BuiltinConnection, email: string, callers: number, total: number) {
  const loop = monitorEventLoopDelay({ resolution: 1 })
  const latencies: number[] = []
  let next = 0
  loop.enable()
  const t0 = performance.now()
  await Promise.all(
    Array.from({ length: callers }, async (_, i) => {
      // Each caller its own address: only the account is shared, as behind a busy proxy pool.
      const ctx = { ip: `172.16.${callers}.${i}` }
      while (next++ < total) {
        const started = performance.now()
        await connection.login({ identifier: email, password: PASSWORD }, ctx)
        latencies.push(performance.now() - started)
      }
    }),
  )
  const seconds = (performance.now() - t0) / 1000
  loop.disable()
  return { perSec: total / seconds, loopP99: loop.percentile(99) / 1e6, loopMax: loop.max / 1e6, latencies }
}

/** Logins/s on all cores with the engine this process's pool runs, over its own single-thread rate. */
async function throughput(): Promise<{ engine: string; perSec: number; single: number }> {
  const store = await openStore(`sqlite:.tmp/bench-load-${process.pid}-${Date.now()}.db`)
  const { connection, email } = await connectionOn(store)
  await underLoad(connection, email, 4, 8) // warm the pool and the statements
  const { perSec } = await underLoad(connection, email, availableParallelism() * 4, Math.max(40, availableParallelism() * 30))
  const engine = hashPoolStats().engine
  const hash = bcryptjs.hashSync(PASSWORD, COST)
  const single = comparesPerSecond(engine === 'native' ? native.verifySync : bcryptjs.compareSync, hash)
  await store.close()
  await closeHashPool()
  return { engine, perSec, single }
}

/** The same throughput in a child process whose pool is forced onto bcryptjs. */
function throughputWithBcryptjs(): { engine: string; perSec: number; single: number } {
  const out = execFileSync(process.execPath, ['--import', 'tsx', fileURLToPath(import.meta.url)], {
    env: { ...process.env, LATCHKEY_BCRYPT_ENGINE: 'bcryptjs', BENCH_LOAD_CHILD: 'throughput' },
  })
  return JSON.parse(out.toString().trim().split('\n').at(-1)!)
}

export async function benchLoad(): Promise<boolean> {
  const cores = availableParallelism()
  const rows: Row[] = []

  // 1. Native against bcryptjs: one hash on one thread, then logins/s on every core.
  const hash = bcryptjs.hashSync(PASSWORD, COST)
  const jsRate = comparesPerSecond(bcryptjs.compareSync, hash)
  const nativeRate = comparesPerSecond(native.verifySync, hash)
  rows.push({
    measure: 'single-thread compares/s, native / bcryptjs',
    value: `${fmt(nativeRate / jsRate)} (${fmt(nativeRate, 1)} / ${fmt(jsRate, 1)})`,
    target: 'reported',
    ok: null,
  })
  const mine = await throughput()
  const theirs = throughputWithBcryptjs()
  rows.push(
    {
      measure: `logins/s on ${cores} cores, ${mine.engine} / bcryptjs`,
      value: `${fmt(mine.perSec / theirs.perSec)} (${fmt(mine.perSec, 1)} / ${fmt(theirs.perSec, 1)})`,
      target: 'reported',
      ok: null,
    },
    {
      measure: `logins/s / single-thread compares/s (${mine.engine})`,
      value: fmt(mine.perSec / mine.single),
      target: `>= ${fmt(0.9 * cores)}`,
      ok: mine.perSec / mine.single >= 0.9 * cores,
    },
    {
      measure: 'logins/s / single-thread compares/s (bcryptjs)',
      value: fmt(theirs.perSec / theirs.single),
      target: `>= ${fmt(0.9 * cores)}`,
      ok: theirs.perSec / theirs.single >= 0.9 * cores,
    },
  )

  const store = await openStore(`sqlite:.tmp/bench-load-${Date.now()}.db`)
  // 2. The event loop and fairness at 8 and 32 callers.
  for (const callers of [8, 32]) {
    const { connection, email } = await connectionOn(store)
    const r = await underLoad(connection, email, callers, callers * 4)
    const p50 = quantile(r.latencies, 0.5)
    const p99 = quantile(r.latencies, 0.99)
    rows.push(
      {
        measure: `event-loop delay p99 / max, ${callers} callers`,
        value: `${fmt(r.loopP99)} / ${fmt(r.loopMax)} ms`,
        target: '< 20 / < 50 ms',
        ok: r.loopP99 < 20 && r.loopMax < 50,
      },
      {
        measure: `per-call p99 / p50, ${callers} callers`,
        value: `${fmt(p99 / p50)} (${fmt(p99)} / ${fmt(p50)} ms)`,
        target: callers === 32 ? '<= 1.5' : 'reported',
        ok: callers === 32 ? p99 / p50 <= 1.5 : null,
      },
    )
  }

  // 3. 32 right-password logins of one account from one IP, all at once.
  {
    const { connection, email } = await connectionOn(store)
    const ctx = { ip: '198.51.100.32' }
    const results = await Promise.allSettled(
      Array.from({ length: 32 }, () => connection.login({ identifier: email, password: PASSWORD }, ctx)),
    )
    const refused = results.filter((r) => r.status === 'rejected' && r.reason instanceof TooManyAttemptsError).length
    const failed = results.filter((r) => r.status === 'rejected').length
    rows.push({
      measure: '32 concurrent right logins, one account, one IP: refused',
      value: `${refused} (${failed} failed)`,
      target: '0',
      ok: failed === 0,
    })
  }

  // 4. Memory after 10,000 logins (cost 4, so the loop is about memory, not bcrypt).
  {
    const { connection, email } = await connectionOn(store, 4)
    await underLoad(connection, email, 32, 500)
    global.gc?.()
    const before = process.memoryUsage().rss
    await underLoad(connection, email, 32, 10_000)
    global.gc?.()
    const after = process.memoryUsage().rss
    rows.push({
      measure: 'RSS after 10,000 logins (cost 4) - RSS after 500',
      value: `${fmt((after - before) / 2 ** 20, 1)} MiB (now ${fmt(after / 2 ** 20, 0)} MiB)`,
      target: 'reported',
      ok: null,
    })
  }
  await store.close()
  await closeHashPool()
  return report(`load (bcrypt cost ${COST}, ${cores} cores, SQLite)`, rows)
}

if (process.env['BENCH_LOAD_CHILD'] === 'throughput') console.log(JSON.stringify(await throughput()))
