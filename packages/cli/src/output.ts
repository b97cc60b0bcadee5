import { styleText } from 'node:util'
import { InvalidInputError, LatchkeyError, ScriptError, ScriptTimeoutError } from '@latchkey/core'
import { CommandError, EXIT } from './command-error.js'

type Style = Parameters<typeof styleText>[0]

/** Styles text on a terminal; on a pipe (or with NO_COLOR) every style is the identity. */
export interface Styler {
  bold(text: string): string
  dim(text: string): string
  good(text: string): string
  bad(text: string): string
  warn(text: string): string
}

/**
 * Where a command's results go: one JSON document on stdout with `--json`; otherwise
 * aligned, coloured lines on a terminal and plain `key: value` lines on a pipe.
 * Progress and notes go to stderr, so stdout stays the result alone.
 */
export class Output {
  /** Human output for a person at a terminal (not `--json`, stdout is a TTY). */
  readonly human: boolean
  readonly style: Styler

  constructor(
    readonly json: boolean,
    private readonly stdout: NodeJS.WriteStream = process.stdout,
    readonly stderr: NodeJS.WriteStream = process.stderr,
  ) {
    this.human = !json && stdout.isTTY === true
    const colour = this.human && process.env['NO_COLOR'] === undefined
    const paint = (s: Style) => (text: string) => (colour ? styleText(s, text) : text)
    this.style = { bold: paint('bold'), dim: paint('dim'), good: paint('green'), bad: paint('red'), warn: paint('yellow') }
  }

  /** Prints the result: `json` with `--json`, else the lines `text` draws. */
  result(json: unknown, text: (s: Styler) => string[]): void {
    if (this.json) this.stdout.write(`${JSON.stringify(json)}\n`)
    else for (const line of text(this.style)) this.stdout.write(`${line}\n`)
  }

  /** `key: value` lines, aligned on a terminal. Undefined values are left out. */
  fields(entries: [string, string | number | boolean | null | undefined][]): string[] {
    const shown = entries.filter((e): e is [string, string | number | boolean | null] => e[1] !== undefined)
    const width = Math.max(0, ...shown.map(([k]) => k.length))
    return shown.map(([k, v]) => (this.human ? `  ${this.style.dim(k.padEnd(width))}  ${String(v)}` : `${k}: ${String(v)}`))
  }

  /** A note for the person running the command (stderr; silent with `--json`). */
  note(line: string): void {
    if (!this.json) this.stderr.write(`${line}\n`)
  }

  /**
   * Reports a failure and returns the exit status: one line `latchkey: code: message`
   * (or `{ "error": … }` with `--json`). A typed error never prints a stack; anything
   * else is a bug of ours, printed with its stack only when LATCHKEY_DEBUG is set.
   */
  error(error: unknown): number {
    const typed = error instanceof LatchkeyError
    const code = typed ? error.code : 'internal_error'
    const message = typed ? error.message : `unexpected failure: ${error instanceof Error ? error.message : String(error)}`
    if (this.json) {
      this.stdout.write(`${JSON.stringify({ error: { code, message, ...detailsOf(error) } })}\n`)
    } else {
      this.stderr.write(`${this.style.bad('latchkey:')} ${code}: ${oneLine(message)}\n`)
      if (!typed && process.env['LATCHKEY_DEBUG'] && error instanceof Error && error.stack) this.stderr.write(`${error.stack}\n`)
    }
    return error instanceof CommandError ? error.exitCode : EXIT.error
  }
}

/** The structured parts of a typed error worth a machine's attention. */
export function detailsOf(error: unknown): Record<string, unknown> {
  if (error instanceof InvalidInputError) return { issues: error.issues }
  if (error instanceof ScriptError) return { script: error.scriptName, line: error.line, logs: error.logs, retryable: error.retryable }
  if (error instanceof ScriptTimeoutError) return { script: error.scriptName, logs: error.logs }
  return {}
}

function oneLine(text: string): string {
  return text.replace(/\s*\n\s*/g, ' ')
}
