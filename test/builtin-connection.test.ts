// BuiltinConnection's core flows, on every dialect in DIALECTS.
import { afterAll, describe, expect, it } from 'vitest'
import {
  BuiltinConnection,
  closeHashPool,
  InvalidInputError,
  PasswordPolicyError,
  UnauthorizedError,
  UserExistsError,
  UserNotFoundError,
  WrongUsernameOrPasswordError,
  type BuiltinConnectionOptions,
} from '@latchkey/core'
import type { OpenedStore } from '@latchkey/adapters'
import { DIALECTS, uniqueName } from './support/dialects.js'
import { withTestStore } from './support/test-store.js'
import { eventLog } from './support/events.js'
import { TEST_COST } from './support/test-cost.js'

const ctx = { ip: '198.51.100.1' }

afterAll(async () => {
  await closeHashPool()
})

for (const dialect of DIALECTS) {
  describe(`BuiltinConnection on ${dialect}`, () => {
    let store: OpenedStore
    withTestStore(dialect, (s) => (store = s))

    const connect = (opts: Partial<BuiltinConnectionOptions> = {}) => {
      const log = eventLog()
      const connection = new BuiltinConnection({ name: uniqueName('b'), store, ...TEST_COST, onEvent: log.onEvent, ...opts })
      return { connection, log }
    }

    it('signs up and logs in by email, case-insensitively, and by username', async () => {
      const { connection, log } = connect()
      const created = await connection.signup({ email: '  Ada@Example.COM ', password: 'correct horse battery', username: 'Ada_L' }, ctx)
      expect(created).toMatchObject({ email: 'Ada@Example.COM', username: 'ada_l', email_verified: false, logins_count: 0 })
      expect(created).not.toHaveProperty('password_hash')
      const byEmail = await connection.login({ identifier: 'ada@example.com', password: 'correct horse battery' }, ctx)
      expect(byEmail.user_id).toBe(created.user_id)
      expect(byEmail.logins_count).toBe(1)
      const byUsername = await connection.login({ identifier: 'ADA_l', password: 'correct horse battery' }, ctx)
      expect(byUsername.logins_count).toBe(2)
      expect(log.types()).toEqual(['ss', 's', 's'])
      expect(log.events[0]).toMatchObject({ connection: connection.name, user_id: created.user_id, ip: ctx.ip })
    })

    it('gives the same error for an unknown user and a wrong password, with fu and fp events', async () => {
      const { connection, log } = connect()
      await connection.signup({ email: 'grace@example.com', password: 'cobol-1959-grace' }, ctx)
      const unknown = await connection
        .login({ identifier: 'nobody@example.com', password: 'cobol-1959-grace' }, ctx)
        .catch((e: unknown) => e)
      const wrong = await connection
        .login({ identifier: 'grace@example.com', password: 'fortran-1957-wrong' }, ctx)
        .catch((e: unknown) => e)
      expect(unknown).toBeInstanceOf(WrongUsernameOrPasswordError)
      expect(wrong).toBeInstanceOf(WrongUsernameOrPasswordError)
      expect((unknown as Error).message).toBe((wrong as Error).message)
      expect((unknown as WrongUsernameOrPasswordError).code).toBe('invalid_user_password')
      expect(log.types()).toEqual(['ss', 'fu', 'fp'])
      const fu = log.events[1]!
      expect(fu.identifier_hash).toMatch(/^[0-9a-f]{32}$/)
      expect(JSON.stringify(log.events)).not.toContain('nobody@example.com')
      expect(JSON.stringify(log.events)).not.toContain('cobol-1959-grace')
    })

    it('hashes identifiers with a key shared by every connection object of that name', async () => {
      const { connection } = connect()
      const twin = new BuiltinConnection({ name: connection.name, store, ...TEST_COST })
      expect(await connection.hashIdentifier('Someone@Example.com')).toBe(await twin.hashIdentifier('someone@example.com'))
      const other = connect().connection
      expect(await other.hashIdentifier('someone@example.com')).not.toBe(await connection.hashIdentifier('someone@example.com'))
    })

    it('refuses a duplicate email or username with UserExistsError and an fs event', async () => {
      const { connection, log } = connect()
      await connection.signup({ email: 'dup@example.com', password: 'pw-Tr0ub4dor-42', username: 'dup' }, ctx)
      await expect(connection.signup({ email: 'DUP@example.com', password: 'pw-Tr0ub4dor-42' }, ctx)).rejects.toBeInstanceOf(
        UserExistsError,
      )
      await expect(connection.signup({ email: 'other@example.com', password: 'pw-Tr0ub4dor-42', username: 'DUP' }, ctx)).rejects.toThrow(
        'username',
      )
      expect(log.types()).toEqual(['ss', 'fs', 'fs'])
    })

    it('lets exactly one of 20 concurrent signups of one email succeed', async () => {
      const { connection } = connect()
      const results = await Promise.allSettled(
        Array.from({ length: 20 }, (_, i) =>
          connection.signup({ email: 'race@example.com', password: `race-Tr0ub4dor-${i}` }, { ip: `198.51.100.${i + 10}` }),
        ),
      )
      expect(results.filter((r) => r.status === 'fulfilled')).toHaveLength(1)
      for (const r of results) if (r.status === 'rejected') expect(r.reason).toBeInstanceOf(UserExistsError)
    })

    it('blocks a blocked user only after a right password', async () => {
      const { connection, log } = connect()
      const user = await connection.signup({ email: 'blocked@example.com', password: 'right-Tr0ub4dor-7' }, ctx)
      await connection.updateUser(user.user_id, { blocked: true })
      await expect(connection.login({ identifier: 'blocked@example.com', password: 'wrong-Tr0ub4dor-7' }, ctx)).rejects.toBeInstanceOf(
        WrongUsernameOrPasswordError,
      )
      const error = await connection
        .login({ identifier: 'blocked@example.com', password: 'right-Tr0ub4dor-7' }, ctx)
        .catch((e: unknown) => e)
      expect(error).toBeInstanceOf(UnauthorizedError)
      expect((error as UnauthorizedError).message).toBe('user is blocked')
      expect(log.types().slice(-2)).toEqual(['fp', 'f'])
      await connection.updateUser(user.user_id, { blocked: false })
      await expect(connection.login({ identifier: 'blocked@example.com', password: 'right-Tr0ub4dor-7' }, ctx)).resolves.toMatchObject({
        blocked: false,
      })
    })

    it('never accepts app_metadata at signup; updateUser sets it', async () => {
      const { connection } = connect()
      await expect(
        connection.signup({ email: 'x@example.com', password: 'pw-Tr0ub4dor-42', app_metadata: { roles: ['admin'] } } as never, ctx),
      ).rejects.toBeInstanceOf(InvalidInputError)
      const user = await connection.signup({ email: 'x@example.com', password: 'pw-Tr0ub4dor-42', user_metadata: { theme: 'dark' } }, ctx)
      const updated = await connection.updateUser(user.user_id, { app_metadata: { roles: ['admin'] }, name: 'X', nickname: null })
      expect(updated).toMatchObject({ app_metadata: { roles: ['admin'] }, user_metadata: { theme: 'dark' }, name: 'X' })
      expect(await connection.getUserById(user.user_id)).toMatchObject({ app_metadata: { roles: ['admin'] } })
      await expect(connection.updateUser('missing', { name: 'x' })).rejects.toBeInstanceOf(UserNotFoundError)
    })

    it('gets users by email, username and id, or null', async () => {
      const { connection } = connect()
      const user = await connection.signup({ email: 'find@example.com', password: 'pw-Tr0ub4dor-42', username: 'finder' }, ctx)
      expect((await connection.getUser('FIND@example.com'))?.user_id).toBe(user.user_id)
      expect((await connection.getUser('Finder'))?.user_id).toBe(user.user_id)
      expect((await connection.getUserById(user.user_id))?.email).toBe('find@example.com')
      expect(await connection.getUser('nobody@example.com')).toBeNull()
      expect(await connection.getUser('has space')).toBeNull()
      expect(await connection.getUserById('missing')).toBeNull()
    })

    it('changes a password: the old one stops working and an scp event fires', async () => {
      const { connection, log } = connect()
      await connection.signup({ email: 'cp@example.com', password: 'old-password-Xq7' }, ctx)
      await connection.changePassword('cp@example.com', 'new-password-Xq7', ctx)
      await expect(connection.login({ identifier: 'cp@example.com', password: 'old-password-Xq7' }, ctx)).rejects.toBeInstanceOf(
        WrongUsernameOrPasswordError,
      )
      await expect(connection.login({ identifier: 'cp@example.com', password: 'new-password-Xq7' }, ctx)).resolves.toBeTruthy()
      await expect(connection.changePassword('nobody@example.com', 'x', ctx)).rejects.toBeInstanceOf(UserNotFoundError)
      expect(log.types()).toEqual(['ss', 'scp', 'fp', 's', 'fcp'])
    })

    it('verifies and changes emails', async () => {
      const { connection, log } = connect()
      const a = await connection.signup({ email: 'a@example.com', password: 'pw-Tr0ub4dor-42' }, ctx)
      await connection.signup({ email: 'b@example.com', password: 'pw-Tr0ub4dor-42' }, ctx)
      await connection.verifyEmail('A@example.com')
      expect((await connection.getUserById(a.user_id))?.email_verified).toBe(true)
      await connection.changeEmail('a@example.com', 'A2@example.com')
      expect(await connection.getUserById(a.user_id)).toMatchObject({ email: 'A2@example.com', email_verified: false })
      await connection.changeEmail('a2@example.com', 'a3@example.com', { verified: true })
      expect(await connection.getUserById(a.user_id)).toMatchObject({ email: 'a3@example.com', email_verified: true })
      await expect(connection.changeEmail('a3@example.com', 'B@example.com')).rejects.toBeInstanceOf(UserExistsError)
      await expect(connection.changeEmail('nobody@example.com', 'z@example.com')).rejects.toBeInstanceOf(UserNotFoundError)
      await expect(connection.verifyEmail('nobody@example.com')).rejects.toBeInstanceOf(UserNotFoundError)
      await expect(connection.login({ identifier: 'a3@example.com', password: 'pw-Tr0ub4dor-42' }, ctx)).resolves.toBeTruthy()
      expect(log.types()).toEqual(['ss', 'ss', 'sv', 'sce', 'sce', 's'])
    })

    it('deletes a user', async () => {
      const { connection, log } = connect()
      const user = await connection.signup({ email: 'del@example.com', password: 'pw-Tr0ub4dor-42' }, ctx)
      await connection.deleteUser(user.user_id)
      expect(await connection.getUserById(user.user_id)).toBeNull()
      await expect(connection.deleteUser(user.user_id)).rejects.toBeInstanceOf(UserNotFoundError)
      await expect(connection.login({ identifier: 'del@example.com', password: 'pw-Tr0ub4dor-42' }, ctx)).rejects.toBeInstanceOf(
        WrongUsernameOrPasswordError,
      )
      expect(log.types()).toEqual(['ss', 'du', 'fu'])
    })

    it('requires a username when the connection says so, within its maximum length', async () => {
      const { connection } = connect({ requireUsername: true, usernameMaxLength: 20 })
      await expect(connection.signup({ email: 'u@example.com', password: 'pw-Tr0ub4dor-42' }, ctx)).rejects.toBeInstanceOf(
        InvalidInputError,
      )
      await expect(
        connection.signup({ email: 'u@example.com', password: 'pw-Tr0ub4dor-42', username: 'a'.repeat(20) }, ctx),
      ).resolves.toBeTruthy()
      await expect(
        connection.signup({ email: 'v@example.com', password: 'pw-Tr0ub4dor-42', username: 'b'.repeat(21) }, ctx),
      ).rejects.toBeInstanceOf(InvalidInputError)
    })

    it('refuses a password over 72 bytes when set, and fails such a login without truncating', async () => {
      const { connection } = connect()
      const long = 'é'.repeat(37) // 74 bytes of UTF-8, 37 code points
      const error = await connection.signup({ email: 'long@example.com', password: long }, ctx).catch((e: unknown) => e)
      expect(error).toBeInstanceOf(PasswordPolicyError)
      expect((error as PasswordPolicyError).rules).toContainEqual(expect.objectContaining({ id: 'max_bytes', verified: false }))
      const fits = 'x'.repeat(72)
      await connection.signup({ email: 'long@example.com', password: fits }, ctx)
      await expect(connection.login({ identifier: 'long@example.com', password: fits }, ctx)).resolves.toBeTruthy()
      // bcrypt alone would accept this: it reads only the first 72 bytes.
      await expect(connection.login({ identifier: 'long@example.com', password: `${fits}suffix` }, ctx)).rejects.toBeInstanceOf(
        WrongUsernameOrPasswordError,
      )
      await expect(connection.changePassword('long@example.com', 'y'.repeat(73), ctx)).rejects.toBeInstanceOf(PasswordPolicyError)
    })

    it('NFKC-normalises passwords before hashing and comparing', async () => {
      const { connection } = connect()
      // U+FB01 LATIN SMALL LIGATURE FI normalises to "fi"; U+2168 ROMAN NUMERAL NINE to "IX".
      await connection.signup({ email: 'nfkc@example.com', password: 'ﬁnal-Ⅸ-of-the-engine' }, ctx)
      await expect(connection.login({ identifier: 'nfkc@example.com', password: 'final-IX-of-the-engine' }, ctx)).resolves.toBeTruthy()
      await expect(connection.login({ identifier: 'nfkc@example.com', password: 'ﬁnal-Ⅸ-of-the-engine' }, ctx)).resolves.toBeTruthy()
      // Composed and decomposed é are one password.
      await connection.changePassword('nfkc@example.com', 'caf\u00e9-au-lait-42', ctx)
      await expect(connection.login({ identifier: 'nfkc@example.com', password: 'cafe\u0301-au-lait-42' }, ctx)).resolves.toBeTruthy()
    })

    it('re-hashes a hash of a lower cost on the next successful login, and never lowers one', async () => {
      const old = connect({ ...TEST_COST })
      await old.connection.signup({ email: 'cost@example.com', password: 'pw-Tr0ub4dor-42' }, ctx)
      const stronger = new BuiltinConnection({ name: old.connection.name, store, ...TEST_COST, bcryptCost: 5, onEvent: old.log.onEvent })
      const user = await stronger.login({ identifier: 'cost@example.com', password: 'pw-Tr0ub4dor-42' }, ctx)
      const stored = await store.findUser(old.connection.name, { userId: user.user_id })
      expect(stored?.password_hash).toMatch(/^\$2b\$05\$/)
      expect(old.log.events.at(-1)).toMatchObject({ type: 's', details: { rehashed: true } })
      await expect(stronger.login({ identifier: 'cost@example.com', password: 'pw-Tr0ub4dor-42' }, ctx)).resolves.toBeTruthy()
      expect(old.log.events.at(-1)?.details).toBeUndefined()
      // A connection of a lower cost (an old process still running) keeps the stronger hash as it is.
      await old.connection.login({ identifier: 'cost@example.com', password: 'pw-Tr0ub4dor-42' }, ctx)
      expect(old.log.events.at(-1)?.details).toBeUndefined()
      expect((await store.findUser(old.connection.name, { userId: user.user_id }))?.password_hash).toBe(stored?.password_hash)
    })
  })
}
