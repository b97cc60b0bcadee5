/**
 * Runs user-written scripts in a sandbox. Core owns this interface; @latchkey/sandbox
 * implements it on QuickJS. See DESIGN.md for the contract of `run`.
 */
export interface ScriptRunner {
  run(source: string, args: unknown[], opts?: ScriptRunOptions): Promise<ScriptRunResult>
  /**
   * Drops everything the runner keeps for one connection, keyed by the handle it passes
   * as `global`: its `global` object and any host-side cache. A connection calls it from
   * its own `close()`.
   */
  forget(global: string): Promise<void>
  close(): Promise<void>
}

export interface ScriptRunOptions {
  /** Named in errors. */
  scriptName?: string
  /**
   * Frozen string values visible to the script as `configuration`. The runner scrubs them
   * from guest text: every value of 6 characters or more, and a shorter one when its key
   * names a secret (password, secret, token, key…); a short setting such as a port is shown.
   */
  configuration?: Record<string, string>
  /**
   * The connection's handle: an unguessable value made once per connection (never its
   * name), under which the runner keeps the connection's `global` object and every other
   * piece of per-connection state.
   */
  global?: string
  /** Hosts (host or host:port) the script may reach. Default: nothing. */
  egress?: { allow: string[] }
  /** Values scrubbed from logs and error messages. */
  redact?: string[]
  /** Wall-clock limit, counted from the call to `run`: time waiting in the runner's queue is part of it. */
  timeoutMs?: number
  /**
   * The run only reads, so the runner may run it a second time when the worker it was
   * on is lost to another connection's runaway script. A connection sets it for `login`
   * and `get_user`, never for a write.
   */
  retrySafe?: boolean
  /** The connection's name, for the runner's events to the host only; never shown to a script. */
  connection?: string
}

export interface ScriptRunResult {
  value: unknown
  logs: string[]
}
