import type { RequestContext, UserProfile } from '@latchkey/core'
import type { RequestInfo, ResolvedHandlerOptions, RouteName } from './handler-options.js'
import { parseRouteBody } from './route-bodies.js'
import type { ForgotLimiter } from './forgot-limiter.js'

/** What a route hands back: its status and body, headers to add, and work for after the response. */
export interface RouteOutcome {
  status: number
  body: Record<string, unknown>
  headers?: Headers
  after?: () => Promise<void>
}

/** Everything a route may use. */
export interface RouteCall {
  fields: Record<string, unknown>
  ctx: RequestContext
  request: Request
  info: RequestInfo
  options: ResolvedHandlerOptions
  forgotLimiter: ForgotLimiter
}

/** The one answer to every reset request, whether or not the account exists. */
export const FORGOT_ANSWER = { message: 'If that address has an account, a reset link is on its way.' }

export const routes: Record<RouteName, (call: RouteCall) => Promise<RouteOutcome>> = {
  async signup({ fields, ctx, options }) {
    const { connection, onMail } = options
    const { username, ...rest } = parseRouteBody('signup', fields)
    const user = await connection.signup(username === undefined ? rest : { ...rest, username }, ctx)
    const outcome: RouteOutcome = { status: 201, body: { user } }
    const email = user.email
    if (onMail && email !== undefined) {
      outcome.after = async () => {
        const issued = await connection.createEmailVerificationTicket(email, {}, ctx)
        if (issued) await onMail({ kind: 'verify_email', to: email, ...issued })
      }
    }
    return outcome
  },

  async login({ fields, ctx, request, info, options }) {
    const user = await options.connection.login(parseRouteBody('login', fields), ctx)
    const added = options.onLogin ? await options.onLogin({ user, request, info }) : undefined
    return { status: 200, body: { user }, headers: new Headers(added ?? undefined) }
  },

  async forgot({ fields, ctx, options, forgotLimiter }) {
    await forgotLimiter.take(ctx.ip ?? null)
    const { email } = parseRouteBody('forgot', fields)
    const { connection, onMail } = options
    // The ticket (and any legacy lookup behind it) is made after the answer is sent, so
    // neither the answer nor its timing says whether the account exists.
    const after = async () => {
      const issued = await connection.createPasswordResetTicket(email, {}, ctx)
      // Mailed to the address stored for the user, never the one typed: a look-alike
      // spelling of someone's address must not receive their link.
      if (issued && onMail) await onMail({ kind: 'reset_password', ...issued, to: issued.email })
    }
    return { status: 202, body: { ...FORGOT_ANSWER }, after }
  },

  async reset({ fields, ctx, options }) {
    const { ticket, password } = parseRouteBody('reset', fields)
    return userOutcome(await options.connection.resetPassword(ticket, password, ctx))
  },

  async verify({ fields, ctx, options }) {
    const { ticket } = parseRouteBody('verify', fields)
    return userOutcome(await options.connection.verifyEmailWithTicket(ticket, ctx))
  },
}

function userOutcome(user: UserProfile): RouteOutcome {
  return { status: 200, body: { user } }
}
