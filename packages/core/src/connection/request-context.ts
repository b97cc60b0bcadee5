import { parseInput } from '../input/parse-input.js'
import { requestContextSchema } from '../input/schemas.js'
import type { RequestContext } from './database-connection.js'

/** Parses a call's request context, dropping absent fields. */
export function parseContext(ctx: RequestContext | undefined): RequestContext {
  const parsed = parseInput(requestContextSchema, ctx ?? {})
  return Object.fromEntries(Object.entries(parsed).filter(([, v]) => v !== undefined)) as RequestContext
}
