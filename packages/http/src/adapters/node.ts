import type { IncomingMessage, ServerResponse } from 'node:http'
import { Readable } from 'node:stream'
import type { LatchkeyHandler, RequestInfo } from '../index.js'

/** A node:http listener that is also Express middleware. */
export type NodeHandler = (req: IncomingMessage, res: ServerResponse, next?: (error?: unknown) => void) => void

/**
 * Serves the handler on node:http, or as Express middleware: requests for other paths
 * go to `next()` (a 404 from the handler when there is no `next`). Mount it before any
 * body parser, since it reads the body itself.
 *
 * ```ts
 * app.use(toNodeHandler(createHandler({ connection: users })))   // Express
 * http.createServer(toNodeHandler(handler)).listen(3000)          // node:http
 * ```
 */
export function toNodeHandler(handler: LatchkeyHandler): NodeHandler {
  return (req, res, next) => {
    // Express strips a mount path from req.url; originalUrl keeps it.
    const url = (req as IncomingMessage & { originalUrl?: string }).originalUrl ?? req.url ?? '/'
    const pathname = new URL(url, 'http://localhost').pathname
    if (next && !handler.handles(pathname)) return next()
    const info: RequestInfo = { remoteAddress: req.socket.remoteAddress, raw: { req, res } }
    handler(toWebRequest(req, url), info)
      .then((response) => sendWebResponse(res, response))
      .catch((error: unknown) => {
        if (next) return next(error)
        if (!res.headersSent) res.writeHead(500)
        res.end()
      })
  }
}

/** A Web `Request` over a node request; the body streams from the socket. */
export function toWebRequest(req: IncomingMessage, url: string): Request {
  const headers = new Headers()
  for (const [name, value] of Object.entries(req.headers)) {
    if (value === undefined) continue
    for (const v of Array.isArray(value) ? value : [value]) headers.append(name, v)
  }
  const method = req.method ?? 'GET'
  const hasBody = method !== 'GET' && method !== 'HEAD'
  // The host only forms an absolute URL; no decision uses it.
  return new Request(new URL(url, 'http://localhost'), {
    method,
    headers,
    ...(hasBody && { body: Readable.toWeb(req) as ReadableStream<Uint8Array>, duplex: 'half' }),
  })
}

/** Writes a Web `Response` to a node response, Set-Cookie headers kept apart. */
export async function sendWebResponse(res: ServerResponse, response: Response): Promise<void> {
  const headers: Record<string, string | string[]> = {}
  response.headers.forEach((value, name) => {
    if (name !== 'set-cookie') headers[name] = value
  })
  const cookies = response.headers.getSetCookie()
  if (cookies.length > 0) headers['set-cookie'] = cookies
  const body = Buffer.from(await response.arrayBuffer())
  res.writeHead(response.status, { ...headers, 'content-length': String(body.byteLength) })
  res.end(body)
}
