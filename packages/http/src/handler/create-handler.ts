import { handlerOptionsSchema, ROUTE_PATHS, type HandlerOptions, type RequestInfo, type RouteName } from './handler-options.js'
import { clientIp, UnusableClientIpError } from './client-ip.js'
import { errorReply, type ErrorReply } from './error-response.js'
import { ForgotLimiter } from './forgot-limiter.js'
import { guardRequest } from './request-guard.js'
import { BodyTooLargeError, readBody } from './read-body.js'
import { bodyFields, echoedFields, invalidInputFrom, MalformedBodyError } from './route-bodies.js'
import { routes, type RouteOutcome } from './routes.js'

/** A Web-standard request handler for latchkey's routes. */
export interface LatchkeyHandler {
  (request: Request, info?: RequestInfo): Promise<Response>
  /** The full path of every route, such as `/auth/login`. */
  readonly paths: readonly string[]
  /** Whether a request for `pathname` is this handler's; anything else should fall through to the app. */
  handles(pathname: string): boolean
}

/**
 * Creates the handler for `POST {basePath}/signup`, `/login`, `/password/forgot`,
 * `/password/reset` and `/email/verify`, each taking JSON or an HTML form post.
 *
 * ```ts
 * const handler = createHandler({ connection: users, trustProxy: 1, onLogin: ({ user }) => ({ 'set-cookie': … }) })
 * http.createServer(toNodeHandler(handler)).listen(3000)
 * ```
 * @throws InvalidInputError for bad options
 */
export function createHandler(options: HandlerOptions): LatchkeyHandler {
  const parsed = handlerOptionsSchema.safeParse(options)
  if (!parsed.success) throw invalidInputFrom(parsed.error)
  const opts = parsed.data
  const allowedOrigins = new Set(opts.allowedOrigins)
  const forgotLimiter = new ForgotLimiter(opts.forgotLimit)
  const byPath = new Map<string, RouteName>(
    (Object.entries(ROUTE_PATHS) as [RouteName, string][]).map(([name, path]) => [opts.basePath + path, name]),
  )
  const report =
    opts.onError ??
    ((error: unknown) => {
      process.emitWarning(`latchkey http: work after the response failed: ${error instanceof Error ? error.name : 'error'}`)
    })

  const handler = async (request: Request, info: RequestInfo = {}): Promise<Response> => {
    const route = byPath.get(new URL(request.url).pathname)
    if (route === undefined) return json(404, { error: 'not_found', message: 'Not found.' })
    if (request.method !== 'POST') {
      return json(405, { error: 'method_not_allowed', message: 'Use POST.' }, new Headers({ allow: 'POST' }))
    }
    const kind = guardRequest(request, allowedOrigins)
    if (typeof kind !== 'string') return json(kind.status, { error: kind.error, message: kind.message })

    let fields: Record<string, unknown> = {}
    let outcome: RouteOutcome
    try {
      fields = bodyFields(kind, await readBody(request, opts.bodyLimitBytes))
      const ip = clientIp(info.remoteAddress, request.headers.get('x-forwarded-for'), opts.trustProxy)
      // A trusted proxy that forwards no usable address is misconfigured; no shared fallback counter.
      if (ip === null && info.remoteAddress !== undefined) throw new UnusableClientIpError()
      const userAgent = request.headers.get('user-agent')?.slice(0, 512)
      const ctx = { ...(ip !== null && { ip }), ...(userAgent && { userAgent }) }
      outcome = await routes[route]({ fields, ctx, request, info, options: opts, forgotLimiter })
    } catch (error) {
      if (error instanceof BodyTooLargeError) return json(413, { error: 'payload_too_large', message: 'The request body is too large.' })
      if (error instanceof MalformedBodyError) return json(400, { error: 'malformed_body', message: 'The body is not a JSON object.' })
      if (error instanceof UnusableClientIpError)
        return json(400, { error: 'invalid_client_ip', message: 'The client address is not an IP.' })
      const reply = errorReply(error)
      return kind === 'form' ? formFailure(route, reply, fields) : errorResponse(reply)
    }
    // Started once the response is on its way (a macrotask runs after the adapter writes it).
    const after = outcome.after
    if (after)
      setImmediate(() => {
        after().catch(report)
      })
    if (kind === 'form') return redirect(opts.forms[route]?.success ?? '/', outcome.headers)
    return json(outcome.status, outcome.body, outcome.headers)
  }

  function formFailure(route: RouteName, reply: ErrorReply, fields: Record<string, unknown>): Response {
    const target = new URL(opts.forms[route]?.failure ?? '/', 'http://page.invalid')
    target.searchParams.set('error', reply.body.error)
    const issue = (reply.body.issues as { path: unknown[] }[] | undefined)?.[0]
    if (issue && issue.path[0] !== undefined) target.searchParams.set('field', String(issue.path[0]))
    if (reply.retryAfter !== undefined) target.searchParams.set('retry_after', String(reply.retryAfter))
    for (const name of echoedFields[route]) {
      const value = fields[name]
      if (typeof value === 'string' && value !== '' && value.length <= 512) target.searchParams.set(name, value)
    }
    return redirect(target.pathname + target.search)
  }

  return Object.assign(handler, {
    paths: [...byPath.keys()],
    handles: (pathname: string) => byPath.has(pathname),
  })
}

function json(status: number, body: unknown, headers = new Headers()): Response {
  headers.set('content-type', 'application/json; charset=utf-8')
  headers.set('cache-control', 'no-store')
  return new Response(JSON.stringify(body), { status, headers })
}

function errorResponse(reply: ErrorReply): Response {
  const headers = new Headers()
  if (reply.retryAfter !== undefined) headers.set('retry-after', String(reply.retryAfter))
  return json(reply.status, reply.body, headers)
}

function redirect(location: string, headers = new Headers()): Response {
  headers.set('location', location)
  headers.set('cache-control', 'no-store')
  return new Response(null, { status: 303, headers })
}
