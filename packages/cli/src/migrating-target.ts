import { CustomScriptConnection, MigratingConnection } from '@latchkey/core'
import type { OpenedStore } from '@latchkey/adapters'
import type { QuickJsRunner } from '@latchkey/sandbox'
import { builtinConnection } from './builtin-target.js'
import { CommandError } from './command-error.js'
import { loadConfig, type ConnectionConfig } from './connection-config.js'

/** Whether a `--config` names legacy scripts: the connection is then being migrated, and is used as one. */
export function namesLegacyScripts(configPath: string | undefined): boolean {
  return loadConfig(configPath).scripts.login !== undefined
}

/** The migrating connection of `--connection` and `--config`, with a runner that is closed afterwards. */
export async function withMigrating<T>(
  name: string,
  configPath: string | undefined,
  store: OpenedStore,
  use: (users: MigratingConnection) => Promise<T>,
): Promise<T> {
  const config = loadConfig(configPath)
  const { QuickJsRunner } = await import('@latchkey/sandbox')
  const runner = new QuickJsRunner({ workers: 1 })
  try {
    return await use(migratingConnection(name, store, config, configPath, runner))
  } finally {
    await runner.close()
  }
}

function migratingConnection(
  name: string,
  store: OpenedStore,
  config: ConnectionConfig,
  configPath: string | undefined,
  runner: QuickJsRunner,
): MigratingConnection {
  const { login, ...scripts } = config.scripts
  if (login === undefined || scripts.get_user === undefined) {
    throw new CommandError(
      'migration_config_required',
      'a migrating connection needs --config with its legacy scripts (at least login and get_user)',
      { exitCode: 2 },
    )
  }
  const legacy = new CustomScriptConnection({
    name: `${name}.legacy`,
    runner,
    scripts: { login, ...scripts },
    store,
    attackProtection: false,
    ...(config.configuration ? { configuration: config.configuration } : {}),
    ...(config.egress ? { egress: config.egress } : {}),
    ...(config.timeoutMs === undefined ? {} : { timeoutMs: config.timeoutMs }),
  })
  return new MigratingConnection({ name, target: builtinConnection(name, store, configPath), legacy })
}
