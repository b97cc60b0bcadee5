import type { z } from 'zod'
import { InvalidInputError, type InputIssue, type InputIssueCode } from '../errors/errors.js'

/**
 * An input object as its own enumerable data properties, so that zod never reads a
 * property through the prototype chain (an object whose prototype carries `username`
 * must not sign up with it) and never calls a getter. Anything but a plain object is
 * refused; other values pass through to the schema.
 */
function ownData(value: unknown): unknown {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return value
  const proto: unknown = Object.getPrototypeOf(value)
  if (proto !== Object.prototype && proto !== null) invalidInput([], 'must be a plain object', 'invalid_type')
  const out: Record<string, unknown> = {}
  for (const key of Object.keys(value)) {
    const descriptor = Object.getOwnPropertyDescriptor(value, key)!
    if (!('value' in descriptor)) invalidInput([key], 'must be a data property, not a getter')
    // A literal `__proto__` key would set the copy's prototype: keep it as an own key, which strict schemas refuse.
    Object.defineProperty(out, key, { value: descriptor.value, enumerable: true, writable: true, configurable: true })
  }
  return out
}

/**
 * Parses a public input with its zod schema, turning every zod issue into an
 * {@link InvalidInputError} with the same `path`, `code` and `message`.
 */
export function parseInput<S extends z.ZodType>(schema: S, value: unknown): z.output<S> {
  const result = schema.safeParse(ownData(value))
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
