// bench/caps: what the dearest record the default import caps let in costs at login. For
// each format, the median time of a wrong password against a record at the caps, divided by
// a wrong password against a user at the configured bcrypt cost, measured in the same run.
// A wrong password on a legacy hash also pays one dummy compare, so the ratio counts it.
import { performance } from 'node:perf_hooks'
import { BuiltinConnection, closeHashPool, importUsers } from '@latchkey/core'
import { hashPoolStats } from '@latchkey/core/internal'
import { openStore } from '@latchkey/adapters'
import { recordsAtCaps } from './support/legacy-records.js'
import { fmt, median, report, type Row } from './support/stats.js'

const COST = Number(process.env['BENCH_BCRYPT_COST'] ?? 10)
const N = 7
/** "At most about 4 bcrypt compares": the target, with room for a shared machine's noise. */
const TARGET = 4.5

export async function benchCaps(): Promise<boolean> {
  const store = await openStore(`sqlite:.tmp/bench-caps-${Date.now()}.db`)
  const users = new BuiltinConnection({
    name: `bench-caps-${Date.now()}`,
    store,
    bcryptCost: COST,
    unsafeLowCostForTests: COST < 10,
    attackProtection: false,
  })
  const records = recordsAtCaps()
  const result = await importUsers(
    users,
    records.map(([, hash], i) => ({ email: `cap${i}@example.com`, ...hash })),
  )
  if (result.imported !== records.length) throw new Error(`bench/caps: ${JSON.stringify(result.failures)}`)
  await users.signup({ email: 'known@example.com', password: 'Right-horse-battery-1' })
  const time = async (identifier: string) => {
    const t0 = performance.now()
    await users.login({ identifier, password: 'Wrong-guess-at-all-9' }).catch(() => undefined)
    return performance.now() - t0
  }
  await time('known@example.com') // warm the pool and the dummy hash
  const rows: Row[] = []
  const baseline: number[] = []
  const samples = records.map(() => [] as number[])
  for (let round = 0; round < N; round++) {
    baseline.push(await time('known@example.com'))
    for (const [i] of records.entries()) samples[i]!.push(await time(`cap${i}@example.com`))
  }
  const base = median(baseline)
  rows.push({
    measure: `wrong password, bcrypt cost ${COST} (the baseline)`,
    value: `1.00 (${fmt(base)} ms)`,
    target: 'baseline',
    ok: null,
  })
  for (const [i, [label]] of records.entries()) {
    const ratio = median(samples[i]!) / base
    rows.push({
      measure: `wrong password, ${label}`,
      value: `${fmt(ratio)} (${fmt(median(samples[i]!))} ms)`,
      target: `<= ${TARGET} compares`,
      ok: ratio <= TARGET,
    })
  }
  const engine = hashPoolStats().engine
  await store.close()
  await closeHashPool()
  return report(`caps: the dearest record each format imports (bcrypt cost ${COST} on ${engine}, SQLite)`, rows)
}
