import type { z } from 'zod'

/**
 * Thrown at construction when a middleware's options do not parse. The package stands
 * alone (it does not depend on @latchkey/core), so it has its own small error with a
 * stable `code` and zod-shaped `issues`.
 */
export class InvalidOptionsError extends Error {
  readonly code = 'invalid_options'
  readonly issues: { path: string[]; code: string; message: string }[]

  constructor(what: string, error: z.ZodError) {
    const issues = error.issues.map((i) => ({ path: i.path.map(String), code: i.code, message: i.message }))
    super(`Invalid ${what} options: ${issues.map((i) => `${i.path.join('.') || '(root)'}: ${i.message}`).join('; ')}`)
    this.name = 'InvalidOptionsError'
    this.issues = issues
  }
}

/** Parses `input` with `schema`, or throws {@link InvalidOptionsError}. */
export function parseOptions<S extends z.ZodType>(schema: S, input: unknown, what: string): z.output<S> {
  const parsed = schema.safeParse(input)
  if (!parsed.success) throw new InvalidOptionsError(what, parsed.error)
  return parsed.data
}
