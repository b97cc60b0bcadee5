import { availableParallelism } from 'node:os'
import { z } from 'zod'
import {
  egressSchema,
  EgressDeniedError,
  InvalidInputError,
  ScriptError,
  ScriptRunnerBusyError,
  ScriptTimeoutError,
  UnauthorizedError,
  UserExistsError,
  ValidationError,
  WrongUsernameOrPasswordError,
  type ScriptRunner,
  type ScriptRunOptions,
  type ScriptRunResult,
} from '@latchkey/core'
import { quickJsRunnerOptionsSchema, RUN_LIMITS, type QuickJsRunnerOptions } from './limits.js'
import { SandboxPool } from './pool/sandbox-pool.js'
import type { RunOutcome } from './pool/protocol.js'
import { scriptLabel } from './guest/script-run.js'
import { configurationSecrets } from './redact.js'

/** Options of one {@link QuickJsRunner.run}. */
export const scriptRunOptionsSchema = z.strictObject({
  scriptName: z
    .string()
    .min(1)
    .max(64)
    .regex(/^[A-Za-z0-9_\-]+$/, 'letters, digits, dash and underscore only')
    .optional(),
  configuration: z.record(z.string().max(256), z.string().max(64 * 1024)).optional(),
  global: z.string().min(1).max(256).optional(),
  egress: egressSchema.optional(),
  redact: z
    .array(z.string().max(64 * 1024))
    .max(1024)
    .optional(),
  timeoutMs: z.number().int().min(10).max(600_000).optional(),
  retrySafe: z.boolean().optional(),
  connection: z.string().max(256).optional(),
})

/**
 * Runs custom database scripts in QuickJS sandboxes, on worker threads, never on the
 * host's own thread or in its JS realm. Each run gets a fresh runtime and context with a
 * wall-clock deadline, a bounded memory, a stack cap and caps on logs, results, timers
 * and host calls. Connections can share one runner without sharing reach, state or
 * secrets: `global`, `egress` and `redact` are per run.
 *
 * @example
 * const runner = new QuickJsRunner({ timeoutMs: 5000 })
 * const { value, logs } = await runner.run(
 *   'function login(email, password, callback) { callback(null, { user_id: 1, email }) }',
 *   ['ada@example.com', 'secret'],
 *   { scriptName: 'login', redact: ['secret'] },
 * )
 * await runner.close()
 */
export class QuickJsRunner implements ScriptRunner {
  private readonly pool: SandboxPool
  private readonly timeoutMs: number
  /** Each connection's `global`, as JSON, by the connection's handle: owned here, copied into every run. */
  private readonly globals = new Map<string, string>()
  /**
   * The current lifetime of each handle with runs in flight. `forget` ends it, so a run
   * that began before cannot write its `global` back afterwards: the state stays dropped.
   */
  private readonly lifetimes = new Map<string, { runs: number }>()

  constructor(options: QuickJsRunnerOptions = {}) {
    const parsed = quickJsRunnerOptionsSchema.safeParse(options)
    if (!parsed.success)
      throw new InvalidInputError(parsed.error.issues.map((i) => ({ path: i.path.map(String), code: i.code, message: i.message })))
    const o = parsed.data
    this.timeoutMs = o.timeoutMs ?? 20_000
    const onEvent = o.onEvent ?? (() => undefined)
    this.pool = new SandboxPool(
      o.workers ?? availableParallelism(),
      o.concurrencyPerWorker ?? 8,
      o.memoryLimitBytes ?? 64 * 1024 * 1024,
      o.maxQueued ?? 256,
      o.sqlPoolSize ?? 4,
      onEvent,
    )
  }

  /**
   * Calls the script's entry function (the first function it declares) with `args` and a
   * callback. Resolves with the value passed to the callback or returned by an async
   * function; rejects with the SDK error a script error maps to (SPEC §3).
   */
  async run(source: string, args: unknown[], opts: ScriptRunOptions = {}): Promise<ScriptRunResult> {
    const called = Date.now()
    if (typeof source !== 'string' || source.length > RUN_LIMITS.sourceBytes) {
      throw new InvalidInputError([
        { path: ['source'], code: 'invalid_type', message: `must be a string of at most ${RUN_LIMITS.sourceBytes} characters` },
      ])
    }
    const argsJson = Array.isArray(args) ? JSON.stringify(args) : undefined
    if (argsJson === undefined || argsJson.length > RUN_LIMITS.resultBytes) {
      throw new InvalidInputError([
        { path: ['args'], code: 'invalid_type', message: `must be an array of at most ${RUN_LIMITS.resultBytes} bytes of JSON` },
      ])
    }
    const parsed = scriptRunOptionsSchema.safeParse(opts)
    if (!parsed.success)
      throw new InvalidInputError(parsed.error.issues.map((i) => ({ path: i.path.map(String), code: i.code, message: i.message })))
    const o = parsed.data
    const scriptName = o.scriptName ?? 'script'
    const secrets = [...(o.redact ?? []), ...configurationSecrets(o.configuration ?? {})]
    const timeoutMs = o.timeoutMs ?? this.timeoutMs
    const lifetime = o.global ? this.enter(o.global) : null
    let outcome: RunOutcome
    let known: boolean
    try {
      outcome = await this.pool.submit(
        {
          source,
          argsJson,
          scriptName,
          configurationJson: JSON.stringify(o.configuration ?? {}),
          globalJson: (o.global && this.globals.get(o.global)) || '{}',
          ...(o.global ? { connection: o.global } : {}),
          egress: o.egress?.allow ?? [],
          redact: secrets,
          deadline: called + timeoutMs,
          timeoutMs,
        },
        { lane: o.global ?? '', retrySafe: o.retrySafe ?? false, connection: o.connection },
      )
    } finally {
      // Whether the connection is still known: a run in flight when it was forgotten must
      // not bring its state back.
      known = o.global !== undefined && this.lifetimes.get(o.global) === lifetime
      this.leave(o.global, lifetime)
    }
    // Guest text (logs, error fields) was scrubbed once, in the worker, before any cut.
    const logs = outcome.logs
    if (outcome.kind === 'ok') {
      if (o.global && known) this.globals.set(o.global, outcome.globalJson)
      return { value: outcome.valueJson === undefined ? undefined : parseGuestJson(outcome.valueJson), logs }
    }
    throw toSdkError(outcome, scriptName, logs)
  }

  /**
   * Drops what is kept for the connection whose handle is `global`: its `global`, its
   * client-credentials tokens and its SQL pools (idle connections are closed before this
   * resolves; those in use when their runs end).
   */
  async forget(global: string): Promise<void> {
    this.globals.delete(global)
    this.lifetimes.delete(global)
    await this.pool.forget(global)
  }

  private enter(global: string): { runs: number } {
    let lifetime = this.lifetimes.get(global)
    if (!lifetime) this.lifetimes.set(global, (lifetime = { runs: 0 }))
    lifetime.runs += 1
    return lifetime
  }

  private leave(global: string | undefined, lifetime: { runs: number } | null): void {
    if (!global || !lifetime) return
    lifetime.runs -= 1
    // Kept only while runs are in flight, so it never grows with connections that come and go.
    if (lifetime.runs === 0 && this.lifetimes.get(global) === lifetime) this.lifetimes.delete(global)
  }

  /** Terminates every worker. Runs in flight fail; the runner cannot be used again. */
  async close(): Promise<void> {
    await this.pool.close()
  }

  /** Worker start-ups and hard kills so far, and how many connections' state is kept. */
  get stats(): { workersStarted: number; workersKilled: number; connections: number } {
    return { workersStarted: this.pool.stats.started, workersKilled: this.pool.stats.killed, connections: this.globals.size }
  }
}

/**
 * A guest's JSON as the host gets it: every `__proto__` key and `constructor.prototype`
 * is dropped, so a host's `Object.assign({}, value)` or deep merge gets no guest-chosen prototype.
 */
function parseGuestJson(text: string): unknown {
  // The reviver runs children first: a constructor's object is complete when it is seen.
  return JSON.parse(text, (key, value: unknown) => {
    if (key === '__proto__') return undefined
    if (key === 'constructor' && typeof value === 'object' && value !== null) delete (value as Record<string, unknown>)['prototype']
    return value
  })
}

/**
 * The SDK error a run's outcome maps to (SPEC §3). Guest text in it was scrubbed by the
 * worker; latchkey's own words around it are never redacted.
 */
function toSdkError(outcome: Exclude<RunOutcome, { kind: 'ok' }>, scriptName: string, logs: string[]): Error {
  const label = scriptLabel(scriptName)
  switch (outcome.kind) {
    case 'timeout':
      return new ScriptTimeoutError(outcome.message, { scriptName, logs })
    case 'sandbox_error':
      return new ScriptError(outcome.message, { scriptName, logs, retryable: outcome.retryable })
    case 'busy':
      return new ScriptRunnerBusyError(outcome.message)
    case 'script_error': {
      const e = outcome.error
      if (e.kind === 'WrongUsernameOrPasswordError') return new WrongUsernameOrPasswordError()
      if (e.kind === 'ValidationError')
        return e.code === 'user_exists' ? new UserExistsError(e.message || undefined) : new ValidationError(e.code ?? 'invalid', e.message)
      if (e.kind === 'UnauthorizedError') return new UnauthorizedError(e.message || undefined)
      if (e.name === 'EgressDeniedError') return new EgressDeniedError(`${label}: ${e.message}`)
      const what =
        e.name === 'NonError'
          ? 'failed with a non-Error value'
          : e.invalidCode
            ? 'failed: ValidationError with a code that is not [a-z0-9_]{1,64}'
            : e.name === 'Error'
              ? 'failed'
              : `failed: ${e.name}`
      const where = e.line === undefined ? '' : ` (line ${e.line})`
      return new ScriptError(`${label} ${what}${e.message === '' ? '' : `: ${e.message}`}${where}`, {
        scriptName,
        logs,
        ...(e.line === undefined ? {} : { line: e.line }),
      })
    }
  }
}
