import { readFile } from 'node:fs/promises'
import { createRequire } from 'node:module'
import { Worker } from 'node:worker_threads'
import { bcryptCompare, bcryptHash } from '@latchkey/core/internal'
import { BRIDGE_LIMITS, RUN_LIMITS } from '../limits.js'
import type { FromWorker, RunJob, RunOutcome, ToWorker, WorkerConfig } from './protocol.js'
import { scriptLabel } from '../guest/script-run.js'
import { TokenCache } from '../client-credentials/token-cache.js'
import { tokenRequestSchema } from '../client-credentials/token-request.js'

interface Active {
  job: RunJob
  resolve: (outcome: RunOutcome) => void
  hardKill: NodeJS.Timeout
}

interface SandboxWorker {
  worker: Worker
  active: Map<number, Active>
  dead: boolean
  /** When it was last given a run: ties go to the worker that has rested longest. */
  lastUsed: number
}

interface Queued {
  job: Omit<RunJob, 'deadline'>
  resolve: (outcome: RunOutcome) => void
}

/**
 * The worker threads that run scripts. The WebAssembly module is compiled once here and
 * shared with every worker. A worker that does not stop a run by its deadline (one long
 * builtin call, say) is terminated and replaced; its other runs fail as retryable.
 */
export class SandboxPool {
  private readonly workers: SandboxWorker[] = []
  private readonly queue: Queued[] = []
  private nextId = 1
  private wasm: Promise<WebAssembly.Module> | null = null
  private closed = false
  /** Client-credentials tokens of every connection on this runner, shared by its workers. */
  private readonly tokens = new TokenCache()
  /** Worker start-ups and hard kills so far, for benchmarks and diagnostics. */
  readonly stats = { started: 0, killed: 0 }

  constructor(private readonly size: number, private readonly concurrency: number, private readonly memoryLimitBytes: number) {}

  submit(job: Omit<RunJob, 'deadline'>): Promise<RunOutcome> {
    if (this.closed) return Promise.resolve({ kind: 'sandbox_error', message: 'The script runner is closed.', retryable: false, logs: [] })
    return new Promise((resolve) => {
      this.queue.push({ job, resolve })
      void this.dispatch()
    })
  }

  async close(): Promise<void> {
    this.closed = true
    this.tokens.close()
    for (const q of this.queue.splice(0)) q.resolve({ kind: 'sandbox_error', message: 'The script runner was closed.', retryable: false, logs: [] })
    await Promise.all(this.workers.splice(0).map((w) => this.kill(w, 'The script runner was closed.')))
  }

  private async dispatch(): Promise<void> {
    const wasm = await (this.wasm ??= loadWasm())
    // From here on nothing awaits, so two dispatches never both decide to spawn.
    while (this.queue.length > 0 && !this.closed) {
      const live = this.workers.filter((w) => !w.dead)
      // The pool starts whole on first use, so runs spread over the cores. The least loaded
      // worker takes the run; among equals the one idle longest, which has had the most
      // time to prepare its next sandbox off the critical path.
      while (live.length < this.size) live.push(this.spawn(wasm))
      const target = live.filter((w) => w.active.size < this.concurrency)
        .sort((a, b) => a.active.size - b.active.size || a.lastUsed - b.lastUsed)[0]
      if (!target || this.queue.length === 0) return
      const { job: partial, resolve } = this.queue.shift()!
      const job: RunJob = { ...partial, deadline: Date.now() + partial.timeoutMs }
      const id = this.nextId++
      const worker = target
      worker.lastUsed = this.nextId
      const hardKill = setTimeout(() => {
        this.stats.killed += 1
        void this.kill(worker, 'The sandbox worker was replaced after a script on it did not stop at its deadline.')
      }, partial.timeoutMs + RUN_LIMITS.hardKillGraceMs)
      worker.active.set(id, { job, resolve, hardKill })
      this.send(worker, { type: 'run', id, job })
    }
  }

  private spawn(wasmModule: WebAssembly.Module): SandboxWorker {
    const config: WorkerConfig = { wasmModule, memoryLimitBytes: this.memoryLimitBytes }
    // An empty environment: drivers in the worker (pg reads PGPASSWORD, PGUSER, PGOPTIONS,
    // PGPASSFILE…) must never find the host's credentials there. No host flags either
    // (preloads, --input-type…): the worker runs our compiled entry and nothing else.
    const worker = new Worker(new URL('../guest/worker-entry.js', import.meta.url), { workerData: config, env: {}, execArgv: [] })
    const entry: SandboxWorker = { worker, active: new Map(), dead: false, lastUsed: 0 }
    this.stats.started += 1
    worker.on('message', (message: FromWorker) => this.onMessage(entry, message))
    worker.on('error', (error) => void this.kill(entry, `The sandbox worker failed: ${error.message}`))
    worker.on('exit', () => void this.kill(entry, 'The sandbox worker exited.'))
    // Idle workers never keep the host alive; a worker with runs in flight does (see below).
    worker.unref()
    this.workers.push(entry)
    return entry
  }

  private onMessage(entry: SandboxWorker, message: FromWorker): void {
    if (message.type === 'done') {
      const active = entry.active.get(message.id)
      if (!active) return
      entry.active.delete(message.id)
      clearTimeout(active.hardKill)
      this.updateRef(entry)
      active.resolve(message.outcome)
      void this.dispatch()
      return
    }
    if (message.type === 'host-call') {
      hostCall(message.module, message.op, message.args, this.tokens).then(
        (value) => this.send(entry, { type: 'host-result', id: message.id, ok: true, value }),
        (error: unknown) => this.send(entry, {
          type: 'host-result', id: message.id, ok: false,
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

  /** Ends a worker. Its runs past their deadline time out; the others may be retried. */
  private async kill(entry: SandboxWorker, reason: string): Promise<void> {
    if (entry.dead) return
    entry.dead = true
    const index = this.workers.indexOf(entry)
    if (index !== -1) this.workers.splice(index, 1)
    const now = Date.now()
    for (const active of entry.active.values()) {
      clearTimeout(active.hardKill)
      active.resolve(now >= active.job.deadline
        ? { kind: 'timeout', message: `${scriptLabel(active.job.scriptName)} timed out after ${active.job.timeoutMs} ms and did not stop; its sandbox worker was terminated.`, logs: [] }
        : { kind: 'sandbox_error', message: reason, retryable: true, logs: [] })
    }
    entry.active.clear()
    await entry.worker.terminate()
    void this.dispatch()
  }
}

async function loadWasm(): Promise<WebAssembly.Module> {
  const require = createRequire(import.meta.url)
  const path = require.resolve('@jitl/quickjs-wasmfile-release-sync/wasm')
  return WebAssembly.compile(await readFile(path))
}

/**
 * Bridge calls served on the main thread. bcrypt runs on core's process-wide hash pool;
 * client-credentials tokens come from the runner's cache.
 */
async function hostCall(module: string, op: string, args: unknown, tokens: TokenCache): Promise<unknown> {
  const a = (args ?? {}) as Record<string, unknown>
  if (module === 'client-credentials' && op === 'token') {
    const parsed = tokenRequestSchema.safeParse(a['request'])
    if (!parsed.success) {
      const issue = parsed.error.issues[0]
      throw new TypeError(`getAccessToken: ${issue?.path.join('.') || 'options'}: ${issue?.message ?? 'invalid'}`)
    }
    const connection = typeof a['connection'] === 'string' ? a['connection'] : undefined
    const egress = Array.isArray(a['egress']) ? a['egress'].map(String) : []
    return tokens.get(connection, parsed.data, egress)
  }
  if (module === 'bcrypt' && op === 'hash') {
    const cost = a['cost']
    if (typeof cost !== 'number' || !Number.isInteger(cost) || cost < 4 || cost > BRIDGE_LIMITS.bcryptMaxCost) {
      throw new RangeError(`bcrypt cost must be an integer from 4 to ${BRIDGE_LIMITS.bcryptMaxCost}`)
    }
    return bcryptHash(String(a['password']), cost)
  }
  if (module === 'bcrypt' && op === 'compare') {
    const hash = String(a['hash'])
    if (!/^\$2[aby]\$\d\d\$[./A-Za-z0-9]{53}$/.test(hash)) return false
    if (Number(hash.slice(4, 6)) > BRIDGE_LIMITS.bcryptMaxCost + 2) throw new RangeError('bcrypt hash cost is over the cap')
    return bcryptCompare(String(a['password']), hash)
  }
  throw new Error(`no host module ${module}.${op}`)
}
