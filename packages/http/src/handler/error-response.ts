import { LatchkeyError, PasswordPolicyError, InvalidInputError, TooManyAttemptsError, ValidationError } from '@latchkey/core'

/** What an error becomes on the wire. */
export interface ErrorReply {
  status: number
  body: { error: string; message: string; rules?: unknown; issues?: unknown }
  retryAfter?: number
}

/** The end user's own errors: their code, status and message are safe to show. */
const END_USER_STATUS: Readonly<Record<string, number>> = {
  user_exists: 409,
  invalid_password: 422,
  password_leaked: 422,
  invalid_input: 422,
  invalid_user_password: 401,
  unauthorized: 403,
  password_change_required: 403,
  too_many_attempts: 429,
  invalid_ticket: 400,
}

/** Everything else gets a fixed message: a ScriptError can carry legacy SQL text. */
const OPAQUE: Readonly<Record<string, { status: number; message: string }>> = {
  store_unavailable: { status: 503, message: 'The service is unavailable. Try again shortly.' },
  runner_busy: { status: 503, message: 'The service is busy. Try again shortly.' },
  script_error: { status: 502, message: 'The identity backend failed.' },
  script_timeout: { status: 502, message: 'The identity backend failed.' },
  egress_denied: { status: 502, message: 'The identity backend failed.' },
}

/** When a throttle gives no time of its own, how long a client is told to wait. */
const DEFAULT_RETRY_AFTER_SECONDS = 60

/** Maps any thrown value to a status and a body that never carries internals. */
export function errorReply(error: unknown): ErrorReply {
  if (!(error instanceof LatchkeyError)) return { status: 500, body: { error: 'internal_error', message: 'Something went wrong.' } }
  const status = END_USER_STATUS[error.code]
  if (status === undefined) {
    const opaque = OPAQUE[error.code] ?? { status: 500, message: 'Something went wrong.' }
    return { status: opaque.status, body: { error: OPAQUE[error.code] ? error.code : 'internal_error', message: opaque.message } }
  }
  // A script's ValidationError may borrow an end-user code; its text is the script's, so it is not shown.
  const message = error instanceof ValidationError ? 'The request was refused.' : error.message
  const reply: ErrorReply = { status, body: { error: error.code, message } }
  if (error instanceof PasswordPolicyError) reply.body.rules = error.rules
  if (error instanceof InvalidInputError) reply.body.issues = error.issues
  if (error instanceof TooManyAttemptsError) reply.retryAfter = Math.max(1, Math.ceil(error.retryAfter ?? DEFAULT_RETRY_AFTER_SECONDS))
  return reply
}
