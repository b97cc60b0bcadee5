import { EXIT } from './command-error.js'
import { Output } from './output.js'

/** Options every command takes. */
export interface CommonOptions {
  json?: boolean
}

/**
 * Runs a command's body with its output, turns any failure into one typed line and an
 * exit status, and sets `process.exitCode` (never `process.exit`, so piped output drains).
 */
export async function runCommand(opts: CommonOptions, body: (out: Output) => Promise<number | void>): Promise<void> {
  const out = new Output(opts.json === true)
  try {
    process.exitCode = (await body(out)) ?? EXIT.ok
  } catch (error) {
    process.exitCode = out.error(error)
  }
}
