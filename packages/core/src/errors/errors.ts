/**
 * Every error latchkey raises extends {@link LatchkeyError} and carries a stable `code`.
 *
 * `instanceof` works across duplicated copies of the package (two versions in one
 * node_modules tree): each class brands its instances with a registered symbol, and
 * `Symbol.hasInstance` checks the brand instead of the prototype chain, as undici does.
 */

const brandOf = (kind: string): symbol => Symbol.for(`latchkey.error.${kind}`)

/** One structured problem with an input, shaped like a zod issue. */
export interface InputIssue {
  readonly path: readonly (string | number)[]
  readonly code: string
  readonly message: string
}

/** One password-policy rule and whether the candidate password met it. */
export interface PolicyRuleResult {
  readonly id: string
  readonly message: string
  readonly verified: boolean
}

export class LatchkeyError extends Error {
  /** Stable, machine-readable code. Match on this, not on `message`. */
  readonly code: string

  static readonly kind: string = 'LatchkeyError'

  constructor(code: string, message: string, options?: { cause?: unknown }) {
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
    return typeof value === 'object' && value !== null &&
      (value as Record<symbol, unknown>)[brandOf(this.kind)] === true
  }
}

/** An unknown user or a wrong password. Both give this same error, code and message. */
export class WrongUsernameOrPasswordError extends LatchkeyError {
  static override readonly kind = 'WrongUsernameOrPasswordError'
  constructor(message = 'Wrong email or password.') {
    super('invalid_user_password', message)
  }
}

export class UserExistsError extends LatchkeyError {
  static override readonly kind = 'UserExistsError'
  constructor(message = 'The user already exists.') {
    super('user_exists', message)
  }
}

/** A user id, email or username that names no user, in an admin or account call. */
export class UserNotFoundError extends LatchkeyError {
  static override readonly kind = 'UserNotFoundError'
  constructor(message = 'The user does not exist.') {
    super('user_not_found', message)
  }
}

/** The password breaks the connection's policy; `rules` lists every rule, met or not. */
export class PasswordPolicyError extends LatchkeyError {
  static override readonly kind = 'PasswordPolicyError'
  readonly rules: readonly PolicyRuleResult[]
  constructor(rules: readonly PolicyRuleResult[], message = 'The password does not meet the password policy.') {
    super('invalid_password', message)
    this.rules = rules
  }
}

export class PasswordLeakedError extends LatchkeyError {
  static override readonly kind = 'PasswordLeakedError'
  constructor(message = 'This password has appeared in a data breach; choose another.') {
    super('password_leaked', message)
  }
}

/** Bad input to a public function. `issues` lists every problem, zod-style. */
export class InvalidInputError extends LatchkeyError {
  static override readonly kind = 'InvalidInputError'
  readonly issues: readonly InputIssue[]
  constructor(issues: readonly InputIssue[], message?: string) {
    super('invalid_input', message ?? describeIssues(issues))
    this.issues = issues
  }
}

/** A script's `ValidationError(code, message)`; `code` is the script's own. */
export class ValidationError extends LatchkeyError {
  static override readonly kind = 'ValidationError'
  constructor(code: string, message = 'Validation failed.') {
    super(code, message)
  }
}

/** Refused for a reason that may be shown to the end user, such as "user is blocked". */
export class UnauthorizedError extends LatchkeyError {
  static override readonly kind = 'UnauthorizedError'
  constructor(message = 'Unauthorized.') {
    super('unauthorized', message)
  }
}

export class TooManyAttemptsError extends LatchkeyError {
  static override readonly kind = 'TooManyAttemptsError'
  /** Seconds until the caller may try again, when known. */
  readonly retryAfter: number | undefined
  constructor(message = 'Too many attempts. Try again later.', retryAfter?: number) {
    super('too_many_attempts', message)
    this.retryAfter = retryAfter
  }
}

export class InvalidTicketError extends LatchkeyError {
  static override readonly kind = 'InvalidTicketError'
  constructor(message = 'The ticket is invalid, expired or already used.') {
    super('invalid_ticket', message)
  }
}

export class NotSupportedError extends LatchkeyError {
  static override readonly kind = 'NotSupportedError'
  constructor(message = 'This operation is not supported by this connection.') {
    super('not_supported', message)
  }
}

export class ScriptError extends LatchkeyError {
  static override readonly kind = 'ScriptError'
  readonly scriptName: string | undefined
  readonly line: number | undefined
  /** Console output captured from the run, already redacted. Never part of `message`. */
  readonly logs: readonly string[]
  /** True when the run failed for a reason of the sandbox (a discarded module), not the script. */
  readonly retryable: boolean
  constructor(message: string, opts: { scriptName?: string; line?: number; logs?: readonly string[]; retryable?: boolean } = {}) {
    super('script_error', message)
    this.scriptName = opts.scriptName
    this.line = opts.line
    this.logs = opts.logs ?? []
    this.retryable = opts.retryable ?? false
  }
}

export class ScriptTimeoutError extends LatchkeyError {
  static override readonly kind = 'ScriptTimeoutError'
  readonly scriptName: string | undefined
  readonly logs: readonly string[]
  constructor(message: string, opts: { scriptName?: string; logs?: readonly string[] } = {}) {
    super('script_timeout', message)
    this.scriptName = opts.scriptName
    this.logs = opts.logs ?? []
  }
}

export class EgressDeniedError extends LatchkeyError {
  static override readonly kind = 'EgressDeniedError'
  constructor(message: string) {
    super('egress_denied', message)
  }
}

/** The store could not be reached or answered with a connection-level failure. Retryable. */
export class StoreUnavailableError extends LatchkeyError {
  static override readonly kind = 'StoreUnavailableError'
  constructor(message = 'The user store is unavailable.', options?: { cause?: unknown }) {
    super('store_unavailable', message, options)
  }
}

export class MigrationConflictError extends LatchkeyError {
  static override readonly kind = 'MigrationConflictError'
  constructor(message: string) {
    super('migration_conflict', message)
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
