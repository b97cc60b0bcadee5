// bench/enumeration: can timing tell whether an account exists? Median login time of an
// unknown user, of imported users with a bcrypt hash of a lower and a higher cost, and of a
// user of every legacy format, each against a known user with a wrong password. Signup of an existing email against a new one. Every
// attempt comes from its own address, as a spraying attacker's would, so counters apply
// to every path alike and none blocks; the blocked case is reported on its own.
import { createHash } from 'node:crypto'
import { performance } from 'node:perf_hooks'
import bcrypt from 'bcryptjs'
import { BuiltinConnection, closeHashPool, importUsers, type ImportRecord } from '@latchkey/core'
import { openStore } from '@latchkey/adapters'
import { commonRecords } from './support/legacy-records.js'
import { fmt, median, report, type Row } from './support/stats.js'

const COST = Number(process.env['BENCH_BCRYPT_COST'] ?? 10)
const N = 40

export async function benchEnumeration(): Promise<boolean> {
  const store = await openStore(`sqlite:.tmp/bench-enum-${Date.now()}.db`)
  const users = new BuiltinConnection({ name: `bench-enum-${Date.now()}`, store, bcryptCost: COST, unsafeLowCostForTests: COST < 10 })
  let ip = 0
  const nextIp = () => ({ ip: `10.${(ip >> 16) & 255}.${(ip >> 8) & 255}.${ip++ & 255}` })
  const time = async (work: () => Promise<unknown>) => {
    const t0 = performance.now()
    await work().catch(() => undefined)
    return performance.now() - t0
  }

  await users.signup({ email: 'known@example.com', password: 'right-password' }, nextIp())
  await importUsers(
    users,
    Array.from({ length: N }, (_, i) => ({
      email: `legacy${i}@example.com`,
      custom_password_hash: { algorithm: 'sha256', hash: { value: createHash('sha256').update('legacy-password').digest('hex') } },
    })),
  )
  const lower = Math.max(4, COST - 6)
  const formats: [string, Pick<ImportRecord, 'password_hash' | 'custom_password_hash'>][] = [
    [`bcrypt cost ${lower} (imported)`, { password_hash: bcrypt.hashSync('imported-password', lower) }],
    [`bcrypt cost ${COST + 2} (imported)`, { password_hash: bcrypt.hashSync('imported-password', COST + 2) }],
    ...commonRecords(),
  ]
  await importUsers(
    users,
    formats.map(([, hash], i) => ({ email: `format${i}@example.com`, ...hash })),
  )
  await users.login({ identifier: 'nobody@example.com', password: 'x' }, nextIp()).catch(() => undefined) // warm the dummy hash
  for (const [i] of formats.entries())
    await users.login({ identifier: `format${i}@example.com`, password: 'x' }, nextIp()).catch(() => undefined)

  const unknown: number[] = []
  const wrong: number[] = []
  const legacy: number[] = []
  const perFormat = formats.map(() => [] as number[])
  for (let i = 0; i < N; i++) {
    unknown.push(await time(() => users.login({ identifier: `nobody${i}@example.com`, password: 'guess' }, nextIp())))
    wrong.push(await time(() => users.login({ identifier: 'known@example.com', password: 'guess' }, nextIp())))
    legacy.push(await time(() => users.login({ identifier: `legacy${i}@example.com`, password: 'guess' }, nextIp())))
    // Every format, on fewer rounds: the slow KDFs would dominate the run otherwise.
    if (i % 2 === 0)
      for (const [f] of formats.entries())
        perFormat[f]!.push(await time(() => users.login({ identifier: `format${f}@example.com`, password: 'guess' }, nextIp())))
  }

  // The blocked case: a pair past its threshold answers at once, for everyone alike.
  const blockedIp = nextIp()
  for (let i = 0; i < 10; i++) await users.login({ identifier: 'known@example.com', password: 'guess' }, blockedIp).catch(() => undefined)
  const blocked: number[] = []
  for (let i = 0; i < N; i++) blocked.push(await time(() => users.login({ identifier: 'known@example.com', password: 'guess' }, blockedIp)))

  const signupExisting: number[] = []
  const signupNew: number[] = []
  for (let i = 0; i < N / 2; i++) {
    signupExisting.push(await time(() => users.signup({ email: 'known@example.com', password: 'another-password' }, nextIp())))
    signupNew.push(await time(() => users.signup({ email: `new${i}@example.com`, password: 'another-password' }, nextIp())))
  }

  const ratio = (a: number[], b: number[]) => median(a) / median(b)
  const band = (r: number) => r >= 0.9 && r <= 1.1
  const rows: Row[] = [
    {
      measure: 'unknown user / wrong password',
      value: `${fmt(ratio(unknown, wrong), 3)} (${fmt(median(unknown))} / ${fmt(median(wrong))} ms)`,
      target: '0.9 - 1.1',
      ok: band(ratio(unknown, wrong)),
    },
    {
      measure: 'cheap legacy hash (sha256), wrong password / wrong password',
      value: `${fmt(ratio(legacy, wrong), 3)} (${fmt(median(legacy))} ms)`,
      target: '0.9 - 1.1',
      ok: band(ratio(legacy, wrong)),
    },
    ...formats.map(([label], f): Row => {
      const r = ratio(perFormat[f]!, wrong)
      // A cheaper bcrypt and the cheap digests are held to the band; a dearer hash or a slow KDF
      // costs more until the first successful login rehashes it (bounded by the caps): reported.
      const held =
        label.startsWith(`bcrypt cost ${lower}`) ||
        ['md5', 'sha256 salted', 'hmac-sha256', 'ldap {SSHA}', 'aspnet-membership-sha1'].includes(label)
      return {
        measure: `${label}, wrong password / wrong password`,
        value: `${fmt(r, 3)} (${fmt(median(perFormat[f]!))} ms)`,
        target: held ? '0.9 - 1.1' : 'reported',
        ok: held ? band(r) : null,
      }
    }),
    {
      measure: 'blocked pair / wrong password',
      value: `${fmt(ratio(blocked, wrong), 3)} (${fmt(median(blocked))} ms)`,
      target: 'reported',
      ok: null,
    },
    {
      measure: 'signup of an existing email / a new one',
      value: `${fmt(ratio(signupExisting, signupNew), 3)} (${fmt(median(signupExisting))} / ${fmt(median(signupNew))} ms)`,
      target: '0.9 - 1.1',
      ok: band(ratio(signupExisting, signupNew)),
    },
  ]
  await store.close()
  const ticketRows = await ticketTiming()
  await closeHashPool()
  const loginsOk = report(`enumeration (bcrypt cost ${COST}, SQLite, attack protection on)`, rows)
  return report(ticketRows.title, ticketRows.rows) && loginsOk
}

/**
 * Reset-ticket requests in deliver mode (the way to call them from a request): a known
 * email, one past its issuance limit and an unknown one should take the same time to answer.
 * On PostgreSQL when LATCHKEY_PG_URL is set (where the difference was measured), else SQLite.
 * Each sample waits for the previous call's background work, so none overlaps the next.
 */
async function ticketTiming(): Promise<{ title: string; rows: Row[] }> {
  const url = process.env['LATCHKEY_PG_URL'] ?? `sqlite:.tmp/bench-enum-tickets-${Date.now()}.db`
  const store = await openStore(url)
  const users = new BuiltinConnection({
    name: `bench-tickets-${Date.now()}`,
    store,
    bcryptCost: 4,
    unsafeLowCostForTests: true,
    tickets: { perEmailPerHour: 1000 },
  })
  const limited = new BuiltinConnection({
    name: `bench-tickets-limited-${Date.now()}`,
    store,
    bcryptCost: 4,
    unsafeLowCostForTests: true,
    tickets: { perEmailPerHour: 1 },
  })
  for (const c of [users, limited]) await c.signup({ email: 'known@example.com', password: 'Right-horse-battery-1' }, { ip: '10.9.9.9' })
  await limited.createPasswordResetTicket('known@example.com')
  const settle = () => new Promise((r) => setTimeout(r, 15))
  const time = async (c: BuiltinConnection, email: string) => {
    const t0 = performance.now()
    await c.createPasswordResetTicket(email, { deliver: () => undefined })
    const ms = performance.now() - t0
    await settle()
    return ms
  }
  const known: number[] = []
  const unknown: number[] = []
  const overLimit: number[] = []
  for (let i = 0; i < 4 * N; i++) {
    known.push(await time(users, 'known@example.com'))
    unknown.push(await time(users, `nobody${i}@example.com`))
    overLimit.push(await time(limited, 'known@example.com'))
  }
  const r1 = median(known) / median(unknown)
  const r2 = median(overLimit) / median(unknown)
  const band = (r: number) => r >= 0.9 && r <= 1.1
  await store.close()
  return {
    title: `enumeration: reset tickets in deliver mode (${store.dialect})`,
    rows: [
      {
        measure: 'known email / unknown email',
        value: `${fmt(r1, 3)} (${fmt(median(known), 3)} / ${fmt(median(unknown), 3)} ms)`,
        target: '0.9 - 1.1',
        ok: band(r1),
      },
      {
        measure: 'email past its limit / unknown email',
        value: `${fmt(r2, 3)} (${fmt(median(overLimit), 3)} ms)`,
        target: '0.9 - 1.1',
        ok: band(r2),
      },
    ],
  }
}
