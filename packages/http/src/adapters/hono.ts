import type { Context, MiddlewareHandler } from 'hono'
import type { LatchkeyHandler } from '../index.js'

/** Options of the Hono middleware. */
export interface LatchkeyHonoOptions {
  /**
   * The TCP peer's address. Default: the Node socket of `@hono/node-server`
   * (`c.env.incoming.socket`); pass your runtime's own (Bun, Deno, workers) otherwise.
   */
  remoteAddress?: (c: Context) => string | undefined
}

/**
 * Hono middleware serving the handler's routes; every other path goes to `next()`.
 *
 * ```ts
 * app.use(latchkeyHono(createHandler({ connection: users })))
 * ```
 */
export function latchkeyHono(handler: LatchkeyHandler, options: LatchkeyHonoOptions = {}): MiddlewareHandler {
  const remoteAddress = options.remoteAddress ?? nodeServerAddress
  return async (c, next) => {
    if (!handler.handles(new URL(c.req.url).pathname)) return next()
    return handler(c.req.raw, { remoteAddress: remoteAddress(c), raw: c })
  }
}

function nodeServerAddress(c: Context): string | undefined {
  const env = c.env as { incoming?: { socket?: { remoteAddress?: string } } } | undefined
  return env?.incoming?.socket?.remoteAddress
}
