import { readFile } from 'node:fs/promises'
import { createRequire } from 'node:module'
import { Worker } from 'node:worker_threads'
import { RUN_LIMITS } from '../limits.js'
import { HostWork } from './host-work.js'
import type { FromWorker, RunJob, RunOutcome, ToWorker, WorkerConfig } from './protocol.js'
import { scriptLabel } from '../guest/script-run.js'
import { TokenCache } from '../client-credentials/token-cache.js'
import { tokenRequestSchema } from '../client-credentials/token-request.js'

/** What the pool knows of a run besides its job: never sent to a worker. */
export interface RunPlacement {
  /** The connection's handle (its `global`), or '' for a run without one: runs of one lane share workers first. */
  lane: string
  /** The caller allows a second attempt after its worker was lost (reads such as login and get_user). */
  retrySafe: boolean
  /** The connection's name, for the host's events only. */
  connection: string | undefined
}

/** A worker was terminated because a run on it did not stop: which run, and whom it cost. */
export interface WorkerLostEvent {
  type: 'worker_lost'
  /** The culprit's connection name and script, for the host (never told to another tenant). */
  connection: string | undefined
  scriptName: string
  /** Runs of other connections that were on the worker: moved, re-run, or failed as retryable. */
  moved: number
  rerun: number
  failed: number
}

interface Pending {
  job: RunJob
  placement: RunPlacement
  resolve: (outcome: RunOutcome) => void
  /** Ends the wait in the queue at the run's deadline. */
  expiry: NodeJS.Timeout | null
  /** Whether the run has already been re-run once after losing its worker. */
  rerun: boolean
}

interface Active extends Pending {
  hardKill: NodeJS.Timeout
  /** Set when the worker reports that the run has begun. */
  started: boolean
}

interface SandboxWorker {
  worker: Worker
  active: Map<number, Active>
  dead: boolean
  /** When it was last given a run: ties go to the worker that has rested longest. */
  lastUsed: number
}

/**
 * The worker threads that run scripts. The WebAssembly module is compiled once here and
 * shared with every worker.
 *
 * - A run's deadline counts from `run()`: time in the queue is part of it, and the queue
 *   is bounded (past it, a run is refused at once as busy).
 * - Runs of one connection (one lane) go to workers that hold only that lane's runs, or
 *   none, before they share a worker with another connection's runs.
 * - A worker that does not stop a run by its deadline (one long builtin call, say) is
 *   terminated and replaced. The culprit times out; runs of others that had not begun are
 *   moved to another worker, begun ones are re-run once when marked `retrySafe`, and the
 *   rest fail as retryable, saying only that their worker was lost to another run.
 */
export class SandboxPool {
  private readonly workers: SandboxWorker[] = []
  private readonly queue: Pending[] = []
  private nextId = 1
  private wasm: Promise<WebAssembly.Module> | null = null
  private compiled: WebAssembly.Module | null = null
  private closed = false
  /** Client-credentials tokens of every connection on this runner, shared by its workers. */
  private readonly tokens = new TokenCache()
  /** Worker start-ups and hard kills so far, for benchmarks and diagnostics. */
  readonly stats = { started: 0, killed: 0 }
  private readonly hostWork = new HostWork()
  /** Workers' answers to `forget` and `close`, by request id. */
  private readonly closing = new Map<number, { worker: SandboxWorker; done: () => void }>()
  private nextClosing = 1

  constructor(
    private readonly size: number,
    private readonly concurrency: number,
    private readonly memoryLimitBytes: number,
    private readonly maxQueued: number,
    private readonly sqlPoolSize: number,
    private readonly onWorkerLost: (event: WorkerLostEvent) => void,
  ) {}

  submit(job: RunJob, placement: RunPlacement): Promise<RunOutcome> {
    if (this.closed) return Promise.resolve({ kind: 'sandbox_error', message: 'The script runner is closed.', retryable: false, logs: [] })
    if (this.queue.length >= this.maxQueued) {
      return Promise.resolve({
        kind: 'busy',
        message: `The script runner is busy: ${this.maxQueued} runs are already waiting. Try again shortly.`,
        logs: [],
      })
    }
    return new Promise((resolve) => {
      this.enqueue({ job, placement, resolve, expiry: null, rerun: false }, false)
      void this.dispatch()
    })
  }

  /**
   * Drops the host-side state of one connection, keyed by its `global` handle: its tokens
   * here, and its SQL pools in every worker (resolves when their idle connections are closed).
   */
  async forget(global: string): Promise<void> {
    this.tokens.forget(global)
    // Its runs still queued (or sent and not yet begun, should they move to another worker) must not make a new pool.
    const mark = (pending: Pending) => {
      if (pending.job.connection === global) pending.job = { ...pending.job, forgotten: true }
    }
    this.queue.forEach(mark)
    for (const worker of this.workers) worker.active.forEach(mark)
    await this.inWorkers((id) => ({ type: 'forget', id, handle: global }))
  }

  async close(): Promise<void> {
    this.closed = true
    this.tokens.close()
    for (const q of this.queue.splice(0)) {
      if (q.expiry) clearTimeout(q.expiry)
      q.resolve({ kind: 'sandbox_error', message: 'The script runner was closed.', retryable: false, logs: [] })
    }
    // Pooled SQL connections are closed politely first, so their servers see them go.
    await this.inWorkers((id) => ({ type: 'close', id }))
    await Promise.all(this.workers.splice(0).map((w) => this.kill(w, null)))
  }

  /** Asks every live worker to close SQL pools, waiting for each answer for at most a second. */
  private async inWorkers(message: (id: number) => ToWorker): Promise<void> {
    await Promise.all(
      this.workers
        .filter((w) => !w.dead)
        .map(
          (w) =>
            new Promise<void>((resolve) => {
              const id = this.nextClosing++
              const done = () => {
                clearTimeout(timer)
                this.closing.delete(id)
                resolve()
              }
              // A worker held by a spinning run answers late or never: its pools go with it.
              const timer = setTimeout(done, 1000)
              this.closing.set(id, { worker: w, done })
              this.send(w, message(id))
            }),
        ),
    )
  }

  /** Queues a run (at the front when it is moved from a lost worker), timing it out at its deadline. */
  private enqueue(pending: Pending, front: boolean): void {
    const wait = pending.job.deadline - Date.now()
    pending.expiry = setTimeout(
      () => {
        const index = this.queue.indexOf(pending)
        if (index === -1) return
        this.queue.splice(index, 1)
        pending.resolve({
          kind: 'timeout',
          message: `${scriptLabel(pending.job.scriptName)} timed out after ${pending.job.timeoutMs} ms while waiting for a sandbox worker.`,
          logs: [],
        })
      },
      Math.max(0, wait),
    )
    if (front) this.queue.unshift(pending)
    else this.queue.push(pending)
  }

  /** Places queued runs on workers: at once when the WebAssembly module is compiled, else after. */
  private async dispatch(): Promise<void> {
    const wasm = this.compiled ?? (this.compiled = await (this.wasm ??= loadWasm()))
    // From here on nothing awaits, so two dispatches never both decide to spawn.
    while (this.queue.length > 0 && !this.closed) {
      const live = this.workers.filter((w) => !w.dead)
      // The pool starts whole on first use, so runs spread over the cores.
      while (live.length < this.size) live.push(this.spawn(wasm))
      const next = this.queue[0]!
      const target = this.pick(live, next.placement.lane)
      if (!target) return
      this.queue.shift()
      if (next.expiry) clearTimeout(next.expiry)
      this.start(target, next)
    }
  }

  /**
   * The worker for a run of `lane`: among workers with room, those holding only this
   * lane's runs (or none) first, then the least loaded; among equals the one idle
   * longest, which has had the most time to prepare its next sandbox.
   */
  private pick(live: SandboxWorker[], lane: string): SandboxWorker | undefined {
    const mixes = (w: SandboxWorker) => ([...w.active.values()].some((a) => a.placement.lane !== lane) ? 1 : 0)
    return live
      .filter((w) => w.active.size < this.concurrency)
      .sort((a, b) => mixes(a) - mixes(b) || a.active.size - b.active.size || a.lastUsed - b.lastUsed)[0]
  }

  private start(worker: SandboxWorker, pending: Pending): void {
    const id = this.nextId++
    worker.lastUsed = this.nextId
    const hardKill = setTimeout(
      () => {
        const active = worker.active.get(id)
        if (!active) return
        // A worker that never began the run (still starting, or its thread held by another
        // run) is not to blame for it: the run times out, and the worker is told to skip it.
        if (!active.started) {
          worker.active.delete(id)
          this.hostWork.end(id)
          this.send(worker, { type: 'cancel', id })
          this.updateRef(worker)
          active.resolve({
            kind: 'timeout',
            message: `${scriptLabel(active.job.scriptName)} timed out after ${active.job.timeoutMs} ms while waiting for a sandbox worker.`,
            logs: [],
          })
          void this.dispatch()
          return
        }
        this.stats.killed += 1
        void this.kill(worker, id)
      },
      Math.max(0, pending.job.deadline - Date.now()) + RUN_LIMITS.hardKillGraceMs,
    )
    worker.active.set(id, { ...pending, expiry: null, hardKill, started: false })
    this.send(worker, { type: 'run', id, job: pending.job })
  }

  private spawn(wasmModule: WebAssembly.Module): SandboxWorker {
    const config: WorkerConfig = { wasmModule, memoryLimitBytes: this.memoryLimitBytes, sqlPoolSize: this.sqlPoolSize }
    // An empty environment: drivers in the worker (pg reads PGPASSWORD, PGUSER, PGOPTIONS,
    // PGPASSFILE…) must never find the host's credentials there. No host flags either
    // (preloads, --input-type…): the worker runs our compiled entry and nothing else.
    const worker = new Worker(new URL('../guest/worker-entry.js', import.meta.url), { workerData: config, env: {}, execArgv: [] })
    const entry: SandboxWorker = { worker, active: new Map(), dead: false, lastUsed: 0 }
    this.stats.started += 1
    worker.on('message', (message: FromWorker) => this.onMessage(entry, message))
    worker.on('error', () => void this.kill(entry, undefined))
    worker.on('exit', () => void this.kill(entry, undefined))
    // Idle workers never keep the host alive; a worker with runs in flight does (see below).
    worker.unref()
    this.workers.push(entry)
    return entry
  }

  private onMessage(entry: SandboxWorker, message: FromWorker): void {
    if (message.type === 'closed') {
      this.closing.get(message.id)?.done()
      return
    }
    if (message.type === 'started') {
      const active = entry.active.get(message.id)
      if (active) active.started = true
      return
    }
    if (message.type === 'done') {
      const active = entry.active.get(message.id)
      if (!active) return
      entry.active.delete(message.id)
      this.hostWork.end(message.id)
      clearTimeout(active.hardKill)
      this.updateRef(entry)
      active.resolve(message.outcome)
      void this.dispatch()
      return
    }
    if (message.type === 'host-call') {
      // A call that arrives after its run ended gets no work done.
      if (!entry.active.has(message.runId)) {
        this.send(entry, { type: 'host-result', id: message.id, ok: false, message: 'the run has ended' })
        return
      }
      const work =
        message.module === 'client-credentials' && message.op === 'token'
          ? clientCredentialsToken(message.args, this.tokens)
          : this.hostWork.call(message.runId, message.module, message.op, message.args)
      work.then(
        (value) => this.send(entry, { type: 'host-result', id: message.id, ok: true, value }),
        (error: unknown) =>
          this.send(entry, {
            type: 'host-result',
            id: message.id,
            ok: false,
            message: error instanceof Error ? error.message : String(error),
            // The name lets an egress denial on the main thread surface as EgressDeniedError.
            ...(error instanceof Error ? { name: error.name } : {}),
          }),
      )
    }
  }

  private send(entry: SandboxWorker, message: ToWorker): void {
    if (entry.dead) return
    entry.worker.postMessage(message)
    this.updateRef(entry)
  }

  private updateRef(entry: SandboxWorker): void {
    if (entry.active.size > 0) entry.worker.ref()
    else entry.worker.unref()
  }

  /**
   * Ends a worker. `culprit` is the run whose hard kill fired (null when the runner
   * closes, undefined when the worker failed by itself): it times out. Every other run on
   * the worker is moved if it had not begun, re-run once if it is retry-safe, and else
   * fails as retryable; none is blamed for the culprit.
   */
  private async kill(entry: SandboxWorker, culprit: number | null | undefined): Promise<void> {
    if (entry.dead) return
    entry.dead = true
    const index = this.workers.indexOf(entry)
    if (index !== -1) this.workers.splice(index, 1)
    const guilty = culprit == null ? undefined : entry.active.get(culprit)
    const counts = { moved: 0, rerun: 0, failed: 0 }
    for (const [id, active] of entry.active) {
      clearTimeout(active.hardKill)
      this.hostWork.end(id)
      if (id === culprit) {
        active.resolve({
          kind: 'timeout',
          message: `${scriptLabel(active.job.scriptName)} timed out after ${active.job.timeoutMs} ms and did not stop; its sandbox worker was terminated.`,
          logs: [],
        })
        continue
      }
      if (culprit === null) {
        active.resolve({ kind: 'sandbox_error', message: 'The script runner was closed.', retryable: false, logs: [] })
        continue
      }
      const canRetry = !this.closed && Date.now() < active.job.deadline
      if (canRetry && !active.started) {
        counts.moved += 1
        this.enqueue({ job: active.job, placement: active.placement, resolve: active.resolve, expiry: null, rerun: active.rerun }, true)
      } else if (canRetry && active.placement.retrySafe && !active.rerun) {
        counts.rerun += 1
        this.enqueue({ job: active.job, placement: active.placement, resolve: active.resolve, expiry: null, rerun: true }, true)
      } else {
        counts.failed += 1
        const why = guilty ? 'was lost to another run that did not stop' : 'failed'
        active.resolve({
          kind: 'sandbox_error',
          message: `${scriptLabel(active.job.scriptName)} could not finish: its sandbox worker ${why}. It may be retried.`,
          retryable: true,
          logs: [],
        })
      }
    }
    entry.active.clear()
    // A lost worker's pools are gone with it: nobody waits for its answer.
    for (const pending of [...this.closing.values()]) if (pending.worker === entry) pending.done()
    if (guilty) {
      try {
        this.onWorkerLost({ type: 'worker_lost', connection: guilty.placement.connection, scriptName: guilty.job.scriptName, ...counts })
      } catch (error) {
        process.emitWarning(`latchkey: a runner onEvent listener threw: ${error instanceof Error ? error.message : String(error)}`)
      }
    }
    await entry.worker.terminate()
    // A replacement starts now, not inside the deadline of whichever run comes next.
    if (!this.closed && this.compiled) while (this.workers.filter((w) => !w.dead).length < this.size) this.spawn(this.compiled)
    void this.dispatch()
  }
}

async function loadWasm(): Promise<WebAssembly.Module> {
  const require = createRequire(import.meta.url)
  const path = require.resolve('@jitl/quickjs-wasmfile-release-sync/wasm')
  return WebAssembly.compile(await readFile(path))
}

/** A client-credentials token for a script, from the runner's cache (scoped by the run's `global` handle). */
async function clientCredentialsToken(args: unknown, tokens: TokenCache): Promise<unknown> {
  const a = (args ?? {}) as Record<string, unknown>
  const parsed = tokenRequestSchema.safeParse(a['request'])
  if (!parsed.success) {
    const issue = parsed.error.issues[0]
    throw new TypeError(`getAccessToken: ${issue?.path.join('.') || 'options'}: ${issue?.message ?? 'invalid'}`)
  }
  const connection = typeof a['connection'] === 'string' ? a['connection'] : undefined
  const egress = Array.isArray(a['egress']) ? a['egress'].map(String) : []
  return tokens.get(connection, parsed.data, egress)
}
