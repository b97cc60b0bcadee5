import { InvalidInputError, LatchkeyError, PasswordPolicyError, TooManyAttemptsError, ValidationError } from '@latchkey/core'

/** What an error becomes on the wire. */
export interface ErrorReply {
  status: number
  body: { error: string; message: string; rules?: unknown; issues?: unknown }
  retryAfter?: number
}

/** The end user's own errors: their message is meant for the person at the form, so it is shown. */
const END_USER_CODES: ReadonlySet<string> = new Set([
  'user_exists',
  'invalid_password',
  'password_leaked',
  'invalid_input',
  'invalid_user_password',
  'unauthorized',
  'password_change_required',
  'too_many_attempts',
  'invalid_ticket',
])

/** Statuses of codes whose class may not carry `httpStatus` yet (issues 12 and 13 add them). */
const STATUS_BY_CODE: Readonly<Record<string, number>> = { password_change_required: 403, runner_busy: 503 }

/** Everything else gets a fixed message by kind: a ScriptError can carry legacy SQL text. */
const OPAQUE_STATUS: Readonly<Record<string, 502 | 503>> = {
  store_unavailable: 503,
  runner_busy: 503,
  script_error: 502,
  script_timeout: 502,
  egress_denied: 502,
}
const OPAQUE_MESSAGE = {
  500: 'Something went wrong.',
  502: 'The identity backend failed.',
  503: 'The service is unavailable. Try again shortly.',
} as const

/** When a throttle gives no time of its own, how long a client is told to wait. */
const DEFAULT_RETRY_AFTER_SECONDS = 60

/** Maps any thrown value to a status and a body that never carries internals. */
export function errorReply(error: unknown): ErrorReply {
  if (!(error instanceof LatchkeyError)) return { status: 500, body: { error: 'internal_error', message: OPAQUE_MESSAGE[500] } }
  const code: string = error.code
  if (!END_USER_CODES.has(code)) {
    const status = OPAQUE_STATUS[code] ?? 500
    return { status, body: { error: code, message: OPAQUE_MESSAGE[status] } }
  }
  // A script's ValidationError may borrow an end-user code; its text is the script's, so it is not shown.
  const message = error instanceof ValidationError ? 'The request was refused.' : error.message
  const reply: ErrorReply = { status: httpStatusOf(error), body: { error: code, message } }
  if (error instanceof PasswordPolicyError) reply.body.rules = error.rules
  if (error instanceof InvalidInputError) reply.body.issues = error.issues
  if (error instanceof TooManyAttemptsError) reply.retryAfter = Math.max(1, Math.ceil(error.retryAfter ?? DEFAULT_RETRY_AFTER_SECONDS))
  return reply
}

/** The status core gives the error's class, by code where the class has none yet. */
function httpStatusOf(error: LatchkeyError): number {
  const fromClass = (error.constructor as { httpStatus?: unknown }).httpStatus
  return typeof fromClass === 'number' ? fromClass : (STATUS_BY_CODE[error.code] ?? 500)
}
