import { z } from 'zod'
import { emailSchema, InvalidInputError } from '@latchkey/core'
import type { RouteName } from './handler-options.js'

// Only shapes here: the connection checks formats, lengths and policy itself. An empty
// optional form field means "not given".
const text = z.string().max(4096)
const optionalText = text.optional().transform((v) => (v === '' ? undefined : v))

/** The body each route accepts; other fields are dropped. */
export const routeBodySchemas = {
  signup: z.object({ email: text, password: text, username: optionalText }),
  login: z.object({ identifier: text, password: text }),
  // Checked here, not only later: an address that cannot exist is refused before the 202.
  forgot: z.object({ email: emailSchema }),
  reset: z.object({ ticket: text, password: text }),
  verify: z.object({ ticket: text }),
} satisfies Record<RouteName, z.ZodType>

/** The fields a failed form post gets back in its redirect: never a password. */
export const echoedFields: Readonly<Record<RouteName, readonly string[]>> = {
  signup: ['email', 'username'],
  login: ['identifier'],
  forgot: ['email'],
  reset: ['ticket'],
  verify: ['ticket'],
}

export type RouteBody<R extends RouteName> = z.output<(typeof routeBodySchemas)[R]>

/** Parses a route's body, turning zod's issues into an InvalidInputError. */
export function parseRouteBody<R extends RouteName>(route: R, fields: unknown): RouteBody<R> {
  const result = routeBodySchemas[route].safeParse(fields)
  if (result.success) return result.data as RouteBody<R>
  throw invalidInputFrom(result.error)
}

/** zod's issues as latchkey's typed error, with the same path, code and message. */
export function invalidInputFrom(error: z.ZodError, message?: string): InvalidInputError {
  return new InvalidInputError(
    error.issues.map((i) => ({
      path: i.path.map((p) => (typeof p === 'symbol' ? String(p) : p)),
      code: i.code,
      message: i.message,
    })),
    message,
  )
}

/** A body that is not JSON, or not an object. */
export class MalformedBodyError extends Error {}

/** The fields of a JSON or form body, as an object. */
export function bodyFields(kind: 'json' | 'form', text: string): Record<string, unknown> {
  if (kind === 'form') return Object.fromEntries(new URLSearchParams(text))
  let value: unknown
  try {
    value = JSON.parse(text)
  } catch {
    throw new MalformedBodyError() // the parser's message would only echo the body back
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) throw new MalformedBodyError()
  return value as Record<string, unknown>
}
