/**
 * Every error latchkey raises extends {@link LatchkeyError} and carries a stable `code`.
 *
 * `instanceof` works across duplicated copies of the package (two versions in one
 * node_modules tree): each class brands its instances with a registered symbol, and
 * `Symbol.hasInstance` checks the brand instead of the prototype chain, as undici does.
 *
 * **Adding a class.** Give it `static readonly code = 'its_code'`, `static readonly httpStatus`,
 * and extend `LatchkeyError<'its_code'>`; export it from this file. Its code then joins
 * {@link LatchkeyErrorCode} by itself, and the README's table of codes must list it (a test checks).
 */
import type { LatchkeyErrorCode } from './error-code.js'
import type { InputIssueCode } from './input-issue-code.js'

export type { LatchkeyErrorCode } from './error-code.js'
export type { InputIssueCode } from './input-issue-code.js'

const brandOf = (kind: string): symbol => Symbol.for(`latchkey.error.${kind}`)

/** One structured problem with an input, shaped like a zod issue, with zod's own issue codes. */
export interface InputIssue {
  readonly path: readonly (string | number)[]
  readonly code: InputIssueCode
  readonly message: string
}

/** One password-policy rule and whether the candidate password met it. */
export interface PolicyRuleResult {
  readonly id: string
  readonly message: string
  readonly verified: boolean
}

/**
 * The base of every latchkey error. `code` is typed as the union of every class's code, so
 * comparing it with a misspelt code does not compile; narrow with `instanceof ValidationError`
 * to read a script's own code.
 *
 * @example
 * try {
 *   await users.login({ identifier, password }, { ip: req.ip })
 * } catch (e) {
 *   if (e instanceof LatchkeyError && e.code === 'too_many_attempts') res.status(429)
 * }
 */
export class LatchkeyError<Code extends string = LatchkeyErrorCode> extends Error {
  /** Stable, machine-readable code. Match on this, not on `message`. */
  readonly code: Code

  static readonly kind: string = 'LatchkeyError'

  constructor(code: Code, message: string, options?: { cause?: unknown }) {
    super(message, options)
    this.code = code
    this.name = new.target.name
    // Brand the instance with every class in its chain, so hasInstance needs no prototypes.
    for (let c: unknown = new.target; typeof c === 'function' && 'kind' in c; c = Object.getPrototypeOf(c)) {
      Object.defineProperty(this, brandOf((c as typeof LatchkeyError).kind), { value: true })
      if (c === LatchkeyError) break
    }
  }

  static override [Symbol.hasInstance](value: unknown): boolean {
    return typeof value === 'object' && value !== null && (value as Record<symbol, unknown>)[brandOf(this.kind)] === true
  }
}

/** An unknown user or a wrong password. Both give this same error, code and message. */
export class WrongUsernameOrPasswordError extends LatchkeyError<'invalid_user_password'> {
  static override readonly kind = 'WrongUsernameOrPasswordError'
  static readonly code = 'invalid_user_password'
  static readonly httpStatus = 401
  constructor(message = 'Wrong email or password.') {
    super(WrongUsernameOrPasswordError.code, message)
  }
}

export class UserExistsError extends LatchkeyError<'user_exists'> {
  static override readonly kind = 'UserExistsError'
  static readonly code = 'user_exists'
  static readonly httpStatus = 409
  constructor(message = 'The user already exists.') {
    super(UserExistsError.code, message)
  }
}

/** A user id, email or username that names no user, in an admin or account call. */
export class UserNotFoundError extends LatchkeyError<'user_not_found'> {
  static override readonly kind = 'UserNotFoundError'
  static readonly code = 'user_not_found'
  static readonly httpStatus = 404
  constructor(message = 'The user does not exist.') {
    super(UserNotFoundError.code, message)
  }
}

/** The password breaks the connection's policy; `rules` lists every rule, met or not. */
export class PasswordPolicyError extends LatchkeyError<'invalid_password'> {
  static override readonly kind = 'PasswordPolicyError'
  static readonly code = 'invalid_password'
  static readonly httpStatus = 422
  readonly rules: readonly PolicyRuleResult[]
  constructor(rules: readonly PolicyRuleResult[], message = 'The password does not meet the password policy.') {
    super(PasswordPolicyError.code, message)
    this.rules = rules
  }
}

export class PasswordLeakedError extends LatchkeyError<'password_leaked'> {
  static override readonly kind = 'PasswordLeakedError'
  static readonly code = 'password_leaked'
  static readonly httpStatus = 422
  constructor(message = 'This password has appeared in a data breach; choose another.') {
    super(PasswordLeakedError.code, message)
  }
}

/** Bad input to a public function. `issues` lists every problem, zod-style. */
export class InvalidInputError extends LatchkeyError<'invalid_input'> {
  static override readonly kind = 'InvalidInputError'
  static readonly code = 'invalid_input'
  static readonly httpStatus = 422
  readonly issues: readonly InputIssue[]
  constructor(issues: readonly InputIssue[], message?: string) {
    super(InvalidInputError.code, message ?? describeIssues(issues))
    this.issues = issues
  }
}

/** A script's `ValidationError(code, message)`; `code` is the script's own. */
export class ValidationError extends LatchkeyError<string> {
  static override readonly kind = 'ValidationError'
  /** A script's refusal of the input it was given. */
  static readonly httpStatus = 400
  constructor(code: string, message = 'Validation failed.') {
    super(code, message)
  }
}

/** Refused for a reason that may be shown to the end user, such as "user is blocked". */
export class UnauthorizedError extends LatchkeyError<'unauthorized'> {
  static override readonly kind = 'UnauthorizedError'
  static readonly code = 'unauthorized'
  static readonly httpStatus = 403
  constructor(message = 'Unauthorized.') {
    super(UnauthorizedError.code, message)
  }
}

export class TooManyAttemptsError extends LatchkeyError<'too_many_attempts'> {
  static override readonly kind = 'TooManyAttemptsError'
  static readonly code = 'too_many_attempts'
  static readonly httpStatus = 429
  /** Seconds until the caller may try again, when known. */
  readonly retryAfter: number | undefined
  constructor(message = 'Too many attempts. Try again later.', retryAfter?: number) {
    super(TooManyAttemptsError.code, message)
    this.retryAfter = retryAfter
  }
}

export class InvalidTicketError extends LatchkeyError<'invalid_ticket'> {
  static override readonly kind = 'InvalidTicketError'
  static readonly code = 'invalid_ticket'
  static readonly httpStatus = 400
  constructor(message = 'The ticket is invalid, expired or already used.') {
    super(InvalidTicketError.code, message)
  }
}

export class NotSupportedError extends LatchkeyError<'not_supported'> {
  static override readonly kind = 'NotSupportedError'
  static readonly code = 'not_supported'
  static readonly httpStatus = 501
  constructor(message = 'This operation is not supported by this connection.') {
    super(NotSupportedError.code, message)
  }
}

export class ScriptError extends LatchkeyError<'script_error'> {
  static override readonly kind = 'ScriptError'
  static readonly code = 'script_error'
  static readonly httpStatus = 502
  readonly scriptName: string | undefined
  readonly line: number | undefined
  /** Console output captured from the run, already redacted. Never part of `message`. */
  readonly logs: readonly string[]
  /** True when the run failed for a reason of the sandbox (a discarded module), not the script. */
  readonly retryable: boolean
  constructor(message: string, opts: { scriptName?: string; line?: number; logs?: readonly string[]; retryable?: boolean } = {}) {
    super(ScriptError.code, message)
    this.scriptName = opts.scriptName
    this.line = opts.line
    this.logs = opts.logs ?? []
    this.retryable = opts.retryable ?? false
  }
}

export class ScriptTimeoutError extends LatchkeyError<'script_timeout'> {
  static override readonly kind = 'ScriptTimeoutError'
  static readonly code = 'script_timeout'
  static readonly httpStatus = 502
  readonly scriptName: string | undefined
  readonly logs: readonly string[]
  constructor(message: string, opts: { scriptName?: string; logs?: readonly string[] } = {}) {
    super(ScriptTimeoutError.code, message)
    this.scriptName = opts.scriptName
    this.logs = opts.logs ?? []
  }
}

/**
 * The script runner's queue is full: the run was refused at once, without waiting.
 * Retryable: try again shortly, or answer 503 with Retry-After.
 */
export class ScriptRunnerBusyError extends LatchkeyError<'runner_busy'> {
  static override readonly kind = 'ScriptRunnerBusyError'
  static readonly code = 'runner_busy'
  static readonly httpStatus = 503
  readonly retryable = true
  constructor(message = 'The script runner is busy: too many runs are waiting. Try again shortly.') {
    super(ScriptRunnerBusyError.code, message)
  }
}

export class EgressDeniedError extends LatchkeyError<'egress_denied'> {
  static override readonly kind = 'EgressDeniedError'
  static readonly code = 'egress_denied'
  static readonly httpStatus = 502
  constructor(message: string) {
    super(EgressDeniedError.code, message)
  }
}

/** The store could not be reached or answered with a connection-level failure. Retryable. */
export class StoreUnavailableError extends LatchkeyError<'store_unavailable'> {
  static override readonly kind = 'StoreUnavailableError'
  static readonly code = 'store_unavailable'
  static readonly httpStatus = 503
  constructor(message = 'The user store is unavailable.', options?: { cause?: unknown }) {
    super(StoreUnavailableError.code, message, options)
  }
}

export class MigrationConflictError extends LatchkeyError<'migration_conflict'> {
  static override readonly kind = 'MigrationConflictError'
  static readonly code = 'migration_conflict'
  static readonly httpStatus = 409
  constructor(message: string) {
    super(MigrationConflictError.code, message)
  }
}

/**
 * A migrated user whose legacy password failed the target's policy or breached list
 * (`legacyPasswordPolicy: 'require_reset'`) must reset it first. It carries no ticket: the
 * app sends a reset mail through `createPasswordResetTicket`, under its issuance limit.
 */
export class PasswordChangeRequiredError extends LatchkeyError<'password_change_required'> {
  static override readonly kind = 'PasswordChangeRequiredError'
  static readonly code = 'password_change_required'
  static readonly httpStatus = 403
  constructor(message = 'The password must be changed: use password reset.') {
    super(PasswordChangeRequiredError.code, message)
  }
}

/** `Invalid input: email: expected string, received number (and 1 more)`, saying "Invalid input" once. */
function describeIssues(issues: readonly InputIssue[]): string {
  const first = issues[0]
  if (!first) return 'Invalid input.'
  // zod's own messages start with "Invalid input" too; the prefix is ours to say.
  const what = first.message.replace(/^invalid input\b:?\s*/i, '')
  const where = first.path.join('.')
  const more = issues.length > 1 ? ` (and ${issues.length - 1} more)` : ''
  return `Invalid input${where ? `: ${where}` : ''}${what ? `: ${what}` : ''}${more}`
}
