// Messages between the runner (main thread) and its sandbox workers. Everything a guest
// produced crosses as a string the worker has already size-checked and redacted.

export interface RunJob {
  source: string
  argsJson: string
  scriptName: string
  configurationJson: string
  globalJson: string
  /** The run's `global` handle: it scopes host-side state of the connection (the token cache). */
  connection?: string
  /** Set when the connection was forgotten before the run began: it must not get (or make) a SQL pool. */
  forgotten?: true
  egress: string[]
  redact: string[]
  /** Absolute deadline, ms since the epoch. */
  deadline: number
  timeoutMs: number
}

/** How a run ended, as the worker saw it. */
export type RunOutcome =
  | { kind: 'ok'; valueJson: string | undefined; globalJson: string; logs: string[] }
  | { kind: 'script_error'; error: GuestError; logs: string[] }
  | { kind: 'timeout'; message: string; logs: string[] }
  | { kind: 'sandbox_error'; message: string; retryable: boolean; logs: string[] }
  /** Refused at once: the runner's queue of waiting runs is full. */
  | { kind: 'busy'; message: string; logs: string[] }

export interface GuestError {
  /** 'WrongUsernameOrPasswordError' | 'ValidationError' | 'UnauthorizedError' | 'Error' */
  kind: string
  name: string
  message: string
  code?: string
  /** A ValidationError whose code was not `[a-z0-9_]{1,64}`: reported as a ScriptError. */
  invalidCode?: boolean
  line?: number
}

export type ToWorker =
  | { type: 'run'; id: number; job: RunJob }
  /** The run's deadline passed before the worker began it: it must not begin. */
  | { type: 'cancel'; id: number }
  /** Close the SQL pools of one connection (its handle), or of all: the worker answers `closed` with the same id. */
  | { type: 'forget'; id: number; handle: string }
  | { type: 'close'; id: number }
  | { type: 'host-result'; id: number; ok: true; value: unknown }
  | { type: 'host-result'; id: number; ok: false; message: string; name?: string }

export type FromWorker =
  /** The worker has begun the run: from here on, the script may have had effects. */
  | { type: 'started'; id: number }
  | { type: 'done'; id: number; outcome: RunOutcome }
  /** A bridge call the main thread serves (bcrypt runs on core's process-wide hash pool). */
  | { type: 'host-call'; id: number; runId: number; module: string; op: string; args: unknown }
  /** The pools a `forget` or `close` named are closed (their idle connections are gone). */
  | { type: 'closed'; id: number }

export interface WorkerConfig {
  wasmModule: WebAssembly.Module
  memoryLimitBytes: number
  /** Connections kept per script connection across its SQL settings; 0: none. */
  sqlPoolSize: number
}
