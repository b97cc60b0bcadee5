// Verification and reset tickets, on every dialect in DIALECTS.
import { createHash } from 'node:crypto'
import { afterAll, describe, expect, it } from 'vitest'
import {
  BuiltinConnection,
  closeHashPool,
  InvalidInputError,
  InvalidTicketError,
  PasswordPolicyError,
  WrongUsernameOrPasswordError,
  type BuiltinConnectionOptions,
} from '@latchkey/core'
import type { OpenedStore } from '@latchkey/adapters'
import { DIALECTS, uniqueName } from './support/dialects.js'
import { testClock } from './support/test-clock.js'
import { withTestStore } from './support/test-store.js'
import { eventLog } from './support/events.js'
import { TEST_COST } from './support/test-cost.js'

const ctx = { ip: '192.0.2.20' }
const HOUR = 3600_000

afterAll(async () => {
  await closeHashPool()
})

for (const dialect of DIALECTS) {
  describe(`tickets on ${dialect}`, () => {
    let store: OpenedStore
    withTestStore(dialect, (s) => (store = s))

    /** A connection with a clock the test moves by hand. */
    const connect = async (opts: Partial<BuiltinConnectionOptions> = {}) => {
      const clock = testClock('2026-03-01T12:00:00.000Z')
      const log = eventLog()
      const connection = new BuiltinConnection({
        name: uniqueName('tk'),
        store,
        ...TEST_COST,
        onEvent: log.onEvent,
        now: clock.read,
        ...opts,
      })
      const user = await connection.signup({ email: 'Pat@Example.com', password: 'old-password-Xq7' }, ctx)
      return { connection, user, clock, advance: clock.advance, log }
    }

    it('issues 256-bit tokens and stores only their SHA-256', async () => {
      const { connection } = await connect()
      const issued = await connection.createPasswordResetTicket('pat@example.com')
      expect(issued!.ticket).toMatch(/^[A-Za-z0-9_-]{43}$/)
      const rows = await store.db.selectFrom('latchkey_tickets').selectAll().where('connection', '=', connection.name).execute()
      expect(rows).toHaveLength(1)
      expect(rows[0]!.token_hash).toBe(createHash('sha256').update(issued!.ticket).digest('hex'))
      expect(JSON.stringify(rows)).not.toContain(issued!.ticket)
    })

    it('resets a password with a reset ticket, once', async () => {
      const { connection, clock, log } = await connect()
      const issued = await connection.createPasswordResetTicket('PAT@example.com')
      expect(issued!.expiresAt.getTime()).toBe(clock.now.getTime() + 24 * HOUR)
      const profile = await connection.resetPassword(issued!.ticket, 'new-password-Xq7', ctx)
      expect(profile.last_password_reset?.getTime()).toBe(clock.now.getTime())
      await expect(connection.login({ identifier: 'pat@example.com', password: 'new-password-Xq7' }, ctx)).resolves.toBeTruthy()
      await expect(connection.login({ identifier: 'pat@example.com', password: 'old-password-Xq7' }, ctx)).rejects.toBeInstanceOf(
        WrongUsernameOrPasswordError,
      )
      await expect(connection.resetPassword(issued!.ticket, 'third-password-Xq7', ctx)).rejects.toBeInstanceOf(InvalidTicketError)
      expect(log.types()).toEqual(['ss', 'scpr', 'scp', 'unblock', 's', 'fp', 'fcp'])
    })

    it('expires tickets: 1 day for reset, 5 days for verification by default', async () => {
      const { connection, advance } = await connect()
      const reset = await connection.createPasswordResetTicket('pat@example.com')
      const verify = await connection.createEmailVerificationTicket('pat@example.com')
      advance(24 * HOUR + 1)
      await expect(connection.resetPassword(reset!.ticket, 'new-password-Xq7', ctx)).rejects.toBeInstanceOf(InvalidTicketError)
      advance(4 * 24 * HOUR - 2)
      await expect(connection.verifyEmailWithTicket(verify!.ticket, ctx)).resolves.toMatchObject({ email_verified: true })
    })

    it('expires a verification ticket after its lifetime', async () => {
      const { connection, advance } = await connect()
      const verify = await connection.createEmailVerificationTicket('pat@example.com')
      advance(5 * 24 * HOUR + 1)
      await expect(connection.verifyEmailWithTicket(verify!.ticket, ctx)).rejects.toBeInstanceOf(InvalidTicketError)
    })

    it('honours ttlSeconds and caps it', async () => {
      const { connection, clock, advance } = await connect({ tickets: { maxTtlSeconds: 3600 } })
      const short = await connection.createPasswordResetTicket('pat@example.com', { ttlSeconds: 60 })
      expect(short!.expiresAt.getTime()).toBe(clock.now.getTime() + 60_000)
      await expect(connection.createPasswordResetTicket('pat@example.com', { ttlSeconds: 3601 })).rejects.toBeInstanceOf(InvalidInputError)
      advance(61_000)
      await expect(connection.resetPassword(short!.ticket, 'new-password-Xq7', ctx)).rejects.toBeInstanceOf(InvalidTicketError)
    })

    it('binds a ticket to its purpose', async () => {
      const { connection } = await connect()
      const reset = await connection.createPasswordResetTicket('pat@example.com')
      const verify = await connection.createEmailVerificationTicket('pat@example.com')
      await expect(connection.verifyEmailWithTicket(reset!.ticket, ctx)).rejects.toBeInstanceOf(InvalidTicketError)
      await expect(connection.resetPassword(verify!.ticket, 'new-password-Xq7', ctx)).rejects.toBeInstanceOf(InvalidTicketError)
      // Both still work for their own purpose.
      await expect(connection.verifyEmailWithTicket(verify!.ticket, ctx)).resolves.toBeTruthy()
      await expect(connection.resetPassword(reset!.ticket, 'new-password-Xq7', ctx)).resolves.toBeTruthy()
    })

    it('binds a ticket to its connection', async () => {
      const { connection } = await connect()
      const other = new BuiltinConnection({ name: uniqueName('tk'), store, ...TEST_COST })
      await other.signup({ email: 'pat@example.com', password: 'x-Tr0ub4dor-42' }, ctx)
      const reset = await connection.createPasswordResetTicket('pat@example.com')
      await expect(other.resetPassword(reset!.ticket, 'new-password-Xq7', ctx)).rejects.toBeInstanceOf(InvalidTicketError)
    })

    it('voids a verification ticket once the email has changed, even if it changes back', async () => {
      const { connection, user } = await connect()
      const verify = await connection.createEmailVerificationTicket('pat@example.com')
      await connection.changeEmail('pat@example.com', 'pat2@example.com')
      await expect(connection.verifyEmailWithTicket(verify!.ticket, ctx)).rejects.toBeInstanceOf(InvalidTicketError)
      expect((await connection.getUserById(user.user_id))?.email_verified).toBe(false)
      const fresh = await connection.createEmailVerificationTicket('pat2@example.com')
      await expect(connection.verifyEmailWithTicket(fresh!.ticket, ctx)).resolves.toMatchObject({
        email: 'pat2@example.com',
        email_verified: true,
      })
    })

    it('changePassword and changeEmail void open reset tickets', async () => {
      const { connection } = await connect()
      const first = await connection.createPasswordResetTicket('pat@example.com')
      await connection.changePassword('pat@example.com', 'changed-password-Xq7', ctx)
      await expect(connection.resetPassword(first!.ticket, 'new-password-Xq7', ctx)).rejects.toBeInstanceOf(InvalidTicketError)
      const second = await connection.createPasswordResetTicket('pat@example.com')
      await connection.changeEmail('pat@example.com', 'moved@example.com')
      await expect(connection.resetPassword(second!.ticket, 'new-password-Xq7', ctx)).rejects.toBeInstanceOf(InvalidTicketError)
    })

    it("redeeming one reset ticket voids the user's others", async () => {
      const { connection } = await connect()
      const a = await connection.createPasswordResetTicket('pat@example.com')
      const b = await connection.createPasswordResetTicket('pat@example.com')
      await connection.resetPassword(a!.ticket, 'new-password-Xq7', ctx)
      await expect(connection.resetPassword(b!.ticket, 'other-password-Xq7', ctx)).rejects.toBeInstanceOf(InvalidTicketError)
    })

    it('checks the policy before consuming the ticket', async () => {
      const { connection } = await connect({ passwordPolicy: { level: 'low' } })
      const issued = await connection.createPasswordResetTicket('pat@example.com')
      await expect(connection.resetPassword(issued!.ticket, 'short', ctx)).rejects.toBeInstanceOf(PasswordPolicyError)
      await expect(connection.resetPassword(issued!.ticket, 'long-enough', ctx)).resolves.toBeTruthy()
    })

    it('lets exactly one of 10 concurrent redemptions succeed', async () => {
      const { connection } = await connect()
      const issued = await connection.createPasswordResetTicket('pat@example.com')
      const results = await Promise.allSettled(
        Array.from({ length: 10 }, (_, i) => connection.resetPassword(issued!.ticket, `password-Xq7-${i}`, ctx)),
      )
      const winners = results.flatMap((r, i) => (r.status === 'fulfilled' ? [i] : []))
      expect(winners).toHaveLength(1)
      for (const r of results) if (r.status === 'rejected') expect(r.reason).toBeInstanceOf(InvalidTicketError)
      await expect(connection.login({ identifier: 'pat@example.com', password: `password-Xq7-${winners[0]}` }, ctx)).resolves.toBeTruthy()
    })

    it('returns null for an unknown email', async () => {
      const { connection } = await connect()
      expect(await connection.createPasswordResetTicket('nobody@example.com')).toBeNull()
      expect(await connection.createEmailVerificationTicket('nobody@example.com')).toBeNull()
    })

    it('limits issuance to 5 per email per purpose per hour, then answers null', async () => {
      const { connection, advance } = await connect()
      for (let i = 0; i < 5; i++) expect(await connection.createPasswordResetTicket('pat@example.com')).not.toBeNull()
      expect(await connection.createPasswordResetTicket('pat@example.com')).toBeNull()
      // The other purpose has its own allowance.
      expect(await connection.createEmailVerificationTicket('pat@example.com')).not.toBeNull()
      advance(HOUR - 1000)
      expect(await connection.createPasswordResetTicket('pat@example.com')).toBeNull()
      advance(1001)
      expect(await connection.createPasswordResetTicket('pat@example.com')).not.toBeNull()
    })

    it('takes a configurable issuance limit', async () => {
      const { connection } = await connect({ tickets: { perEmailPerHour: 1 } })
      expect(await connection.createEmailVerificationTicket('pat@example.com')).not.toBeNull()
      expect(await connection.createEmailVerificationTicket('pat@example.com')).toBeNull()
    })

    it('refuses made-up and malformed tokens with InvalidTicketError', async () => {
      const { connection } = await connect()
      await expect(connection.resetPassword('A'.repeat(43), 'new-password-Xq7', ctx)).rejects.toBeInstanceOf(InvalidTicketError)
      await expect(connection.verifyEmailWithTicket('not-a-ticket', ctx)).rejects.toBeInstanceOf(InvalidTicketError)
    })
  })
}
