import type { IssuedTicket } from '../connection/database-connection.js'

/**
 * Issues a ticket off the caller's path: the call has already answered (null, whatever
 * happens) when the lookup, the issuance slot and the insert run, so its timing says
 * nothing about whether the email has an account or is past its limit. `deliver` gets the
 * ticket if one was issued. A failure is reported as a process warning that names only
 * the error's kind, since a host's mailer may have put the link in its message.
 */
export function issueOffPath(issue: () => Promise<IssuedTicket | null>, deliver: (ticket: IssuedTicket) => unknown): null {
  setImmediate(() => {
    issue()
      .then(async (ticket) => {
        if (ticket) await deliver(ticket)
      })
      .catch((error: unknown) => {
        const kind = error instanceof Error ? `${error.name}${'code' in error ? ` (${String(error.code)})` : ''}` : typeof error
        process.emitWarning(`latchkey could not issue or deliver a ticket: ${kind}`, 'LatchkeyWarning')
      })
  })
  return null
}
