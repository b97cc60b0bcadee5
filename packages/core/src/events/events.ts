/**
 * A structured event. By default it names the user by `user_id`, or by `identifier_hash`
 * (a keyed HMAC of the normalised identifier), never by the raw identifier: people type
 * their password into the username box.
 */
export interface LatchkeyEvent {
  type: LatchkeyEventType
  connection: string
  at: Date
  user_id?: string
  identifier_hash?: string
  ip?: string
  details?: Record<string, unknown>
}

/** The event type codes of SPEC §6. */
export const latchkeyEventTypes = {
  s: 'login succeeded',
  fp: 'login failed: wrong password',
  fu: 'login failed: unknown user',
  f: 'login failed: other reason (blocked user, script error)',
  ss: 'signup succeeded',
  fs: 'signup failed',
  scp: 'password changed',
  fcp: 'password change failed',
  scpr: 'password reset ticket issued',
  sv: 'email verified',
  fv: 'email verification failed',
  sce: 'email changed',
  du: 'user deleted',
  limit_wc: 'identifier/IP pair blocked',
  limit_mu: 'IP throttled',
  limit_signup: 'signup limit reached',
  unblock: 'block lifted',
  migrated: 'user migrated',
  migration_conflict: 'migration conflict',
  rehash_skipped: 'legacy password could not be rehashed',
  script_error: 'script error',
} as const

export type LatchkeyEventType = keyof typeof latchkeyEventTypes

export type EventListener = (event: LatchkeyEvent) => void

/**
 * Delivers an event to the host's listener. A listener that throws must not turn a
 * successful login into a failure, so its error is reported as a process warning instead.
 */
export function deliverEvent(listener: EventListener | undefined, event: LatchkeyEvent): void {
  if (!listener) return
  try {
    listener(event)
  } catch (error) {
    process.emitWarning(
      `latchkey onEvent listener threw on a '${event.type}' event: ${error instanceof Error ? error.message : String(error)}`,
      'LatchkeyWarning',
    )
  }
}
