import { Worker } from 'node:worker_threads'
import { availableParallelism } from 'node:os'
import type { LegacyHash } from './legacy/legacy-hash.js'
import { loadBcryptEngine, type BcryptEngineName } from './bcrypt-engine.js'

/** A unit of bcrypt work for the pool. Passwords cross to the worker and are never logged. */
export type HashJob =
  | { op: 'hash'; password: string; cost: number }
  | { op: 'compare'; password: string; hash: string }
  | { op: 'legacy'; password: string; legacy: LegacyHash }
  /** For scripts: pbkdf2 here, so it never takes a thread of libuv's pool from the host's fs and dns. */
  | { op: 'pbkdf2'; password: string; salt: string; iterations: number; keylen: number; digest: string }

/** Work a sandboxed script asks of the pool: queued behind built-in work. */
export type ScriptHashJob = Extract<HashJob, { op: 'hash' | 'compare' | 'pbkdf2' | 'legacy' }>

export type HashJobResult = { ok: true; value: string | boolean; computeMs: number } | { ok: false; message: string; computeMs: number }

interface Pending {
  job: HashJob & { id: number }
  resolve: (value: string | boolean) => void
  reject: (error: Error) => void
  /** A script's job: it waits behind built-in ones and takes at most half the workers. */
  script: boolean
}

interface Slot {
  worker: Worker
  busy: Pending | null
}

/** Counters for benchmarks and diagnostics: compute time as the workers measured it. */
export interface HashPoolStats {
  /** The bcrypt implementation every worker of this process runs. */
  engine: BcryptEngineName
  workers: number
  jobs: number
  computeMs: number
  /** Jobs scripts asked for that ran, and that were dropped unstarted when their run ended. */
  scriptJobs: number
  scriptJobsDropped: number
}

/**
 * The process-wide bcrypt pool: one worker thread per core, started on first use,
 * `unref()`'d so it never keeps the process alive. The host's event loop only posts
 * messages; all hashing runs on the workers.
 */
class HashPool {
  private readonly slots: Slot[] = []
  private readonly queue: Pending[] = []
  /** Scripts' jobs: served only when no built-in job waits, on at most half the workers. */
  private readonly scriptQueue: Pending[] = []
  private nextId = 1
  private readonly stats: Omit<HashPoolStats, 'engine' | 'workers'> = { jobs: 0, computeMs: 0, scriptJobs: 0, scriptJobsDropped: 0 }

  constructor(
    private readonly size: number,
    private readonly engine: BcryptEngineName,
  ) {}

  run(job: HashJob): Promise<string | boolean> {
    return new Promise((resolve, reject) => {
      this.queue.push({ job: { ...job, id: this.nextId++ }, resolve, reject, script: false })
      this.pump()
    })
  }

  /** A script's job; if `signal` aborts before a worker takes it, it is dropped and rejected. */
  runForScript(job: ScriptHashJob, signal: AbortSignal): Promise<string | boolean> {
    if (signal.aborted) return Promise.reject(new Error('the run has ended'))
    return new Promise((resolve, reject) => {
      const pending: Pending = { job: { ...job, id: this.nextId++ }, resolve, reject, script: true }
      signal.addEventListener(
        'abort',
        () => {
          const index = this.scriptQueue.indexOf(pending)
          if (index === -1) return
          this.scriptQueue.splice(index, 1)
          this.stats.scriptJobsDropped += 1
          reject(new Error('the run has ended'))
        },
        { once: true },
      )
      this.scriptQueue.push(pending)
      this.pump()
    })
  }

  snapshot(): HashPoolStats {
    return { engine: this.engine, workers: this.slots.length, ...this.stats }
  }

  async close(): Promise<void> {
    const slots = this.slots.splice(0)
    for (const pending of [...this.queue.splice(0), ...this.scriptQueue.splice(0)]) pending.reject(new Error('hash pool closed'))
    await Promise.all(
      slots.map(async (slot) => {
        slot.busy?.reject(new Error('hash pool closed'))
        await slot.worker.terminate()
      }),
    )
  }

  private pump(): void {
    // Built-in jobs first; scripts' jobs only while they hold fewer than half the workers.
    const scriptSlots = Math.max(1, Math.floor(this.size / 2))
    const next = () =>
      this.queue.length > 0
        ? this.queue
        : this.scriptQueue.length > 0 && this.slots.filter((s) => s.busy?.script).length < scriptSlots
          ? this.scriptQueue
          : null
    for (let from = next(); from !== null; from = next()) {
      let slot = this.slots.find((s) => s.busy === null)
      if (!slot && this.slots.length < this.size) slot = this.spawn()
      if (!slot) return
      const pending = from.shift()!
      slot.busy = pending
      // Referenced only while it works: a pending hash keeps the process alive, an idle pool never does.
      slot.worker.ref()
      slot.worker.postMessage(pending.job)
    }
  }

  private spawn(): Slot {
    const worker = new Worker(new URL('./hash-worker.js', import.meta.url), { workerData: { engine: this.engine } })
    const slot: Slot = { worker, busy: null }
    worker.on('message', (reply: HashJobResult & { id: number }) => {
      const pending = slot.busy
      if (!pending || pending.job.id !== reply.id) return
      slot.busy = null
      slot.worker.unref()
      this.stats.jobs += 1
      if (pending.script) this.stats.scriptJobs += 1
      this.stats.computeMs += reply.computeMs
      if (reply.ok) pending.resolve(reply.value)
      else pending.reject(new Error(`bcrypt ${pending.job.op} failed: ${reply.message}`))
      this.pump()
    })
    // A worker that dies takes only its own job with it; the slot is refilled on demand.
    const retire = (error: Error) => {
      const index = this.slots.indexOf(slot)
      if (index === -1) return
      this.slots.splice(index, 1)
      slot.busy?.reject(error)
      slot.busy = null
      this.pump()
    }
    worker.on('error', (error) => retire(error))
    worker.on('exit', (code) => retire(new Error(`hash worker exited with code ${code}`)))
    // After the listeners, since adding a 'message' listener refs the worker's port again.
    worker.unref()
    this.slots.push(slot)
    return slot
  }
}

let pool: HashPool | null = null
let engine: BcryptEngineName | null = null

/**
 * Chosen once per process, so every worker, and so every dummy compare, runs the same
 * implementation at the same speed: the native binding when it loads, else bcryptjs.
 * `LATCHKEY_BCRYPT_ENGINE=bcryptjs` forces the pure-JS one.
 */
function processEngine(): BcryptEngineName {
  engine ??= loadBcryptEngine(process.env['LATCHKEY_BCRYPT_ENGINE'] === 'bcryptjs' ? 'bcryptjs' : 'native').name
  return engine
}

function hashPool(): HashPool {
  pool ??= new HashPool(Math.max(1, availableParallelism()), processEngine())
  return pool
}

/** bcrypt-hashes `password` at `cost` on the pool. */
export async function bcryptHash(password: string, cost: number): Promise<string> {
  return (await hashPool().run({ op: 'hash', password, cost })) as string
}

/** Compares `password` with a bcrypt `hash` on the pool, in bcrypt's constant time. */
export async function bcryptCompare(password: string, hash: string): Promise<boolean> {
  return (await hashPool().run({ op: 'compare', password, hash })) as boolean
}

/** Verifies a password, as typed, against an imported legacy hash, on the pool. */
export async function legacyVerify(password: string, legacy: LegacyHash): Promise<boolean> {
  return (await hashPool().run({ op: 'legacy', password, legacy })) as boolean
}

/**
 * Runs a sandboxed script's hash job (bcrypt hash or compare, pbkdf2, a legacy hash) on the pool, behind
 * every built-in job and on at most half the workers; dropped unstarted if `signal` aborts
 * (its run has ended). Callers check the job's caps first.
 */
export async function scriptHashJob(job: ScriptHashJob, signal: AbortSignal): Promise<string | boolean> {
  return hashPool().runForScript(job, signal)
}

/** Compute time and job counts the pool's workers have reported so far. */
export function hashPoolStats(): HashPoolStats {
  return pool ? pool.snapshot() : { engine: processEngine(), workers: 0, jobs: 0, computeMs: 0, scriptJobs: 0, scriptJobsDropped: 0 }
}

/**
 * Shuts the process-wide hash pool down. Pending work is rejected. A later hash starts
 * a new pool, so calling this in a test's teardown is safe.
 *
 * @example
 * process.on('SIGTERM', async () => { await closeHashPool(); await store.close() })
 */
export async function closeHashPool(): Promise<void> {
  const current = pool
  pool = null
  await current?.close()
}

const BCRYPT_HASH = /^\$2[aby]\$(\d{2})\$[./A-Za-z0-9]{53}$/

/** The cost of a bcrypt hash, or null when `hash` is not one. */
export function bcryptCost(hash: string): number | null {
  const match = BCRYPT_HASH.exec(hash)
  return match ? Number(match[1]) : null
}
