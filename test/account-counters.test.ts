// One account, one counter (ASVS 6.3.1, 6.3.4): a known user's email and username share the brute-force counters,
// unknown identifiers keep their own, and a per-account cap with growing delays is on by default (NIST SP 800-63B
// §3.2.2), on every dialect in DIALECTS.
import { afterAll, describe, expect, it } from 'vitest'
import { BuiltinConnection, closeHashPool, TooManyAttemptsError, type BuiltinConnectionOptions, type LatchkeyEvent } from '@latchkey/core'
import type { OpenedStore } from '@latchkey/adapters'
import { DIALECTS, uniqueName } from './support/dialects.js'
import { testClock } from './support/test-clock.js'
import { withTestStore } from './support/test-store.js'
import { TEST_COST } from './support/test-cost.js'

const RIGHT = 'Tr0ub4dor-horse-42'
const WRONG = 'not-the-password-7'
const A = { ip: '203.0.113.21' }
const outcome = (p: Promise<unknown>) =>
  p.then(
    () => 'ok',
    (e: unknown) => (e as { code?: string }).code ?? String(e),
  )
/** A fresh address for every call, so no pair or IP counter fills: what fills is the account's. */
let nextIp = 0
const anyIp = () => ({ ip: `10.19.${(nextIp >> 8) & 255}.${nextIp++ & 255}` })

afterAll(async () => {
  await closeHashPool()
})

for (const dialect of DIALECTS) {
  describe(`account counters on ${dialect}`, () => {
    let store: OpenedStore
    withTestStore(dialect, (s) => (store = s))

    const connect = async (opts: Partial<BuiltinConnectionOptions> = {}) => {
      const clock = testClock('2026-06-01T00:00:00Z')
      const events: LatchkeyEvent[] = []
      const users = new BuiltinConnection({
        name: uniqueName('acct'),
        store,
        ...TEST_COST,
        now: clock.read,
        onEvent: (e) => events.push(e),
        ...opts,
      })
      await users.signup({ email: 'victim@example.com', password: RIGHT, username: 'victim' }, { ip: '192.0.2.250' })
      return {
        users,
        events,
        advance: clock.advance,
      }
    }
    const login = (users: BuiltinConnection, identifier: string, password: string, ctx: { ip: string } = A) =>
      outcome(users.login({ identifier, password }, ctx))

    it('counts failures by email and by username on one counter for the same user', async () => {
      const { users, events } = await connect({ attackProtection: { bruteForce: { threshold: 3 } } })
      expect(await login(users, 'victim@example.com', WRONG)).toBe('invalid_user_password')
      expect(await login(users, 'VICTIM', WRONG)).toBe('invalid_user_password')
      expect(await login(users, 'victim@example.com', WRONG)).toBe('invalid_user_password')
      // Three failures of one user from one IP, whichever identifier: both are blocked now.
      expect(await login(users, 'victim', RIGHT)).toBe('too_many_attempts')
      expect(await login(users, 'victim@example.com', RIGHT)).toBe('too_many_attempts')
      expect(events.filter((e) => e.type === 'limit_wc').every((e) => e.identifier_hash !== undefined)).toBe(true)
      expect(JSON.stringify(events)).not.toContain('victim@example.com')
    })

    it("resets the user's counters on a right password by either identifier", async () => {
      const { users } = await connect({ attackProtection: { bruteForce: { threshold: 3 } } })
      expect(await login(users, 'victim@example.com', WRONG)).toBe('invalid_user_password')
      expect(await login(users, 'victim@example.com', WRONG)).toBe('invalid_user_password')
      expect(await login(users, 'victim', RIGHT)).toBe('ok')
      expect(await login(users, 'victim@example.com', WRONG)).toBe('invalid_user_password')
      expect(await login(users, 'victim', WRONG)).toBe('invalid_user_password')
      expect(await login(users, 'victim@example.com', RIGHT)).toBe('ok')
    })

    it('keeps a separate counter for each unknown identifier, counted the same way', async () => {
      const { users } = await connect({ attackProtection: { bruteForce: { threshold: 3 } } })
      for (let i = 0; i < 3; i++) expect(await login(users, 'ghost@example.com', WRONG)).toBe('invalid_user_password')
      expect(await login(users, 'ghost@example.com', WRONG)).toBe('too_many_attempts')
      // Another unknown identifier, and the known user, are counted apart.
      expect(await login(users, 'ghost', WRONG)).toBe('invalid_user_password')
      expect(await login(users, 'victim@example.com', RIGHT)).toBe('ok')
    })

    it("unblock by either identifier, and a password reset, lift the user's blocks", async () => {
      const { users } = await connect({ attackProtection: { bruteForce: { threshold: 2 } } })
      for (let i = 0; i < 2; i++) expect(await login(users, 'victim', WRONG)).toBe('invalid_user_password')
      expect(await login(users, 'victim@example.com', RIGHT)).toBe('too_many_attempts')
      await users.unblock('victim@example.com')
      expect(await login(users, 'victim', RIGHT)).toBe('ok')
      for (let i = 0; i < 2; i++) expect(await login(users, 'victim@example.com', WRONG)).toBe('invalid_user_password')
      expect(await login(users, 'victim', RIGHT)).toBe('too_many_attempts')
      const issued = await users.createPasswordResetTicket('victim@example.com', {}, A)
      await users.resetPassword(issued!.ticket, 'Correct-staple-battery-9', A)
      expect(await login(users, 'victim', 'Correct-staple-battery-9')).toBe('ok')
    })

    it('slows an account attacked from many IPs with growing delays, never a lock, and a success resets them', async () => {
      const { users, advance } = await connect({
        attackProtection: { bruteForce: { accountThrottling: { slowAfter: 3, maxFailures: 6 } } },
      })
      for (let i = 0; i < 3; i++) expect(await login(users, 'victim@example.com', WRONG, anyIp())).toBe('invalid_user_password')
      // Past slowAfter: one attempt a minute, for the username too, from any IP.
      const delayed = await users.login({ identifier: 'victim', password: RIGHT }, anyIp()).catch((e: unknown) => e)
      expect(delayed).toBeInstanceOf(TooManyAttemptsError)
      expect((delayed as TooManyAttemptsError).retryAfter).toBeGreaterThan(0)
      expect((delayed as TooManyAttemptsError).retryAfter).toBeLessThanOrEqual(60)
      for (let i = 0; i < 3; i++) {
        advance(60_000)
        expect(await login(users, 'victim', WRONG, anyIp())).toBe('invalid_user_password')
        expect(await login(users, 'victim', WRONG, anyIp())).toBe('too_many_attempts')
      }
      // Six failures: past maxFailures the delay grows to 15 minutes, and no further.
      advance(60_000)
      const capped = await users.login({ identifier: 'victim@example.com', password: RIGHT }, anyIp()).catch((e: unknown) => e)
      expect(capped).toBeInstanceOf(TooManyAttemptsError)
      expect((capped as TooManyAttemptsError).retryAfter).toBeGreaterThan(60)
      expect((capped as TooManyAttemptsError).retryAfter).toBeLessThanOrEqual(15 * 60)
      advance(15 * 60_000)
      // The right password gets through after the delay and resets the account's counters.
      expect(await login(users, 'victim@example.com', RIGHT, anyIp())).toBe('ok')
      for (let i = 0; i < 3; i++) expect(await login(users, 'victim', WRONG, anyIp())).toBe('invalid_user_password')
    })

    it('is on by default: the 21st failure of one account from 21 IPs waits, known or unknown alike', async () => {
      const { users } = await connect()
      for (const identifier of ['victim@example.com', 'ghost@example.com']) {
        for (let i = 0; i < 20; i++) expect(await login(users, identifier, WRONG, anyIp())).toBe('invalid_user_password')
        expect(await login(users, identifier, WRONG, anyIp())).toBe('too_many_attempts')
      }
      // One IP's attack on its own stays the pair's business: 10 failures block that pair only.
      const fresh = await connect()
      for (let i = 0; i < 10; i++) expect(await login(fresh.users, 'victim', WRONG)).toBe('invalid_user_password')
      expect(await login(fresh.users, 'victim', RIGHT)).toBe('too_many_attempts')
      expect(await login(fresh.users, 'victim', RIGHT, anyIp())).toBe('ok')
    })

    it('accountThrottling: false turns the account delays off', async () => {
      const { users } = await connect({ attackProtection: { bruteForce: { accountThrottling: false } } })
      for (let i = 0; i < 25; i++) expect(await login(users, 'victim@example.com', WRONG, anyIp())).toBe('invalid_user_password')
      expect(await login(users, 'victim@example.com', RIGHT, anyIp())).toBe('ok')
    })
  })
}
