import { z } from 'zod'
import type { WorkerLostEvent } from './pool/sandbox-pool.js'

/** Options of a {@link QuickJsRunner}; every one is validated at construction. */
export const quickJsRunnerOptionsSchema = z.strictObject({
  /** Worker threads running scripts. Default: one per core. */
  workers: z.number().int().min(1).max(64).optional(),
  /** Wall-clock limit of a run, host calls included, in ms. Default 20,000. */
  timeoutMs: z.number().int().min(10).max(600_000).optional(),
  /** Linear memory of one run's QuickJS module (fresh for every run), in bytes (32 MiB–1 GiB). Default 64 MiB. */
  memoryLimitBytes: z
    .number()
    .int()
    .min(32 * 1024 * 1024)
    .max(1024 * 1024 * 1024)
    .optional(),
  /** Runs one worker interleaves while they await host calls. Default 8. */
  concurrencyPerWorker: z.number().int().min(1).max(64).optional(),
  /** Runs that may wait for a worker; past it `run` fails at once with ScriptRunnerBusyError. Default 256. */
  maxQueued: z.number().int().min(0).max(100_000).optional(),
  /**
   * SQL connections each connection's scripts keep open per worker, across all the settings
   * they use, reused across its runs (reset in between) instead of one new connection per
   * run. 0 turns the pools off. Default 4.
   */
  sqlPoolSize: z.number().int().min(0).max(64).optional(),
  /** Receives the runner's events: `worker_lost` names the connection whose script did not stop. */
  onEvent: z.custom<(event: WorkerLostEvent) => void>((v) => typeof v === 'function', 'must be a function').optional(),
})
export type QuickJsRunnerOptions = z.input<typeof quickJsRunnerOptionsSchema>

/** Per-run caps. They are fixed: each protects the host, not a feature to tune. */
export const RUN_LIMITS = {
  /** Guest stack; beyond it a clean `InternalError: stack overflow`. */
  stackBytes: 256 * 1024,
  /** Captured console output per run; past it lines are dropped and one marker is logged. */
  logBytes: 64 * 1024,
  logLines: 500,
  /** Guest error text (name, message, stack) read whole, so it is scrubbed before it is cut. */
  guestErrorChars: 256 * 1024,
  /** An error message as reported, after scrubbing. */
  errorMessageChars: 4096,
  /** The JSON of a script's result (and of its `global`). */
  resultBytes: 1024 * 1024,
  /** Source text of a script. */
  sourceBytes: 512 * 1024,
  /** `setTimeout` calls per run, and the longest delay. */
  timers: 100,
  timerDelayMs: 30_000,
  /** Host calls (bcrypt, crypto, network) awaiting at once. */
  inFlightHostCalls: 32,
  /** bcrypt and pbkdf2 jobs of one run on the hash pool at once, and in all. */
  hostJobsInFlight: 2,
  hostJobsPerRun: 32,
  /** Promise jobs run before yielding to the worker's event loop. */
  jobsPerTurn: 1000,
  /** After the deadline, how long the worker gets before it is terminated. */
  hardKillGraceMs: 500,
} as const

/** Caps of the host bridges that scripts `require`. */
export const BRIDGE_LIMITS = {
  /** bcrypt.hash in scripts. */
  bcryptMaxCost: 12,
  /** bcrypt.compare in scripts: imported legacy hashes of cost 13 and 14 still verify. */
  bcryptMaxCompareCost: 14,
  pbkdf2MaxIterations: 1_000_000,
  /**
   * pbkdf2Sync blocks the worker and its co-tenants, so its cap is lower than the async
   * one: one call must end well inside the grace before a worker past its deadline is
   * terminated (100,000 rounds of sha512 take about 0.2 s).
   */
  pbkdf2SyncMaxIterations: 100_000,
  keyBytes: 1024,
  randomBytes: 1024,
  hashInputBytes: 1024 * 1024,
} as const
