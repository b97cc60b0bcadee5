import type { IncomingMessage, ServerResponse } from 'node:http'

/**
 * A framework-neutral middleware: node:http's request and response, and a `next` that
 * Express and Connect pass. A middleware that refuses a request answers it itself and never
 * calls `next`; one that lets it through calls `next()` once.
 */
export type Middleware = (req: IncomingMessage, res: ServerResponse, next: (error?: unknown) => void) => void
