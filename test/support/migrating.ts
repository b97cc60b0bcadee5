// Migrating connections for the tests: a built-in target on a test store, in front of a
// legacy database reached through the shipped custom-db templates in the real sandbox.
import {
  BuiltinConnection,
  type BuiltinConnectionOptions,
  CustomScriptConnection,
  type CustomScriptConnectionOptions,
  type LatchkeyEvent,
  MigratingConnection,
  type MigratingConnectionOptions,
  type UserStore,
} from '@latchkey/core'
import type { QuickJsRunner } from '@latchkey/sandbox'
import { uniqueName } from './dialects.js'
import { type HeldLock, type LegacyDatabase, untilWaiting } from './legacy-database.js'

/** What the legacy half runs: a legacy database's templates, or scripts of a test's own. */
export type LegacyScripts = Pick<LegacyDatabase, 'scripts' | 'configuration' | 'egress'>

/** 'ok', or the code of the error it failed with (the text of a raw error). */
export const outcome = (p: Promise<unknown>): Promise<string> =>
  p.then(
    () => 'ok',
    (e: unknown) => (e as { code?: string }).code ?? String(e),
  )

/** The legacy half: the templates over `legacy`, without attack protection of its own (the migrating connection counts). */
export function legacyConnection(
  name: string,
  runner: QuickJsRunner,
  legacy: LegacyScripts,
  extra: Partial<CustomScriptConnectionOptions> = {},
): CustomScriptConnection {
  return new CustomScriptConnection({
    name: `${name}-legacy`,
    runner,
    scripts: legacy.scripts,
    configuration: legacy.configuration,
    egress: legacy.egress,
    attackProtection: false,
    ...extra,
  })
}

export interface MigratingSetup {
  /** The target's options beyond name, store and the test cost. */
  target?: Partial<BuiltinConnectionOptions>
  /** The legacy connection's options beyond the templates. */
  legacy?: Partial<CustomScriptConnectionOptions>
  /** The migrating connection's options beyond name, target, legacy and onEvent. */
  migrating?: Partial<MigratingConnectionOptions>
  /** Reuse a connection name (another process's, or one set up before); a fresh one by default. */
  name?: string
}

/** A migrating connection with a fresh name (unless given), its target, and the events it emitted. */
export function migratingConnection(store: UserStore, runner: QuickJsRunner, legacy: LegacyScripts, setup: MigratingSetup = {}) {
  const name = setup.name ?? uniqueName('mig')
  const events: LatchkeyEvent[] = []
  const target = new BuiltinConnection({ name, store, bcryptCost: 4, unsafeLowCostForTests: true, ...setup.target })
  const users = new MigratingConnection({
    name,
    target,
    legacy: legacyConnection(name, runner, legacy, setup.legacy),
    onEvent: (e) => events.push(e),
    ...setup.migrating,
  })
  return { users, target, events, name }
}

/**
 * Starts `parked` while `lock` is held, waits until it waits for that lock, runs `meanwhile`,
 * then releases the lock and gives `parked`'s outcome ('ok' or the error's code).
 */
export async function whileParked(lock: HeldLock, parked: () => Promise<unknown>, meanwhile: () => Promise<void>): Promise<string> {
  let result: Promise<string>
  try {
    result = outcome(parked())
    // A call that ends instead of waiting says how, rather than a timeout later.
    const ended = result.then((how) => {
      throw new Error(`the parked call ended (${how}) before it waited for the lock`)
    })
    await Promise.race([untilWaiting(lock, 30_000), ended])
    await meanwhile()
  } finally {
    await lock.release()
  }
  return result
}
