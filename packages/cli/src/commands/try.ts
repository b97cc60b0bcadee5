import { basename } from 'node:path'
import { performance } from 'node:perf_hooks'
import { Command, InvalidArgumentError, Option } from 'commander'
import { InvalidInputError, LatchkeyError, ScriptError, ScriptTimeoutError } from '@latchkey/core'
import { parseScriptProfile } from '@latchkey/core/internal'
import { EXIT, readText } from '../command-error.js'
import { configOption, loadConfig, SCRIPT_NAMES, type ScriptName } from '../connection-config.js'
import { example } from '../help.js'
import { detailsOf, type Output } from '../output.js'
import { runCommand } from '../run-command.js'
import { checkArgs, SCRIPT_OPS } from '../try/script-ops.js'

interface TryOptions {
  op?: string
  args: string
  config?: string
  egress: string[]
  timeout?: number
  json?: boolean
}

/** The `global` key of `try` runs: a throwaway, never a real connection's. */
const TRY_CONNECTION = 'latchkey-try'

/** `latchkey try SCRIPT.js --op NAME --args JSON`: one run in the real sandbox. */
export function tryCommand(): Command {
  return new Command('try')
    .description('run one custom-database script in the real sandbox and show its logs, time, and value or error')
    .argument('<script>', 'the script file (login.js, get_user.js, …)')
    .addOption(new Option('--op <name>', 'which script it is (default: from the file name)').choices(SCRIPT_NAMES))
    .requiredOption('--args <json>', 'its arguments, as a JSON array (the callback is added)')
    .addOption(configOption())
    .option(
      '--egress <host:port>',
      "also allow this host (repeatable; adds to the config's egress)",
      (v: string, all: string[]) => [...all, v],
      [],
    )
    .addOption(new Option('--timeout <ms>', "the run's deadline (default: the config's, else 20000)").argParser(milliseconds))
    .option('--json', 'print one JSON document')
    .addHelpText(
      'after',
      `
Secrets are redacted as in production: the password arguments and every configuration value.
${example(
  'latchkey try login.js --args \'["ada@example.com","Tr0ub4dor-horse-42"]\' --config legacy.json',
  'latchkey try get_user.js --args \'["ada"]\' --egress 127.0.0.1:3306',
)}`,
    )
    .action((file: string, opts: TryOptions) =>
      runCommand(opts, async (out) => {
        const op = scriptOp(file, opts.op)
        const source = readText('script', file)
        let json: unknown
        try {
          json = JSON.parse(opts.args)
        } catch {
          throw new InvalidInputError([{ path: ['args'], code: 'invalid_format', message: '--args is not valid JSON' }])
        }
        const args = checkArgs(op, json, TRY_CONNECTION)
        const config = loadConfig(opts.config)
        const secrets = SCRIPT_OPS[op].secrets(args)
        // The sandbox loads only when a script is tried, so the other commands start fast.
        const { QuickJsRunner } = await import('@latchkey/sandbox')
        const runner = new QuickJsRunner({ workers: 1 })
        try {
          // Start the worker first, so the time shown is the script's and not the sandbox's start-up.
          await runner.run('function warm(callback) { callback(null, true) }', [])
          const timeoutMs = opts.timeout ?? config.timeoutMs
          const started = performance.now()
          const outcome = await runner
            .run(source, args, {
              scriptName: op,
              configuration: config.configuration ?? {},
              global: TRY_CONNECTION,
              egress: { allow: [...(config.egress?.allow ?? []), ...opts.egress] },
              redact: secrets,
              ...(timeoutMs === undefined ? {} : { timeoutMs }),
            })
            .then(
              (r) => ({ ok: true as const, ...r }),
              (error: unknown) => ({ ok: false as const, error }),
            )
          const ms = Math.round((performance.now() - started) * 10) / 10
          return report(out, op, ms, outcome)
        } finally {
          await runner.close()
        }
      }),
    )
}

type Outcome = { ok: true; value: unknown; logs: string[] } | { ok: false; error: unknown }

function report(out: Output, op: ScriptName, ms: number, outcome: Outcome): number {
  if (!outcome.ok && !(outcome.error instanceof LatchkeyError)) throw outcome.error
  const error = outcome.ok ? undefined : (outcome.error as LatchkeyError)
  const logs = outcome.ok ? outcome.logs : error instanceof ScriptError || error instanceof ScriptTimeoutError ? [...error.logs] : []
  const profileProblem = outcome.ok ? profileCheck(op, outcome.value) : undefined
  const line = error instanceof ScriptError ? error.line : undefined
  out.result(
    {
      op,
      ms,
      logs,
      ...(outcome.ok
        ? { value: outcome.value ?? null }
        : { error: { code: error!.code, message: error!.message, ...detailsOf(error), logs: undefined } }),
      ...(profileProblem ? { profileError: profileProblem } : {}),
    },
    (s) => {
      const lines: string[] = []
      if (out.human) {
        lines.push(s.bold(`${op}`) + s.dim(`  ${ms} ms`))
        for (const l of logs) lines.push(`  ${s.dim('log')}  ${l}`)
        if (outcome.ok) lines.push(`  ${s.good('value')}  ${JSON.stringify(outcome.value ?? null, null, 2).replace(/\n/g, '\n         ')}`)
        else
          lines.push(
            `  ${s.bad('error')}  ${error!.code}: ${error!.message}`,
            ...(line === undefined ? [] : [`  ${s.dim('line')}   ${line}`]),
          )
        if (profileProblem) lines.push(`  ${s.warn('note')}   production would refuse this profile: ${profileProblem}`)
      } else {
        lines.push(`op: ${op}`, `ms: ${ms}`, ...logs.map((l) => `log: ${l}`))
        if (outcome.ok) lines.push(`value: ${JSON.stringify(outcome.value ?? null)}`)
        else lines.push(`error: ${error!.code}: ${error!.message}`, ...(line === undefined ? [] : [`line: ${line}`]))
        if (profileProblem) lines.push(`profile-error: ${profileProblem}`)
      }
      return lines
    },
  )
  return outcome.ok && !profileProblem ? EXIT.ok : EXIT.error
}

/** What production would say of a profile that login or get_user returned, or undefined when it is fine. */
function profileCheck(op: ScriptName, value: unknown): string | undefined {
  if ((op !== 'login' && op !== 'get_user') || value === undefined || value === null) return undefined
  try {
    parseScriptProfile(value, op)
    return undefined
  } catch (error) {
    return error instanceof Error ? error.message : String(error)
  }
}

function scriptOp(file: string, op: string | undefined): ScriptName {
  if (op !== undefined) return op as ScriptName
  const name = basename(file).replace(/\.[cm]?js$/, '')
  if ((SCRIPT_NAMES as readonly string[]).includes(name)) return name as ScriptName
  throw new InvalidInputError([
    { path: ['op'], code: 'invalid_value', message: `say which script ${basename(file)} is with --op (${SCRIPT_NAMES.join(', ')})` },
  ])
}

function milliseconds(value: string): number {
  const n = Number(value)
  if (!Number.isInteger(n) || n < 10 || n > 600_000) throw new InvalidArgumentError('expected whole milliseconds from 10 to 600000')
  return n
}
