import { dirname, resolve } from 'node:path'
import { Option } from 'commander'
import { z } from 'zod'
import {
  builtinConnectionOptionsSchema,
  customScriptConnectionOptionsSchema,
  InvalidInputError,
  type BuiltinConnectionOptions,
} from '@latchkey/core'
import { readText } from './command-error.js'

/** The names of a custom-script connection's scripts, in the order of SPEC §3. */
export const SCRIPT_NAMES = ['login', 'create', 'verify', 'change_password', 'get_user', 'delete', 'change_email'] as const
export type ScriptName = (typeof SCRIPT_NAMES)[number]

const builtin = builtinConnectionOptionsSchema.shape
const custom = customScriptConnectionOptionsSchema.shape

/**
 * A connection's settings, as a `--config` JSON file holds them: the built-in options
 * (policy, attack protection, …) and the custom-script ones, with scripts given as file
 * paths relative to the config file.
 *
 * @example
 * { "passwordPolicy": { "level": "good" },
 *   "scripts": { "login": "./login.js", "get_user": "./get_user.js" },
 *   "configuration": { "DB_HOST": "legacy-db.internal" },
 *   "egress": { "allow": ["legacy-db.internal:3306"] } }
 */
export const connectionConfigSchema = z.strictObject({
  passwordPolicy: builtin.passwordPolicy,
  requireUsername: builtin.requireUsername,
  usernameMaxLength: builtin.usernameMaxLength,
  bcryptCost: builtin.bcryptCost,
  tickets: builtin.tickets,
  attackProtection: builtin.attackProtection,
  breachedPasswords: builtin.breachedPasswords,
  scripts: z.partialRecord(z.enum(SCRIPT_NAMES), z.string().min(1).max(4096)).optional(),
  configuration: custom.configuration,
  egress: custom.egress,
  timeoutMs: custom.timeoutMs,
})
type RawConfig = z.output<typeof connectionConfigSchema>

/** A loaded config: its settings, with each script's path replaced by the script's source. */
export type ConnectionConfig = Omit<RawConfig, 'scripts'> & { scripts: Partial<Record<ScriptName, string>> }

/** `--config FILE`. */
export function configOption(): Option {
  return new Option('--config <file>', "a JSON file of the connection's settings (policy, scripts, configuration, egress)")
}

/** Reads and validates a config file; no file gives the defaults. */
export function loadConfig(path: string | undefined): ConnectionConfig {
  if (path === undefined) return { scripts: {} }
  const text = readText('config file', path)
  let json: unknown
  try {
    json = JSON.parse(text)
  } catch {
    throw new InvalidInputError([{ path: ['config'], code: 'invalid_format', message: `${path} is not valid JSON` }])
  }
  const parsed = connectionConfigSchema.safeParse(json)
  if (!parsed.success) {
    throw new InvalidInputError(
      parsed.error.issues.map((i) => ({
        path: ['config', ...i.path.map((p) => (typeof p === 'symbol' ? String(p) : p))],
        code: i.code,
        message: i.message,
      })),
    )
  }
  const base = dirname(resolve(path))
  const scripts: Partial<Record<ScriptName, string>> = {}
  for (const [name, file] of Object.entries(parsed.data.scripts ?? {}) as [ScriptName, string][]) {
    scripts[name] = readText(`${name} script`, resolve(base, file))
  }
  return { ...parsed.data, scripts }
}

type BuiltinSettings = Omit<BuiltinConnectionOptions, 'name' | 'store' | 'onEvent' | 'now'>

/** The built-in connection options a config carries (everything but the custom-script ones). */
export function builtinOptions(config: ConnectionConfig): BuiltinSettings {
  const { scripts: _s, configuration: _c, egress: _e, timeoutMs: _t, ...rest } = config
  return Object.fromEntries(Object.entries(rest).filter(([, v]) => v !== undefined)) as BuiltinSettings
}
