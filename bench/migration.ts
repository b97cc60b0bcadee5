// bench/migration: what a migrating connection adds. A first login of a legacy user, beyond
// the legacy script's own time (as the runner reports it, timed at the runner) and the one
// bcrypt hash of the import (as the hash pool reports it); and a login of a user who moved
// over already, through the migrating connection against the same user on a plain built-in
// connection over the same store. Differences against baselines measured in the same run.
import { performance } from 'node:perf_hooks'
import {
  BuiltinConnection,
  closeHashPool,
  CustomScriptConnection,
  MigratingConnection,
  type ScriptRunner,
  type ScriptRunOptions,
} from '@latchkey/core'
import { hashPoolStats } from '@latchkey/core/internal'
import { openStore } from '@latchkey/adapters'
import { QuickJsRunner } from '@latchkey/sandbox'
import { fmt, quantile, report } from './support/stats.js'

const RIGHT = 'right-Tr0ub4dor-7'
const COST = Number(process.env['BENCH_BCRYPT_COST'] ?? 10)
const USERS = 100
const ctx = { ip: '198.51.100.78' }

// A legacy store that knows legacy-<n>@example.com with one password: the script's own work is
// a plain comparison, so what the runner reports is the sandbox run itself.
const scripts = {
  login: `function login(identifier, password, callback) {
    var m = /^legacy-(\\d+)@example\\.com$/.exec(identifier);
    if (!m || password !== configuration.PASSWORD) return callback(new WrongUsernameOrPasswordError(identifier));
    callback(null, { user_id: 'legacy-' + m[1], email: identifier, email_verified: true });
  }`,
  get_user: `function getUser(identifier, callback) {
    var m = /^legacy-(\\d+)@example\\.com$/.exec(identifier);
    callback(null, m ? { user_id: 'legacy-' + m[1], email: identifier } : null);
  }`,
}

/** The runner, timed where the connection calls it: each script's own time, as the runner reports it to its caller. */
class TimedRunner implements ScriptRunner {
  spentMs = 0
  constructor(private readonly inner: ScriptRunner) {}
  async run(source: string, args: unknown[], opts?: ScriptRunOptions) {
    const t0 = performance.now()
    try {
      return await this.inner.run(source, args, opts)
    } finally {
      this.spentMs += performance.now() - t0
    }
  }
  forget(global: string) {
    return this.inner.forget(global)
  }
  close() {
    return this.inner.close()
  }
}

export async function benchMigration(): Promise<boolean> {
  const store = await openStore(`sqlite:.tmp/bench-migration-${Date.now()}.db`)
  const runner = new TimedRunner(new QuickJsRunner({ workers: 2, timeoutMs: 5000 }))
  const name = `bench-mig-${Date.now()}`
  const cost = { bcryptCost: COST, unsafeLowCostForTests: COST < 10 }
  const users = new MigratingConnection({
    name,
    target: new BuiltinConnection({ name, store, ...cost }),
    legacy: new CustomScriptConnection({
      name: `${name}-legacy`,
      runner,
      scripts,
      configuration: { PASSWORD: RIGHT },
      attackProtection: false,
    }),
  })
  const plain = new BuiltinConnection({ name, store, ...cost })
  const email = (i: number) => `legacy-${i}@example.com`
  // Warm the runner, the pool and the statements with a user of its own.
  await users.login({ identifier: email(USERS), password: RIGHT }, ctx)

  // First logins: each imports its user.
  const firstLogin: number[] = []
  for (let i = 0; i < USERS; i++) {
    const [compute, script] = [hashPoolStats().computeMs, runner.spentMs]
    const t0 = performance.now()
    await users.login({ identifier: email(i), password: RIGHT }, ctx)
    const elapsed = performance.now() - t0
    firstLogin.push(elapsed - (runner.spentMs - script) - (hashPoolStats().computeMs - compute))
  }

  // Users who moved over: the migrating connection and a plain one in turn, each login minus its compare.
  const viaMigrating: number[] = []
  const viaPlain: number[] = []
  for (let round = 0; round < 3; round++) {
    for (let i = 0; i < USERS; i++) {
      for (const [connection, samples] of [
        [users, viaMigrating],
        [plain, viaPlain],
      ] as const) {
        const compute = hashPoolStats().computeMs
        const t0 = performance.now()
        await connection.login({ identifier: email(i), password: RIGHT }, ctx)
        samples.push(performance.now() - t0 - (hashPoolStats().computeMs - compute))
      }
    }
  }
  const first = quantile(firstLogin, 0.5)
  const extra = quantile(viaMigrating, 0.5) - quantile(viaPlain, 0.5)
  const ok = report(`migrating connection on sqlite (bcrypt cost ${COST})`, [
    {
      measure: 'first legacy login p50 beyond (script + one bcrypt hash)',
      value: `${fmt(first, 3)} ms`,
      target: '<= 3 ms',
      ok: first <= 3,
    },
    {
      measure: 'first legacy login p90 beyond (script + one bcrypt hash)',
      value: `${fmt(quantile(firstLogin, 0.9), 3)} ms`,
      target: 'reported',
      ok: null,
    },
    {
      measure: 'migrated user: migrating - plain built-in, p50 (beyond the compare)',
      value: `${fmt(extra, 3)} ms (${fmt(quantile(viaMigrating, 0.5), 3)} - ${fmt(quantile(viaPlain, 0.5), 3)})`,
      target: '<= 0.2 ms',
      ok: extra <= 0.2,
    },
  ])
  await runner.close()
  await store.close()
  await closeHashPool()
  return ok
}
