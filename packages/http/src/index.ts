// @latchkey/http: the public API. The Fastify plugin and the Hono middleware are the
// subpaths `@latchkey/http/fastify` and `@latchkey/http/hono`, so neither framework is loaded here.

export { createHandler } from './handler/create-handler.js'
export type { LatchkeyHandler } from './handler/create-handler.js'
export { handlerOptionsSchema, ROUTE_PATHS } from './handler/handler-options.js'
export type { HandlerOptions, RequestInfo, LoginEvent, MailRequest, RouteName } from './handler/handler-options.js'
export { routeBodySchemas } from './handler/route-bodies.js'
export { errorReply } from './handler/error-response.js'
export type { ErrorReply } from './handler/error-response.js'
export { clientIp } from './handler/client-ip.js'
export { toNodeHandler, toWebRequest, sendWebResponse } from './adapters/node.js'
export type { NodeHandler } from './adapters/node.js'
