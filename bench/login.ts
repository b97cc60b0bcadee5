// bench/login: what a login costs beyond its one bcrypt compare, how logins scale over the
// cores, whether the event loop stays free, and whether an unknown user takes as long as
// a wrong password. Every figure is a ratio or a difference against a baseline measured
// in the same run.
import { availableParallelism } from 'node:os'
import { monitorEventLoopDelay, performance } from 'node:perf_hooks'
import native from '@node-rs/bcrypt'
import bcrypt from 'bcryptjs'
import { BuiltinConnection, closeHashPool, WrongUsernameOrPasswordError } from '@latchkey/core'
import { hashPoolStats } from '@latchkey/core/internal'
import { openStore } from '@latchkey/adapters'
import { fmt, median, quantile, report, type Row } from './support/stats.js'

/** The users' password: long enough for the default policy, on no list. */
const RIGHT = 'right-Tr0ub4dor-7'

const COST = Number(process.env['BENCH_BCRYPT_COST'] ?? 10)
const ctx = { ip: '198.51.100.77' }
// Failed attempts each come from their own address, so no counter blocks the measurement.
let nextIp = 0
const freshIp = () => ({ ip: `10.${(nextIp >> 16) & 255}.${(nextIp >> 8) & 255}.${nextIp++ & 255}` })

export async function benchLogin(): Promise<boolean> {
  const cores = availableParallelism()
  let ok = true
  // [dialect, url, overhead target, embedded]: throughput and timing rows only where no server shares the cores.
  const targets: [string, string, number, boolean][] = [['sqlite', `sqlite:.tmp/bench-login-${Date.now()}.db`, 1, true]]
  if (process.env['LATCHKEY_PG_URL']) targets.push(['postgres', process.env['LATCHKEY_PG_URL'], 2, false])
  if (process.env['LATCHKEY_MYSQL_URL']) targets.push(['mysql', process.env['LATCHKEY_MYSQL_URL'], 2, false])

  // Baseline: bcrypt compares per second on one thread, measured here, in this process,
  // with the implementation the pool's workers run.
  const compare = hashPoolStats().engine === 'native' ? native.verifySync : bcrypt.compareSync
  const hash = bcrypt.hashSync('baseline-password', COST)
  const baselineN = Math.max(8, Math.round(1200 / 2 ** (COST - 4)))
  const b0 = performance.now()
  for (let i = 0; i < baselineN; i++) compare('baseline-password', hash)
  const singleThreadPerSec = baselineN / ((performance.now() - b0) / 1000)

  for (const [dialect, url, overheadTargetMs, embedded] of targets) {
    const store = await openStore(url)
    const connection = new BuiltinConnection({ name: `bench-${Date.now()}`, store, bcryptCost: COST, unsafeLowCostForTests: COST < 10 })
    const users = await seed(connection, 20)
    await login(connection, users[0]!, RIGHT) // warm the pool, the dummy hash and the statements

    const overhead = await measureOverhead(connection, users, 120)
    // The same, with attack protection off: what its counters cost (two slots taken before
    // the compare, two given back after it).
    const bare = new BuiltinConnection({
      name: `bench-bare-${Date.now()}`,
      store,
      bcryptCost: COST,
      unsafeLowCostForTests: COST < 10,
      attackProtection: false,
    })
    const bareUsers = await seed(bare, 5)
    await login(bare, bareUsers[0]!, RIGHT)
    const bareOverhead = await measureOverhead(bare, bareUsers, 120)
    const rows: Row[] = [
      {
        measure: 'login overhead p50 (e2e - worker compare)',
        value: `${fmt(quantile(overhead, 0.5), 3)} ms`,
        target: `<= ${overheadTargetMs} ms`,
        ok: quantile(overhead, 0.5) <= overheadTargetMs,
      },
      { measure: 'login overhead p90', value: `${fmt(quantile(overhead, 0.9), 3)} ms`, target: 'reported', ok: null },
      {
        measure: 'login overhead p50, attack protection off',
        value: `${fmt(quantile(bareOverhead, 0.5), 3)} ms`,
        target: 'reported',
        ok: null,
      },
    ]
    if (embedded) {
      const { perSec, loopP99 } = await measureThroughput(connection, users, cores)
      const ratio = perSec / singleThreadPerSec
      rows.push(
        {
          measure: `logins/s on ${cores} cores / single-thread compares/s`,
          value: `${fmt(ratio)} (${fmt(perSec, 1)} / ${fmt(singleThreadPerSec, 1)})`,
          target: `>= ${fmt(0.9 * cores)}`,
          ok: ratio >= 0.9 * cores,
        },
        { measure: 'event-loop delay p99 while the pool is saturated', value: `${fmt(loopP99)} ms`, target: '< 20 ms', ok: loopP99 < 20 },
      )
      const { unknown, wrong } = await measureEnumeration(connection, users, 40)
      const enumRatio = median(unknown) / median(wrong)
      rows.push({
        measure: 'unknown user / wrong password (median time)',
        value: `${fmt(enumRatio, 3)} (${fmt(median(unknown))} / ${fmt(median(wrong))} ms)`,
        target: '0.9 - 1.1',
        ok: enumRatio >= 0.9 && enumRatio <= 1.1,
      })
    }
    const durability = embedded ? ['SQLite durability: journal_mode=WAL, synchronous=NORMAL (the default: survives a process crash)'] : []
    ok = report(`login on ${dialect} (bcrypt cost ${COST}, ${cores} cores)`, rows, durability) && ok
    await store.close()
  }
  await closeHashPool()
  return ok
}

async function seed(connection: BuiltinConnection, n: number): Promise<string[]> {
  const emails = Array.from({ length: n }, (_, i) => `bench${i}@example.com`)
  await Promise.all(emails.map((email) => connection.signup({ email, password: RIGHT }, freshIp())))
  return emails
}

async function login(connection: BuiltinConnection, email: string, password: string): Promise<boolean> {
  try {
    await connection.login({ identifier: email, password }, password === RIGHT ? ctx : freshIp())
    return true
  } catch (error) {
    if (error instanceof WrongUsernameOrPasswordError) return false
    throw error
  }
}

/** One login at a time; from each, subtract the compute time its compare took on the worker. */
async function measureOverhead(connection: BuiltinConnection, users: string[], n: number): Promise<number[]> {
  const samples: number[] = []
  for (let i = 0; i < n; i++) {
    const before = hashPoolStats().computeMs
    const t0 = performance.now()
    await login(connection, users[i % users.length]!, RIGHT)
    const elapsed = performance.now() - t0
    samples.push(elapsed - (hashPoolStats().computeMs - before))
  }
  return samples
}

/** Enough concurrent logins to keep every worker busy, for a fixed count. */
async function measureThroughput(connection: BuiltinConnection, users: string[], cores: number) {
  const total = Math.max(40, cores * 30)
  const inFlight = cores * 4
  const loop = monitorEventLoopDelay({ resolution: 1 })
  let next = 0
  loop.enable()
  const t0 = performance.now()
  await Promise.all(
    Array.from({ length: inFlight }, async () => {
      while (next < total) await login(connection, users[next++ % users.length]!, RIGHT)
    }),
  )
  const seconds = (performance.now() - t0) / 1000
  loop.disable()
  return { perSec: total / seconds, loopP99: loop.percentile(99) / 1e6 }
}

/** Alternating unknown-user and wrong-password logins, one at a time. */
async function measureEnumeration(connection: BuiltinConnection, users: string[], n: number) {
  const unknown: number[] = []
  const wrong: number[] = []
  for (let i = 0; i < n; i++) {
    let t0 = performance.now()
    await login(connection, `nobody${i}@example.com`, 'guess')
    unknown.push(performance.now() - t0)
    t0 = performance.now()
    await login(connection, users[i % users.length]!, 'guess')
    wrong.push(performance.now() - t0)
  }
  return { unknown, wrong }
}
