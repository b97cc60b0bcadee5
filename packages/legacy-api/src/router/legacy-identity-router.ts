import type { IncomingMessage, ServerResponse } from 'node:http'
import type { z } from 'zod'
import { parseOptions } from '../invalid-options-error.js'
import { sendJson } from '../json-response.js'
import type { Middleware } from '../middleware.js'
import { findSecret, legacyUserSchema, type LegacyUser } from './legacy-user.js'
import { BodyError, readJsonBody } from './read-json-body.js'
import {
  changePasswordBodySchema,
  getUserBodySchema,
  legacyIdentityRouterOptionsSchema,
  verifyPasswordBodySchema,
  type LegacyIdentityRouterOptions,
  type LegacyOperation,
} from './router-options.js'

/** A failure whose details stay on the server; the client sees `server_error`. */
class ServerFault extends Error {
  override name = 'LegacyApiServerError'
}

/**
 * The discrete identity endpoints of a least-privilege legacy API, and nothing else:
 *
 * | endpoint | body | answers |
 * |---|---|---|
 * | `POST /verify-password` | `{ identifier, password }` | 200 `{ user }`, or 401 `wrong_credentials` |
 * | `POST /get-user` | `{ identifier }` | 200 `{ user }`, or 404 `user_not_found` |
 * | `POST /change-password` | `{ identifier, new_password }` | 200 `{ changed: true }`, or 404 `user_not_found` |
 *
 * Bodies are JSON, parsed by zod (400 `invalid_request` with the issues). Users are
 * answered through a whitelist of profile fields, and a response that would still carry a
 * password hash (in metadata, say) is refused as `server_error`. Any other path is 404,
 * any other method 405. Mount it behind `ipAllowList` and `requireAccessToken`.
 *
 * @example
 * const router = createLegacyIdentityRouter({
 *   verifyPassword: async ({ identifier, password }) => { const row = await findUser(identifier)
 *     return row && (await bcrypt.compare(password, row.password_hash)) ? row : null },
 *   getUser: async ({ identifier }) => findUser(identifier),
 *   changePassword: async ({ identifier, newPassword }) => setPassword(identifier, newPassword),
 * })
 * http.createServer((req, res) => auth(req, res, () => router(req, res, () => {}))).listen(8080)
 */
export function createLegacyIdentityRouter(options: LegacyIdentityRouterOptions): Middleware {
  const o = parseOptions(legacyIdentityRouterOptionsSchema, options, 'createLegacyIdentityRouter')

  const answerUser = (user: LegacyUser | null, operation: LegacyOperation): unknown => {
    const parsed = legacyUserSchema.safeParse(user)
    if (!parsed.success)
      throw new ServerFault(`${operation}: the user returned is not a valid profile (${parsed.error.issues[0]?.path.join('.')})`)
    const secret = findSecret(parsed.data)
    if (secret !== null)
      throw new ServerFault(`${operation}: the user returned carries a password or a hash of one at ${secret}; it was not sent`)
    return { user: parsed.data }
  }

  const routes: Record<
    string,
    { operation: LegacyOperation; schema: z.ZodType<{ identifier: string }>; handle: (body: never) => Promise<[number, unknown]> }
  > = {
    '/verify-password': {
      operation: 'verify_password',
      schema: verifyPasswordBodySchema,
      handle: async (body: z.output<typeof verifyPasswordBodySchema>) => {
        const user = await o.verifyPassword({ identifier: body.identifier, password: body.password })
        return user
          ? [200, answerUser(user, 'verify_password')]
          : [401, { error: 'wrong_credentials', error_description: 'Wrong identifier or password' }]
      },
    },
    '/get-user': {
      operation: 'get_user',
      schema: getUserBodySchema,
      handle: async (body: z.output<typeof getUserBodySchema>) => {
        const user = await o.getUser({ identifier: body.identifier })
        return user ? [200, answerUser(user, 'get_user')] : [404, { error: 'user_not_found' }]
      },
    },
    '/change-password': {
      operation: 'change_password',
      schema: changePasswordBodySchema,
      handle: async (body: z.output<typeof changePasswordBodySchema>) => {
        const changed = await o.changePassword({ identifier: body.identifier, newPassword: body.new_password })
        if (typeof changed !== 'boolean') throw new ServerFault('change_password: the callback must answer true or false')
        return changed ? [200, { changed: true }] : [404, { error: 'user_not_found' }]
      },
    },
  }

  const serve = async (req: IncomingMessage, res: ServerResponse, route: NonNullable<(typeof routes)[string]>) => {
    let body: unknown
    try {
      body = await readJsonBody(req)
    } catch (error) {
      if (error instanceof BodyError) return sendJson(res, error.status, { error: error.error, error_description: error.message })
      throw error
    }
    const parsed = route.schema.safeParse(body)
    if (!parsed.success) {
      // Issues name paths and rules, never the values sent (a password among them).
      const issues = parsed.error.issues.map((i) => ({ path: i.path.map(String), code: i.code, message: i.message }))
      return sendJson(res, 400, { error: 'invalid_request', issues })
    }
    if (o.rateLimit) {
      const decision = await o.rateLimit({ operation: route.operation, identifier: parsed.data.identifier, ip: req.socket.remoteAddress })
      if (decision !== true) {
        const retry =
          typeof decision === 'object' && Number.isFinite(decision.retryAfterSeconds)
            ? Math.max(1, Math.ceil(decision.retryAfterSeconds))
            : null
        return sendJson(res, 429, { error: 'too_many_requests' }, retry === null ? {} : { 'retry-after': String(retry) })
      }
    }
    const [status, answer] = await route.handle(parsed.data as never)
    sendJson(res, status, answer)
  }

  return (req, res) => {
    const path = (req.url ?? '/').split('?')[0]!.replace(/\/+$/, '')
    const route = Object.hasOwn(routes, path) ? routes[path] : undefined
    if (!route) return sendJson(res, 404, { error: 'not_found' })
    if (req.method !== 'POST') return sendJson(res, 405, { error: 'method_not_allowed' }, { allow: 'POST' })
    serve(req, res, route).catch((error: unknown) => {
      const fault = error instanceof Error ? error : new ServerFault(String(error))
      try {
        o.onError?.(fault, route.operation)
      } catch (listenerError) {
        process.emitWarning(
          `legacy-api onError listener threw: ${listenerError instanceof Error ? listenerError.message : String(listenerError)}`,
        )
      }
      sendJson(res, 500, { error: 'server_error' })
    })
  }
}
