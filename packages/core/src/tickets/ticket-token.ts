import { createHash, randomBytes } from 'node:crypto'

/** 256 random bits, base64url: well above the 128-bit floor. */
export function newTicketToken(): string {
  return randomBytes(32).toString('base64url')
}

/** The store keeps only this: hex SHA-256 of the token. */
export function ticketTokenHash(token: string): string {
  return createHash('sha256').update(token, 'utf8').digest('hex')
}
