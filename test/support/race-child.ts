// A separate Node process for the multi-process tests. It opens its own store and
// connection, says 'ready', waits for 'go' so every process starts together, runs its
// part concurrently, reports each call's outcome and exits.
import {
  BuiltinConnection,
  closeHashPool,
  CustomScriptConnection,
  LatchkeyError,
  MigratingConnection,
  type CustomScripts,
  type DatabaseConnection,
} from '@latchkey/core'
import { openStore } from '@latchkey/adapters'
import { QuickJsRunner } from '@latchkey/sandbox'

export interface RaceTask {
  url: string
  name: string
  bcryptCost: number
  op: 'signup' | 'login' | 'changePassword' | 'resetPassword' | 'resetTicket' | 'open'
  email?: string
  password?: string
  ticket?: string
  times: number
  /** Every call from this one address (by default each call has its own). */
  fixedIp?: string
  /** Makes the connection a migrating one over this legacy store. */
  legacy?: { scripts: CustomScripts; configuration: Record<string, string>; egress: { allow: string[] } }
}

const task = JSON.parse(process.env['RACE_TASK']!) as RaceTask
const store = await openStore(task.url)
const runner = task.legacy ? new QuickJsRunner({ timeoutMs: 30_000, workers: 2 }) : null
// Costs here are test costs (4–5): under the floor of 10, so the connection must be told.
const builtin = new BuiltinConnection({ name: task.name, store, bcryptCost: task.bcryptCost, unsafeLowCostForTests: true })
const connection: DatabaseConnection = task.legacy
  ? new MigratingConnection({
      name: task.name,
      target: builtin,
      legacy: new CustomScriptConnection({ name: `${task.name}-legacy`, runner: runner!, ...task.legacy, attackProtection: false }),
    })
  : builtin
// Each call comes from its own address (a /64 per process and call), so these races test
// the store, not the attack-protection counters, which have tests of their own.
const ipOf = (i: number) => ({ ip: task.fixedIp ?? `2001:db8:${(process.pid % 0xffff).toString(16)}:${i.toString(16)}::1` })

const call = (i: number): Promise<unknown> => {
  const ctx = ipOf(i)
  switch (task.op) {
    case 'signup':
      return connection.signup({ email: task.email!, password: `${task.password}-${process.pid}-${i}` }, ctx)
    case 'login':
      return connection.login({ identifier: task.email!, password: task.password! }, ctx)
    case 'changePassword':
      return connection.changePassword(task.email!, task.password!, ctx)
    case 'resetPassword':
      return connection.resetPassword(task.ticket!, `${task.password}-${process.pid}-${i}`, ctx)
    case 'resetTicket':
      return connection.createPasswordResetTicket(task.email!)
    case 'open':
      return Promise.resolve('opened')
  }
}

process.send!('ready')
process.once('message', async () => {
  const outcomes = await Promise.all(
    Array.from({ length: task.times }, (_, i) =>
      call(i).then(
        (value) => (value === null ? 'null' : 'ok'),
        (error: unknown) => (error instanceof LatchkeyError ? error.code : `untyped: ${String(error)}`),
      ),
    ),
  )
  process.send!({ outcomes }, async () => {
    await store.close()
    await runner?.close()
    await closeHashPool()
    process.exit(0)
  })
})
