import type { StoredUser } from './user-record-store.js'

/**
 * The tickets role of a store: password-reset and email-verification tickets, each
 * stored by the hash of its token. `redeemVerificationTicket` also writes the user, so a
 * store that implements it keeps tickets and users in one database.
 */
export interface TicketStore {
  insertTicket(ticket: TicketRecord): Promise<void>

  findTicket(tokenHash: string): Promise<TicketRecord | null>

  /**
   * Consumes a verification ticket and marks its email verified, in one transaction.
   * 'invalid_ticket' when it is used, expired, or the user's email is no longer the one
   * the ticket was issued for.
   */
  redeemVerificationTicket(tokenHash: string, at: Date): Promise<{ result: 'ok'; user: StoredUser } | { result: 'invalid_ticket' }>

  /**
   * Marks a ticket used if it is unused and unexpired at `at`; true for the one caller
   * that did. For stores outside a transaction's reach (a legacy store written by a
   * script), this is the lock; {@link releaseTicket} undoes it when the write fails.
   */
  consumeTicket(tokenHash: string, at: Date): Promise<boolean>

  /** Makes a ticket consumed at exactly `at` usable again. */
  releaseTicket(tokenHash: string, at: Date): Promise<void>

  /**
   * Voids (marks used at `at`) every open ticket of a user, or issued for an email, of one
   * connection: for stores outside a transaction's reach, where a credential or email change
   * happens in a script and the tickets must die with the credential all the same.
   */
  voidTickets(connection: string, of: { userId: string } | { emailNormalized: string }, at: Date): Promise<void>
}

export type TicketPurpose = 'reset' | 'verify'

export interface TicketRecord {
  /** Hex SHA-256 of the token. The token itself is never stored. */
  token_hash: string
  connection: string
  purpose: TicketPurpose
  user_id: string
  email_normalized: string
  /** For a reset ticket of a not-yet-imported legacy user: the legacy id to re-check. */
  legacy_id: string | null
  created_at: Date
  expires_at: Date
  used_at: Date | null
}
