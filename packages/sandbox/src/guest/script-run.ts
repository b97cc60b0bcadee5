import type { QuickJSContext, QuickJSDeferredPromise, QuickJSHandle, QuickJSRuntime, QuickJSWASMModule } from 'quickjs-emscripten-core'
import { RUN_LIMITS } from '../limits.js'
import type { GuestError, RunJob, RunOutcome } from '../pool/protocol.js'
import { Redactor, WITHHELD } from '../redact.js'
import { GUEST_MODULE_SOURCES } from './modules/index.js'
import { PRELUDE_SOURCE, type GuestLimits } from './prelude.js'

/** A host→guest copy that the guest's heap has no room for. */
class GuestOutOfMemory extends Error {}

const STANDARD_ERROR_NAMES = new Set([
  'Error',
  'TypeError',
  'RangeError',
  'ReferenceError',
  'SyntaxError',
  'EvalError',
  'URIError',
  'InternalError',
  'AggregateError',
  'NonError',
  'EgressDeniedError',
])

/** "The login script", or "The script" for an unnamed one. */
export function scriptLabel(name: string): string {
  return name === 'script' ? 'The script' : `The ${name} script`
}

/** Host work a guest may ask for; the worker wires modules to implementations. */
export interface HostServices {
  call(module: string, op: string, args: Record<string, unknown>, run: ScriptRun): Promise<unknown>
  sync(module: string, op: string, args: Record<string, unknown>, run: ScriptRun): unknown
  /** Module names `require` accepts, for the error that names the rest. */
  modules: string[]
  /** Closes whatever host resources (sockets, connections) this run opened. */
  release(run: ScriptRun): Promise<void>
}

/**
 * One execution of one script in a fresh QuickJS runtime and context, torn down at the
 * end. The wall-clock deadline is enforced three ways: the interrupt handler stops guest
 * code, a host timer ends a run that is waiting (on a host call, a timer or a callback
 * that never comes), and the runner terminates the worker if neither could.
 */
export class ScriptRun {
  /** True when the module broke under the run (an abort or a trap): the run may be retried elsewhere. */
  poisoned = false
  private jobValue: RunJob | null = null
  private redactor = new Redactor([])
  private rt: QuickJSRuntime | null = null
  private ctx: QuickJSContext | null = null
  private setup: QuickJSHandle | null = null
  private start: QuickJSHandle | null = null
  private readonly logs: string[] = []
  private logBytes = 0
  private logsTruncated = false
  private readonly deferreds = new Set<QuickJSDeferredPromise>()
  private readonly awaiting = new Map<QuickJSDeferredPromise, string>()
  private readonly timers = new Set<NodeJS.Timeout>()
  private finished = false
  private tornDown = false
  private resolveOutcome!: (outcome: RunOutcome) => void
  private readonly outcome = new Promise<RunOutcome>((resolve) => {
    this.resolveOutcome = resolve
  })

  /**
   * Creates the runtime and context and evaluates the prelude: the costly, script-free
   * part, which a worker does ahead of time so a run finds its sandbox ready.
   */
  constructor(
    private readonly module: QuickJSWASMModule,
    private readonly services: HostServices,
  ) {
    const rt = (this.rt = this.module.newRuntime())
    rt.setMaxStackSize(RUN_LIMITS.stackBytes)
    rt.setInterruptHandler(() => this.jobValue !== null && Date.now() > this.jobValue.deadline)
    const ctx = (this.ctx = rt.newContext())

    const host = ctx.newObject()
    const fn = (name: string, impl: (...args: QuickJSHandle[]) => QuickJSHandle | void) => {
      const handle = ctx.newFunction(name, impl)
      ctx.setProp(host, name, handle)
      handle.dispose()
    }
    fn('log', (level, text) => {
      this.log(this.text(level, 16) ?? 'log', this.text(text, RUN_LIMITS.logBytes) ?? '[a log line too long to capture]')
    })
    fn('call', (module, op, args) => this.hostCall(this.text(module, 64), this.text(op, 64), this.text(args, RUN_LIMITS.resultBytes)))
    fn('sync', (module, op, args) => {
      const reply = this.hostSync(this.text(module, 64), this.text(op, 64), this.text(args, RUN_LIMITS.resultBytes))
      try {
        return this.guestString(reply, `result of ${this.text(module, 64)}.${this.text(op, 64)}`)
      } catch (error) {
        if (!(error instanceof GuestOutOfMemory)) throw error
        this.finish({ kind: 'sandbox_error', message: error.message, retryable: false, logs: this.logs })
        throw new Error('out of memory')
      }
    })
    fn('timer', (ms) => this.timer(ctx.typeof(ms) === 'number' ? ctx.getNumber(ms) : 0))
    fn('done', (kind, json) => {
      this.guestDone(this.text(kind, 8), json)
    })
    fn('load', (name) => {
      const source = GUEST_MODULE_SOURCES[this.text(name, 64) ?? '']
      if (!source) throw new Error('no such module')
      return ctx.unwrapResult(ctx.evalCode(source, 'latchkey-module.js'))
    })

    const limits: GuestLimits = {
      timers: RUN_LIMITS.timers,
      timerDelayMs: RUN_LIMITS.timerDelayMs,
      modules: this.services.modules,
      errorChars: RUN_LIMITS.guestErrorChars,
    }
    const prelude = ctx.unwrapResult(ctx.evalCode(PRELUDE_SOURCE, 'latchkey-prelude.js'))
    const limitsValue = ctx.unwrapResult(ctx.evalCode(`(${JSON.stringify(limits)})`))
    const entry = ctx.callFunction(prelude, ctx.undefined, host, limitsValue)
    for (const h of [prelude, host, limitsValue]) h.dispose()
    const api = ctx.unwrapResult(entry)
    this.setup = ctx.getProp(api, 'setup')
    this.start = ctx.getProp(api, 'start')
    api.dispose()
  }

  get job(): RunJob {
    if (!this.jobValue) throw new Error('no job yet')
    return this.jobValue
  }

  /** Runs one job; a ScriptRun serves exactly one. Call {@link tearDown} afterwards. */
  async execute(job: RunJob): Promise<RunOutcome> {
    this.jobValue = job
    this.redactor = new Redactor(job.redact)
    try {
      this.begin()
      this.schedule(() => this.timeOut(), job.deadline - Date.now())
      this.pump()
      return await this.outcome
    } catch (error) {
      const outcome = this.crashed(error)
      this.finish(outcome)
      return outcome
    }
  }

  /**
   * Adds a secret the run came to hold through a host call (a client secret it passed, a
   * token it was given): from now on it is scrubbed like the secrets the run started with.
   */
  addSecret(secret: string): void {
    if (secret.length > 0 && !this.job.redact.includes(secret)) {
      this.job.redact.push(secret)
      this.redactor = new Redactor(this.job.redact)
    }
  }

  /** Text a guest produced, with the run's secrets scrubbed (never latchkey's own words). */
  scrub(text: string): string {
    return this.redactor.scrub(text)
  }

  private begin(): void {
    const ctx = this.ctx!
    const job = this.job
    const strings = [job.configurationJson, job.globalJson].map((x) => this.guestString(x, 'configuration and global'))
    const configured = ctx.callFunction(this.setup!, ctx.undefined, strings[0]!, strings[1]!)
    for (const h of strings) h.dispose()
    ctx.unwrapResult(configured).dispose()

    const evaluated = ctx.evalCode(job.source, `${job.scriptName}.js`, { type: 'global' })
    if (evaluated.error) {
      this.guestFailed(evaluated.error)
      return
    }
    evaluated.value.dispose()
    const args = this.guestString(job.argsJson, 'arguments')
    const name = this.guestString(job.scriptName, 'name')
    const called = ctx.callFunction(this.start!, ctx.undefined, args, name)
    args.dispose()
    name.dispose()
    if (called.error) this.guestFailed(called.error)
    else called.value.dispose()
  }

  // ---- what the guest can ask of the host ------------------------------------------

  /**
   * Copies a host string into the guest, checking first that its heap has room: the
   * library's own copy writes through whatever malloc returns, 0 included, which would
   * corrupt the module. A probe allocation as large as the copy and the string together
   * is made and freed; the copy then reuses that space.
   */
  private guestString(text: string, what: string): QuickJSHandle {
    const ctx = this.ctx!
    const module = (
      ctx as unknown as { module: { _malloc(n: number): number; _free(p: number): void; lengthBytesUTF8(s: string): number } }
    ).module
    const needed = module.lengthBytesUTF8(text) + 1 + 2 * text.length + 1024
    const probe = module._malloc(needed)
    if (probe === 0) {
      const mb = (n: number) => `${(n / (1024 * 1024)).toFixed(1)} MB`
      throw new GuestOutOfMemory(
        `${scriptLabel(this.job.scriptName)} ran out of memory: the ${what} (${mb(text.length)}) does not fit in its free memory.`,
      )
    }
    module._free(probe)
    return ctx.newString(text)
  }

  /** A guest string, or null when it is not a string or longer than `max`. */
  private text(handle: QuickJSHandle, max: number): string | null {
    const ctx = this.ctx!
    if (ctx.typeof(handle) !== 'string') return null
    const lengthHandle = ctx.getProp(handle, 'length')
    const length = ctx.getNumber(lengthHandle)
    lengthHandle.dispose()
    return length <= max ? ctx.getString(handle) : null
  }

  private log(level: string, text: string): void {
    if (this.logsTruncated) return
    const line = `[${level}] ${this.scrub(text)}`
    if (this.logs.length >= RUN_LIMITS.logLines || this.logBytes + line.length > RUN_LIMITS.logBytes) {
      this.logsTruncated = true
      this.logs.push('[latchkey] log limit reached; later lines were dropped')
      return
    }
    this.logBytes += line.length
    this.logs.push(line)
  }

  private hostSync(module: string | null, op: string | null, argsJson: string | null): string {
    try {
      if (!module || !op || argsJson === null) throw new Error('invalid host call')
      // QuickJS checks its interrupt handler only every so many operations, and a loop of
      // blocking host calls (pbkdf2Sync) runs few: past the deadline none is served, so the
      // loop reaches the interrupt before the worker is terminated with its co-tenants.
      if (this.jobValue !== null && Date.now() > this.jobValue.deadline) throw new Error('the run is past its deadline')
      return JSON.stringify({ ok: true, value: this.services.sync(module, op, JSON.parse(argsJson) as Record<string, unknown>, this) })
    } catch (error) {
      // Into the guest, which knows its own secrets: scrubbed on the way out, not here.
      return JSON.stringify({
        ok: false,
        message: error instanceof Error ? error.message : String(error),
        name: error instanceof Error ? error.name : 'Error',
      })
    }
  }

  private hostCall(module: string | null, op: string | null, argsJson: string | null): QuickJSHandle {
    const label = `${module}.${op}`
    if (!module || !op || argsJson === null) return this.settledPromise(false, 'invalid host call')
    if (this.awaiting.size >= RUN_LIMITS.inFlightHostCalls) {
      return this.settledPromise(false, `at most ${RUN_LIMITS.inFlightHostCalls} host calls may be in flight at once`)
    }
    const deferred = this.ctx!.newPromise()
    this.deferreds.add(deferred)
    this.awaiting.set(deferred, label)
    let args: Record<string, unknown>
    try {
      args = JSON.parse(argsJson) as Record<string, unknown>
    } catch {
      args = {}
    }
    this.services.call(module, op, args, this).then(
      (value) => this.settle(deferred, true, JSON.stringify(value ?? null), 'Error', label),
      (error: unknown) =>
        this.settle(
          deferred,
          false,
          error instanceof Error ? error.message : String(error),
          error instanceof Error ? error.name : 'Error',
          label,
        ),
    )
    return deferred.handle
  }

  private timer(ms: number): QuickJSHandle {
    const deferred = this.ctx!.newPromise()
    this.deferreds.add(deferred)
    this.schedule(() => this.settle(deferred, true, 'null'), Math.min(Math.max(0, ms), RUN_LIMITS.timerDelayMs))
    return deferred.handle
  }

  private settledPromise(ok: boolean, text: string): QuickJSHandle {
    const deferred = this.ctx!.newPromise()
    this.deferreds.add(deferred)
    queueMicrotask(() => this.settle(deferred, ok, text))
    return deferred.handle
  }

  private settle(deferred: QuickJSDeferredPromise, ok: boolean, text: string, errorName = 'Error', label = 'a host call'): void {
    this.awaiting.delete(deferred)
    this.deferreds.delete(deferred)
    const ctx = this.ctx
    if (this.finished || !ctx || !ctx.alive || !deferred.alive) return
    let value: QuickJSHandle
    try {
      value = ok
        ? this.guestString(text, `result of ${label}`)
        : ctx.newError({ name: errorName, message: text.slice(0, RUN_LIMITS.errorMessageChars) })
    } catch (error) {
      if (!(error instanceof GuestOutOfMemory)) throw error
      this.finish({ kind: 'sandbox_error', message: error.message, retryable: false, logs: this.logs })
      return
    }
    if (ok) deferred.resolve(value)
    else deferred.reject(value)
    value.dispose()
    this.pump()
  }

  /** Runs queued promise jobs in bounded turns, yielding so timers and other runs proceed. */
  private pump(): void {
    if (this.finished || !this.rt) return
    const result = this.rt.executePendingJobs(RUN_LIMITS.jobsPerTurn)
    if (result.error) {
      this.guestFailed(result.error)
      return
    }
    if (this.rt.hasPendingJob()) setImmediate(() => this.pump())
  }

  // ---- endings -----------------------------------------------------------------------

  private guestDone(kind: string | null, json: QuickJSHandle): void {
    if (this.finished) return
    // A builtin call can run past the deadline without an interrupt; its answer is late all the same.
    if (Date.now() > this.job.deadline) {
      this.timeOut('while running script code')
      return
    }
    const text = this.text(json, RUN_LIMITS.resultBytes)
    if (text === null) {
      this.finish({
        kind: 'script_error',
        error: {
          kind: 'Error',
          name: 'ResultTooLarge',
          message: `The script's result is not a string of at most ${RUN_LIMITS.resultBytes} bytes of JSON`,
        },
        logs: this.logs,
      })
      return
    }
    if (kind === 'ok') {
      const parsed = JSON.parse(text) as { value?: unknown; global?: unknown }
      const globalJson = JSON.stringify(parsed.global ?? {})
      this.finish({
        kind: 'ok',
        valueJson: parsed.value === undefined ? undefined : JSON.stringify(parsed.value),
        globalJson,
        logs: this.logs,
      })
      return
    }
    const error = JSON.parse(text) as GuestError & { stack?: string }
    // The interrupt surfaces as a catchable rejection inside async functions.
    if (Date.now() > this.job.deadline || (error.name === 'InternalError' && error.message === 'interrupted')) {
      this.timeOut('while running script code')
      return
    }
    this.finish({ kind: 'script_error', error: this.guestError(error), logs: this.logs })
  }

  private guestFailed(errorHandle: QuickJSHandle): void {
    const ctx = this.ctx!
    let described: GuestError & { stack?: string } = { kind: 'Error', name: 'Error', message: 'The script failed' }
    try {
      const field = (name: string) => {
        const h = ctx.getProp(errorHandle, name)
        const value = this.text(h, RUN_LIMITS.guestErrorChars)
        h.dispose()
        return value
      }
      described = { kind: 'Error', name: field('name') ?? 'Error', message: field('message') ?? '', stack: field('stack') ?? '' }
    } finally {
      errorHandle.dispose()
    }
    if (Date.now() > this.job.deadline || (described.name === 'InternalError' && described.message === 'interrupted')) {
      this.timeOut('while running script code')
      return
    }
    this.finish({ kind: 'script_error', error: this.guestError(described), logs: this.logs })
  }

  /**
   * The guest's error as the host reports it: every field the guest chose (name, message,
   * code, stack) is scrubbed before it is cut, and a ValidationError code that is not
   * `[a-z0-9_]{1,64}` makes the error an ordinary script failure.
   */
  private guestError(e: GuestError & { stack?: string }): GuestError {
    const file = `${this.job.scriptName}.js:`
    const at = e.stack ? e.stack.indexOf(file) : -1
    const line = at === -1 ? undefined : Number.parseInt(e.stack!.slice(at + file.length), 10)
    const validCode = e.code !== undefined && /^[a-z0-9_]{1,64}$/.test(e.code)
    const kind = e.kind === 'ValidationError' && !validCode ? 'Error' : e.kind
    // The standard names carry no secret and say what kind of failure it was (an
    // EgressDeniedError becomes core's); any other name is guest text like the message.
    const name = STANDARD_ERROR_NAMES.has(e.name) ? e.name : this.redactor.scrubAndCut(String(e.name), 200)
    return {
      kind,
      name: name === WITHHELD ? 'Error' : name,
      message: this.redactor.scrubAndCut(String(e.message), RUN_LIMITS.errorMessageChars),
      ...(kind === 'ValidationError' ? { code: e.code! } : {}),
      ...(e.kind === 'ValidationError' && !validCode ? { invalidCode: true } : {}),
      ...(line !== undefined && Number.isFinite(line) ? { line } : {}),
    }
  }

  private timeOut(doing?: string): void {
    if (this.finished) return
    const waiting = [...new Set(this.awaiting.values())]
    const why =
      doing ??
      (waiting.length > 0
        ? `while awaiting ${waiting.join(', ')}`
        : this.rt?.hasPendingJob()
          ? 'while running promise jobs'
          : 'without calling its callback')
    this.finish({
      kind: 'timeout',
      message: `${scriptLabel(this.job.scriptName)} timed out after ${this.job.timeoutMs} ms ${why}.`,
      logs: this.logs,
    })
  }

  private crashed(error: unknown): RunOutcome {
    const message = error instanceof Error ? error.message : String(error)
    // An Emscripten abort or a WASM trap leaves the module unusable.
    this.poisoned =
      this.poisoned || /abort|unreachable|RuntimeError|memory access/i.test(message) || error instanceof WebAssembly.RuntimeError
    return {
      kind: 'sandbox_error',
      message: `The sandbox failed while running ${scriptLabel(this.job.scriptName).toLowerCase()}: ${this.redactor.scrubAndCut(message, RUN_LIMITS.errorMessageChars)}`,
      retryable: this.poisoned,
      logs: this.logs,
    }
  }

  private finish(outcome: RunOutcome): void {
    if (this.finished) return
    this.finished = true
    this.resolveOutcome(outcome)
  }

  private schedule(fn: () => void, ms: number): void {
    const timer = setTimeout(
      () => {
        this.timers.delete(timer)
        fn()
      },
      Math.max(0, ms),
    )
    this.timers.add(timer)
  }

  /**
   * Stops the run's timers and closes what it opened. The runtime and context are not
   * freed one by one: the worker drops the whole module and its memory after one run.
   * Idempotent.
   */
  async tearDown(): Promise<void> {
    if (this.tornDown) return
    this.tornDown = true
    this.finished = true
    for (const t of this.timers) clearTimeout(t)
    this.timers.clear()
    this.deferreds.clear()
    this.awaiting.clear()
    if (this.jobValue) await this.services.release(this)
  }
}
