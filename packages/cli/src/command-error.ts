import { readFileSync } from 'node:fs'
import { LatchkeyError } from '@latchkey/core'

/** The codes of the command's own failures. */
export type CommandErrorCode =
  | 'file_unreadable'
  | 'file_unwritable'
  | 'store_required'
  | 'schema_outdated'
  | 'migration_in_progress'
  | 'migration_config_required'
  | 'confirmation_required'
  | 'not_confirmed'

/**
 * A failure of the command itself (a file it cannot read, a store that needs migrating,
 * an interrupted import), with a stable `code` like every other latchkey error.
 */
export class CommandError extends LatchkeyError<CommandErrorCode> {
  static override readonly kind = 'CommandError'
  /** The process exit status this failure gives. */
  readonly exitCode: number
  constructor(code: CommandErrorCode, message: string, opts: { exitCode?: number; cause?: unknown } = {}) {
    super(code, message, opts.cause === undefined ? undefined : { cause: opts.cause })
    this.exitCode = opts.exitCode ?? EXIT.error
  }
}

/** Exit statuses, documented in `latchkey --help`. */
export const EXIT = {
  ok: 0,
  /** The command failed; the message says why. */
  error: 1,
  /** The command line itself is wrong (an unknown option, a missing argument). */
  usage: 2,
  /** An import finished, but some records failed (see the report). */
  someFailed: 3,
  /** Stopped by Ctrl-C at a safe point. */
  interrupted: 130,
} as const

/** A file the command could not read, as a typed error that names the file but not its contents. */
export function unreadable(what: string, path: string, error: unknown): CommandError {
  const reason =
    (error as { code?: unknown }).code === 'ENOENT'
      ? 'no such file'
      : (error as { code?: unknown }).code === 'EACCES'
        ? 'permission denied'
        : (error as { code?: unknown }).code === 'EISDIR'
          ? 'it is a directory'
          : 'it cannot be read'
  return new CommandError('file_unreadable', `cannot read the ${what} ${path}: ${reason}`, { cause: error })
}

/** A text file's contents, or a typed `file_unreadable` error naming `what` it is. */
export function readText(what: string, path: string): string {
  try {
    return readFileSync(path, 'utf8')
  } catch (error) {
    throw unreadable(what, path, error)
  }
}
