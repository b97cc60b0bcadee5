import { closeSync, openSync, writeSync } from 'node:fs'
import type { ImportFailure } from '@latchkey/core'
import { CommandError } from '../command-error.js'

/**
 * The `--report` file: one JSON line per failed record, with its 1-based line in the
 * import file and the reason. Written synchronously as failures come, so a million
 * failures never pile up in memory.
 */
export class FailureReport {
  private readonly fd: number

  constructor(readonly path: string) {
    try {
      this.fd = openSync(path, 'w')
    } catch (error) {
      throw new CommandError('file_unwritable', `cannot write the report ${path}: ${(error as { code?: string }).code ?? 'error'}`, {
        cause: error,
      })
    }
  }

  write(failure: ImportFailure): void {
    const { line, email, code, message } = failure
    writeSync(this.fd, `${JSON.stringify({ line, ...(email === undefined ? {} : { email }), code, message })}\n`)
  }

  close(): void {
    closeSync(this.fd)
  }
}
