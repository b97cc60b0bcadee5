import { z } from 'zod'
import type { DatabaseConnection, UserProfile } from '@latchkey/core'

/** The routes of the handler, by name; each is `POST {basePath}{path}`. */
export const ROUTE_PATHS = {
  signup: '/signup',
  login: '/login',
  forgot: '/password/forgot',
  reset: '/password/reset',
  verify: '/email/verify',
} as const

export type RouteName = keyof typeof ROUTE_PATHS

/** What the adapter knows about the request beyond the Web `Request`. */
export interface RequestInfo {
  /** The TCP peer's address. */
  remoteAddress?: string | undefined
  /** The framework's own request objects (node: `{ req, res }`, Fastify: `{ request, reply }`, Hono: the context). */
  raw?: unknown
}

/** Given to `onLogin` after a successful login. */
export interface LoginEvent {
  user: UserProfile
  request: Request
  info: RequestInfo
}

/** A mail the app should send; `to` is the address the user gave. */
export interface MailRequest {
  kind: 'verify_email' | 'reset_password'
  to: string
  ticket: string
  expiresAt: Date
}

/** Anything `new Headers()` takes: a record, pairs or a Headers. */
export type HeadersInit = ConstructorParameters<typeof Headers>[0]

const fn = <T>(what: string) => z.custom<T>((v) => typeof v === 'function', `${what} must be a function`)
// A browser reads `/\host` as `//host`, another site: neither is a path on this one.
const pagePath = z
  .string()
  .min(1)
  .max(2048)
  .refine((p) => p.startsWith('/') && !/^\/[\\/]/.test(p), 'must be a path on this site')
const formPages = z.strictObject({ success: pagePath.optional(), failure: pagePath.optional() })

/** Options of {@link createHandler}; validated when the handler is created. */
export const handlerOptionsSchema = z.strictObject({
  /** The connection every route calls. */
  connection: z.custom<DatabaseConnection>((v) => typeof v === 'object' && v !== null && 'login' in v, 'must be a DatabaseConnection'),
  /** Where the routes live; default `/auth`. */
  basePath: z
    .string()
    .max(256)
    .regex(/^(\/[A-Za-z0-9._~\-]+)*$/, 'a path such as /auth, without a trailing slash')
    .default('/auth'),
  /**
   * How many proxies in front of the app to trust: 0 (default) ignores `X-Forwarded-For`;
   * n takes the address n hops back in it, as Express's `trust proxy` = n does.
   */
  trustProxy: z.number().int().min(0).max(32).default(0),
  /** Origins (`https://app.example`) whose pages may post here, besides the handler's own origin. */
  allowedOrigins: z
    .array(
      z
        .string()
        .url()
        .transform((u) => new URL(u).origin),
    )
    .default([]),
  /** Called after a successful login; the headers it returns (a session cookie) are added to the response. */
  onLogin: fn<(event: LoginEvent) => HeadersInit | void | Promise<HeadersInit | void>>('onLogin').optional(),
  /** Called off the request path, after the response, with each verification or reset mail to send. */
  onMail: fn<(mail: MailRequest) => void | Promise<void>>('onMail').optional(),
  /** Receives failures off the request path (a mail that could not be sent); default: a process warning. */
  onError: fn<(error: unknown) => void>('onError').optional(),
  /**
   * Where an HTML form post is redirected (303), per route. The failure page gets
   * `?error=<code>` and the form's non-secret fields back. Default `/` for both.
   */
  forms: z.partialRecord(z.enum(Object.keys(ROUTE_PATHS) as [RouteName, ...RouteName[]]), formPages).default({}),
  /** Password-reset requests allowed per client IP in `perSeconds`; default 5 per 15 minutes. */
  forgotLimit: z
    .strictObject({ requests: z.number().int().min(1), perSeconds: z.number().int().min(1) })
    .default({ requests: 5, perSeconds: 900 }),
  /** Largest accepted body in bytes; default 16 KiB. */
  bodyLimitBytes: z
    .number()
    .int()
    .min(1024)
    .max(1024 * 1024)
    .default(16 * 1024),
})

export type HandlerOptions = z.input<typeof handlerOptionsSchema>
export type ResolvedHandlerOptions = z.output<typeof handlerOptionsSchema>
