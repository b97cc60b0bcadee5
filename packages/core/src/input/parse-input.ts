import type { z } from 'zod'
import { InvalidInputError, type InputIssue, type InputIssueCode } from '../errors/errors.js'

/**
 * Parses a public input with its zod schema, turning every zod issue into an
 * {@link InvalidInputError} with the same `path`, `code` and `message`.
 */
export function parseInput<S extends z.ZodType>(schema: S, value: unknown): z.output<S> {
  const result = schema.safeParse(value)
  if (result.success) return result.data
  throw new InvalidInputError(result.error.issues.map(toInputIssue))
}

function toInputIssue(issue: z.core.$ZodIssue): InputIssue {
  return {
    path: issue.path.map((p) => (typeof p === 'symbol' ? String(p) : p)),
    code: issue.code,
    message: issue.message,
  }
}

/** Throws an {@link InvalidInputError} with one issue. */
export function invalidInput(path: (string | number)[], message: string, code: InputIssueCode = 'custom'): never {
  throw new InvalidInputError([{ path, code, message }])
}
