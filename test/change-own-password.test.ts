// changeOwnPassword (ASVS 6.2.3): the current password first, under the login counters, then the policy; on the
// built-in connection on every dialect (the custom-script connection's is in custom-script-connection.test.ts).
import { afterAll, describe, expect, it } from 'vitest'
import {
  BuiltinConnection,
  closeHashPool,
  InvalidInputError,
  PasswordLeakedError,
  PasswordPolicyError,
  TooManyAttemptsError,
  UnauthorizedError,
  WrongUsernameOrPasswordError,
  type BuiltinConnectionOptions,
} from '@latchkey/core'
import type { OpenedStore } from '@latchkey/adapters'
import { DIALECTS, uniqueName } from './support/dialects.js'
import { withTestStore } from './support/test-store.js'
import { eventLog } from './support/events.js'
import { TEST_COST } from './support/test-cost.js'

const ctx = { ip: '198.51.100.31' }
const OLD = 'Tr0ub4dor-horse-42'
const NEW = 'Correct-staple-battery-9'
const outcome = (p: Promise<unknown>) =>
  p.then(
    () => 'ok',
    (e: unknown) => (e as { code?: string }).code ?? String(e),
  )

afterAll(async () => {
  await closeHashPool()
})

for (const dialect of DIALECTS) {
  describe(`changeOwnPassword on a built-in connection (${dialect})`, () => {
    let store: OpenedStore
    withTestStore(dialect, (s) => (store = s))

    const connect = async (opts: Partial<BuiltinConnectionOptions> = {}) => {
      const log = eventLog()
      const users = new BuiltinConnection({
        name: uniqueName('own'),
        store,
        ...TEST_COST,
        attackProtection: { bruteForce: { threshold: 3 } },
        onEvent: log.onEvent,
        ...opts,
      })
      await users.signup({ email: 'owner@example.com', password: OLD, username: 'owner' }, ctx)
      return { users, log }
    }
    const change = (users: BuiltinConnection, currentPassword: string, newPassword = NEW, identifier = 'owner@example.com', c = ctx) =>
      outcome(users.changeOwnPassword({ identifier, currentPassword, newPassword }, c))

    it('needs the current password, then sets the new one', async () => {
      const { users, log } = await connect()
      expect(await change(users, 'not-the-password-7')).toBe('invalid_user_password')
      await expect(users.login({ identifier: 'owner@example.com', password: OLD }, ctx)).resolves.toBeTruthy()
      await expect(users.changeOwnPassword({ identifier: 'owner', currentPassword: OLD, newPassword: NEW }, ctx)).resolves.toMatchObject({
        email: 'owner@example.com',
      })
      await expect(users.login({ identifier: 'owner@example.com', password: NEW }, ctx)).resolves.toBeTruthy()
      expect(await outcome(users.login({ identifier: 'owner@example.com', password: OLD }, ctx))).toBe('invalid_user_password')
      expect(log.types()).toEqual(expect.arrayContaining(['fcp', 'scp']))
      expect(JSON.stringify(log.events)).not.toContain(OLD)
    })

    it('applies the policy, the history and the breached list to the new password only after the current one matched', async () => {
      const { users } = await connect({ passwordPolicy: { minLength: 12, history: 2, dictionary: false }, breachedPasswords: true })
      expect(await change(users, OLD, 'short-pw-1')).toBe('invalid_password')
      expect(await change(users, OLD, OLD)).toBe('invalid_password') // history: the current one
      expect(await change(users, OLD, 'qwertyuiop123')).toBe('password_leaked')
      // A wrong current password is refused as such, whatever the new one is.
      expect(await change(users, 'not-the-password-7', 'short')).toBe('invalid_user_password')
      const error = await users
        .changeOwnPassword({ identifier: 'owner@example.com', currentPassword: OLD, newPassword: 'short-pw-1' }, ctx)
        .catch((e: unknown) => e)
      expect(error).toBeInstanceOf(PasswordPolicyError)
      await expect(
        users.changeOwnPassword({ identifier: 'owner@example.com', currentPassword: OLD, newPassword: 'qwertyuiop123' }, ctx),
      ).rejects.toBeInstanceOf(PasswordLeakedError)
    })

    it('gives an unknown user and a wrong current password the same error and message', async () => {
      const { users } = await connect()
      const wrong = await users
        .changeOwnPassword({ identifier: 'owner@example.com', currentPassword: 'not-the-password-7', newPassword: NEW }, ctx)
        .catch((e: unknown) => e)
      const unknown = await users
        .changeOwnPassword({ identifier: 'nobody@example.com', currentPassword: 'not-the-password-7', newPassword: NEW }, ctx)
        .catch((e: unknown) => e)
      expect(wrong).toBeInstanceOf(WrongUsernameOrPasswordError)
      expect(unknown).toBeInstanceOf(WrongUsernameOrPasswordError)
      expect((unknown as Error).message).toBe((wrong as Error).message)
    })

    it('shares the brute-force counters with login: a blocked pair is refused even with the right password', async () => {
      const { users } = await connect()
      expect(await outcome(users.login({ identifier: 'owner@example.com', password: 'not-the-password-7' }, ctx))).toBe(
        'invalid_user_password',
      )
      expect(await change(users, 'not-the-password-8')).toBe('invalid_user_password')
      expect(await outcome(users.login({ identifier: 'owner@example.com', password: 'not-the-password-9' }, ctx))).toBe(
        'invalid_user_password',
      )
      // Three failures from this IP, whether by login or by password change: the pair is blocked for both.
      const blocked = await users
        .changeOwnPassword({ identifier: 'owner@example.com', currentPassword: OLD, newPassword: NEW }, ctx)
        .catch((e: unknown) => e)
      expect(blocked).toBeInstanceOf(TooManyAttemptsError)
      expect(await outcome(users.login({ identifier: 'owner@example.com', password: OLD }, ctx))).toBe('too_many_attempts')
      // Another IP is another pair.
      expect(await change(users, OLD, NEW, 'owner@example.com', { ip: '198.51.100.32' })).toBe('ok')
    })

    it('a right current password resets the pair, as a successful login does', async () => {
      const { users } = await connect()
      for (let i = 0; i < 2; i++) expect(await change(users, `not-the-password-${i}`)).toBe('invalid_user_password')
      expect(await change(users, OLD)).toBe('ok')
      for (let i = 0; i < 2; i++) expect(await change(users, `not-the-password-${i}`)).toBe('invalid_user_password')
      expect(await change(users, NEW, 'Another-long-phrase-3')).toBe('ok')
    })

    it('needs the end user IP, as login does, and refuses a blocked user', async () => {
      const { users } = await connect()
      await expect(
        // @ts-expect-error the IP is left out on purpose: a compile error on the class, an InvalidInputError at run time
        users.changeOwnPassword({ identifier: 'owner@example.com', currentPassword: OLD, newPassword: NEW }),
      ).rejects.toBeInstanceOf(InvalidInputError)
      await expect(users.changeOwnPassword({ identifier: 'owner@example.com', currentPassword: OLD } as never, ctx)).rejects.toBeInstanceOf(
        InvalidInputError,
      )
      const user = await users.getUser('owner@example.com')
      await users.updateUser(user!.user_id, { blocked: true })
      await expect(
        users.changeOwnPassword({ identifier: 'owner@example.com', currentPassword: OLD, newPassword: NEW }, ctx),
      ).rejects.toBeInstanceOf(UnauthorizedError)
    })
  })
}
