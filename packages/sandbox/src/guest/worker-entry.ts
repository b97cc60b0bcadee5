// A sandbox worker thread: it hosts QuickJS modules and runs scripts in them, several at
// a time while they await host calls. Every run gets a module of its own, on a fresh
// bounded WebAssembly.Memory: one run's memory bomb never starves another, and no run
// can read what an earlier run left in linear memory.
import { parentPort, workerData } from 'node:worker_threads'
import { newQuickJSWASMModuleFromVariant, newVariant, type QuickJSSyncVariant } from 'quickjs-emscripten-core'
import releaseSyncModule from '@jitl/quickjs-wasmfile-release-sync'
import { cryptoSync } from '../bridges/crypto-bridge.js'
import { HttpBridge, type HttpRequestArgs } from '../bridges/http-bridge.js'
import { MysqlBridge } from '../bridges/mysql-bridge.js'
import { PgBridge } from '../bridges/pg-bridge.js'
import { RunResources } from '../bridges/run-resources.js'
import { SqlPools, type SqlPoolGroup } from '../bridges/sql-pool.js'
import { EgressPolicy } from '../egress/egress-policy.js'
import { REQUIRABLE } from './modules/index.js'
import type { FromWorker, RunJob, ToWorker, WorkerConfig } from '../pool/protocol.js'
import { ScriptRun, type HostServices } from './script-run.js'

if (!parentPort) throw new Error('the sandbox worker must run as a worker thread')
const port = parentPort
const config = workerData as WorkerConfig

// The plain synchronous build (asyncify allows one suspension per module at a time).
// Its package's types describe the CommonJS shape; under ESM the default export is the variant.
const releaseSync = releaseSyncModule as unknown as QuickJSSyncVariant
const PAGE = 64 * 1024
const INITIAL_PAGES = 256 // the 16 MiB QuickJS's build starts with

/**
 * A fresh QuickJS module on a fresh, bounded WebAssembly.Memory, with its sandbox
 * (runtime, context, prelude) already built. A slot serves exactly one run and is then
 * dropped whole: no run ever sees linear memory that another run wrote, whoever it
 * belonged to, and nothing has to be freed inside the module afterwards.
 */
interface Slot {
  memory: WebAssembly.Memory
  sandbox: ScriptRun
}

/** Slots prepared off the critical path, so a run finds one ready. */
const STOCK = 2
const stock: Slot[] = []
/** The preparation in flight, if any: one at a time, so runs never compete with it for the CPU. */
let preparing: Promise<void> | null = null

async function newSlot(): Promise<Slot> {
  const memory = new WebAssembly.Memory({
    initial: INITIAL_PAGES,
    maximum: Math.max(INITIAL_PAGES, Math.floor(config.memoryLimitBytes / PAGE)),
  })
  const module = await newQuickJSWASMModuleFromVariant(newVariant(releaseSync, { wasmModule: config.wasmModule, wasmMemory: memory }))
  return { memory, sandbox: new ScriptRun(module, services) }
}

/** Tops the stock up, one slot per turn of the event loop, so runs that arrive are not held up. */
function replenish(): void {
  if (preparing || stock.length >= STOCK) return
  preparing = new Promise<void>((resolve) => setImmediate(resolve))
    .then(newSlot)
    // A slot that cannot be built now is built on demand by the next run, which reports why.
    .then(
      (slot) => {
        stock.push(slot)
      },
      () => undefined,
    )
    .finally(() => {
      preparing = null
      replenish()
    })
}

/** A prepared slot; one being prepared is awaited rather than built twice. */
async function takeSlot(): Promise<Slot> {
  if (stock.length === 0 && preparing) await preparing
  return stock.shift() ?? newSlot()
}

// ---- host services --------------------------------------------------------------------

let nextHostCall = 1
const hostCalls = new Map<number, { resolve: (v: unknown) => void; reject: (e: Error) => void }>()

/** Work done by the main thread: bcrypt runs on core's process-wide hash pool. */
function viaMain(run: ScriptRun, module: string, op: string, args: unknown): Promise<unknown> {
  return new Promise((resolve, reject) => {
    const id = nextHostCall++
    hostCalls.set(id, { resolve, reject })
    post({ type: 'host-call', id, runId: runIds.get(run) ?? 0, module, op, args })
  })
}
/** The pool's id of each run, which the main thread keys its share of host work by. */
const runIds = new WeakMap<ScriptRun, number>()

/** What one run has opened and may reach, created on its first network or SQL call. */
interface RunNetwork {
  resources: RunResources
  http: HttpBridge
  mysql: MysqlBridge
  pg: PgBridge
}
const networks = new WeakMap<ScriptRun, RunNetwork>()

/** SQL connections kept per script connection (its handle), reused across its runs on this worker. */
const sqlPools = new SqlPools(config.sqlPoolSize)
/** The pools each run took when it began: a connection forgotten during the run gets no new pool. */
const runPools = new WeakMap<ScriptRun, SqlPoolGroup>()

function networkOf(run: ScriptRun): RunNetwork {
  let network = networks.get(run)
  if (!network) {
    const policy = new EgressPolicy(run.job.egress)
    const resources = new RunResources()
    const { deadline, timeoutMs } = run.job
    const sql = { policy, resources, deadline, timeoutMs, pools: runPools.get(run) ?? null }
    network = {
      resources,
      http: new HttpBridge(policy, resources, deadline),
      mysql: new MysqlBridge(sql),
      pg: new PgBridge(sql),
    }
    networks.set(run, network)
  }
  return network
}

/**
 * The token cache lives on the main thread, shared by every worker. The envelope (which
 * connection, which egress list) comes from the run's job, never from the script. The
 * secret is redacted from the moment it is used, the token from the moment it exists.
 */
async function clientCredentialsToken(args: Record<string, unknown>, run: ScriptRun): Promise<unknown> {
  if (typeof args['clientSecret'] === 'string') run.addSecret(args['clientSecret'])
  const grant = await viaMain(run, 'client-credentials', 'token', { request: args, connection: run.job.connection, egress: run.job.egress })
  const token = (grant as { accessToken?: unknown }).accessToken
  if (typeof token === 'string') run.addSecret(token)
  return grant
}

const services: HostServices = {
  modules: REQUIRABLE,
  async call(module, op, args, run) {
    // bcrypt, pbkdf2 and legacy hashes run on core's hash pool, never on this thread or libuv's threadpool.
    if (module === 'bcrypt' || module === 'password-hash' || (module === 'crypto' && op === 'pbkdf2')) return viaMain(run, module, op, args)
    if (module === 'client-credentials' && op === 'token') return clientCredentialsToken(args, run)
    if (module === 'http' && op === 'send') return networkOf(run).http.send(args as unknown as HttpRequestArgs)
    if (module === 'mysql' || module === 'pg') {
      const bridge = networkOf(run)[module]
      const id = Number(args['id'])
      if (op === 'connect') return bridge.connect(id)
      if (op === 'end') return bridge.end(id)
      if (op === 'query') {
        return bridge.query(id, String(module === 'mysql' ? args['sql'] : args['text']), args['values'])
      }
    }
    throw new Error(`no host call ${module}.${op}`)
  },
  sync(module, op, args, run) {
    if (module === 'crypto') return cryptoSync(op, args)
    if ((module === 'mysql' || module === 'pg') && op === 'open') return networkOf(run)[module].open(args['config'])
    throw new Error(`no synchronous host call ${module}.${op}`)
  },
  async release(run) {
    await networks.get(run)?.resources.closeAll()
  },
}

async function run(id: number, job: RunJob): Promise<void> {
  // Taken as the run arrives, before any await: a `forget` sent after it then closes this
  // group, where one taken later would be a new pool nobody closes. A run the host marked
  // forgotten before it was sent gets none.
  const handle = job.forgotten ? undefined : job.connection
  const pools = handle === undefined ? null : sqlPools.enter(handle)
  try {
    const slot = await takeSlot()
    replenish()
    if (cancelled.delete(id)) {
      stock.unshift(slot)
      return
    }
    post({ type: 'started', id })
    runIds.set(slot.sandbox, id)
    if (pools) runPools.set(slot.sandbox, pools)
    const outcome = await slot.sandbox.execute(job)
    // Answer first; returning or closing what the run opened can follow. The slot itself is dropped.
    post({ type: 'done', id, outcome })
    await slot.sandbox.tearDown()
  } catch (error) {
    post({
      type: 'done',
      id,
      outcome: {
        kind: 'sandbox_error',
        message: `The sandbox could not run the script: ${error instanceof Error ? error.message : String(error)}`,
        retryable: true,
        logs: [],
      },
    })
  } finally {
    if (pools && handle !== undefined) sqlPools.leave(handle, pools)
  }
}

function post(message: FromWorker): void {
  port.postMessage(message)
}

/** Runs the pool gave up on before they began. */
const cancelled = new Set<number>()

port.on('message', (message: ToWorker) => {
  if (message.type === 'run') {
    void run(message.id, message.job)
    return
  }
  if (message.type === 'cancel') {
    cancelled.add(message.id)
    return
  }
  if (message.type === 'forget' || message.type === 'close') {
    const closing = message.type === 'forget' ? sqlPools.forget(message.handle) : sqlPools.closeAll()
    void closing.finally(() => post({ type: 'closed', id: message.id }))
    return
  }
  const pending = hostCalls.get(message.id)
  if (!pending) return
  hostCalls.delete(message.id)
  if (message.ok) {
    pending.resolve(message.value)
    return
  }
  const error = new Error(message.message)
  if (message.name) error.name = message.name
  pending.reject(error)
})

// Prepare the first slots so the first run finds a sandbox ready.
replenish()
