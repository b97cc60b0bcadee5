/**
 * Runs user-written scripts in a sandbox. Core owns this interface; @latchkey/sandbox
 * implements it on QuickJS. See DESIGN.md for the contract of `run`.
 */
export interface ScriptRunner {
  run(source: string, args: unknown[], opts?: ScriptRunOptions): Promise<ScriptRunResult>
  close(): Promise<void>
}

export interface ScriptRunOptions {
  /** Named in errors. */
  scriptName?: string
  /** Frozen string values visible to the script as `configuration`. */
  configuration?: Record<string, string>
  /** Key of the per-connection `global` object. */
  global?: string
  /** Hosts (host or host:port) the script may reach. Default: nothing. */
  egress?: { allow: string[] }
  /** Values scrubbed from logs and error messages. */
  redact?: string[]
  timeoutMs?: number
}

export interface ScriptRunResult {
  value: unknown
  logs: string[]
}
