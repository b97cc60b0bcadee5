// The UserStore contract suite: every store feature, proven on every dialect in DIALECTS.
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { randomBytes } from 'node:crypto'
import type { NewStoredUser, UserStore } from '@latchkey/core'
import { DIALECTS, openTestStore, uniqueName } from './support/dialects.js'

const t0 = new Date('2026-01-02T03:04:05.678Z')
// Token hashes are global keys in a shared test database: make each one unique.
const tokens = new Map<string, string>()
const tok = (label: string) => {
  if (!tokens.has(label)) tokens.set(label, randomBytes(32).toString('hex'))
  return tokens.get(label)!
}

function newUser(connection: string, overrides: Partial<NewStoredUser> = {}): NewStoredUser {
  const id = uniqueName('u')
  return {
    connection,
    user_id: id,
    email: `${id}@Example.com`,
    email_normalized: `${id}@example.com`,
    email_verified: false,
    username: null,
    password_hash: '$2b$04$abcdefghijklmnopqrstuu5xiSYf3D8hxtQmHK4Z1pEUW9Mhpsny',
    legacy_hash: null,
    name: null,
    given_name: null,
    family_name: null,
    nickname: null,
    picture: null,
    user_metadata: {},
    app_metadata: {},
    blocked: false,
    created_at: t0,
    updated_at: t0,
    origin: 'signup',
    ...overrides,
  }
}

for (const dialect of DIALECTS) {
  describe(`UserStore contract on ${dialect}`, () => {
    let store: UserStore & { close(): Promise<void> }
    let conn: string
    beforeAll(async () => {
      store = await openTestStore(dialect)
    })
    afterAll(async () => {
      await store.close()
    })
    const fresh = () => (conn = uniqueName('c'))

    it('inserts and finds a user by id, email and username, with exact timestamps', async () => {
      fresh()
      const user = newUser(conn, { username: 'ada', user_metadata: { emoji: '🦄', nested: { a: [1, 2] } } })
      const result = await store.insertUser(user)
      expect(result.ok).toBe(true)
      const byId = await store.findUser(conn, { userId: user.user_id })
      expect(byId).toMatchObject({ user_id: user.user_id, email: user.email, username: 'ada', logins_count: 0, blocked: false })
      expect(byId?.created_at.toISOString()).toBe('2026-01-02T03:04:05.678Z')
      expect(byId?.user_metadata).toEqual({ emoji: '🦄', nested: { a: [1, 2] } })
      expect((await store.findUser(conn, { emailNormalized: user.email_normalized! }))?.user_id).toBe(user.user_id)
      expect((await store.findUser(conn, { username: 'ada' }))?.user_id).toBe(user.user_id)
      expect(await store.findUser(conn, { username: 'nobody' })).toBeNull()
    })

    it('scopes users by connection', async () => {
      fresh()
      const user = newUser(conn)
      await store.insertUser(user)
      expect(await store.findUser(uniqueName('other'), { userId: user.user_id })).toBeNull()
      const twin = await store.insertUser({ ...user, connection: uniqueName('other') })
      expect(twin.ok).toBe(true)
    })

    it('reports unique clashes on user_id, email and username without throwing', async () => {
      fresh()
      const user = newUser(conn, { username: 'grace' })
      await store.insertUser(user)
      expect(await store.insertUser({ ...newUser(conn), user_id: user.user_id })).toEqual({ ok: false, conflict: 'user_id' })
      expect(await store.insertUser({ ...newUser(conn), email_normalized: user.email_normalized })).toEqual({
        ok: false,
        conflict: 'email',
      })
      expect(await store.insertUser(newUser(conn, { username: 'grace' }))).toEqual({ ok: false, conflict: 'username' })
    })

    it('keeps emails that differ only by an accent distinct (byte comparison)', async () => {
      fresh()
      const a = await store.insertUser(newUser(conn, { email: 'josé@x.io', email_normalized: 'josé@x.io' }))
      const b = await store.insertUser(newUser(conn, { email: 'jose@x.io', email_normalized: 'jose@x.io' }))
      expect(a.ok && b.ok).toBe(true)
      expect((await store.findUser(conn, { emailNormalized: 'josé@x.io' }))?.email).toBe('josé@x.io')
      expect((await store.findUser(conn, { emailNormalized: 'jose@x.io' }))?.email).toBe('jose@x.io')
      expect(await store.findUser(conn, { emailNormalized: 'JOSE@x.io' })).toBeNull()
    })

    it('allows many users without email or username', async () => {
      fresh()
      for (let i = 0; i < 3; i++) {
        expect((await store.insertUser(newUser(conn, { email: null, email_normalized: null }))).ok).toBe(true)
      }
    })

    it('applies a profile patch and reports a missing user as null', async () => {
      fresh()
      const user = newUser(conn)
      await store.insertUser(user)
      const t1 = new Date(t0.getTime() + 1000)
      const updated = await store.updateUser(conn, user.user_id, {
        at: t1,
        name: 'Ada',
        blocked: true,
        app_metadata: { roles: ['admin'] },
        email_verified: true,
      })
      expect(updated).toMatchObject({ name: 'Ada', blocked: true, app_metadata: { roles: ['admin'] }, email_verified: true })
      expect(updated?.updated_at.getTime()).toBe(t1.getTime())
      expect(await store.updateUser(conn, 'missing', { at: t1, name: 'x' })).toBeNull()
    })

    it('records logins and rehashes only when the hash is unchanged (compare-and-set)', async () => {
      fresh()
      const user = newUser(conn)
      await store.insertUser(user)
      const at = new Date(t0.getTime() + 5000)
      await store.recordLogin(conn, user.user_id, { at, rehash: { from: user.password_hash!, to: 'new-hash' } })
      let read = await store.findUser(conn, { userId: user.user_id })
      expect(read).toMatchObject({ logins_count: 1, password_hash: 'new-hash' })
      expect(read?.last_login?.getTime()).toBe(at.getTime())
      await store.recordLogin(conn, user.user_id, { at, rehash: { from: 'stale-hash', to: 'lost-update' } })
      read = await store.findUser(conn, { userId: user.user_id })
      expect(read).toMatchObject({ logins_count: 2, password_hash: 'new-hash' })
    })

    it('sets a password, keeps exactly the last n hashes and voids open reset tickets', async () => {
      fresh()
      const user = newUser(conn)
      await store.insertUser(user, { historyLimit: 3 })
      expect(await store.passwordHistory(conn, user.user_id, 3)).toEqual([user.password_hash])
      await store.insertTicket(ticket(conn, user, 'reset', tok('a' + conn)))
      for (let i = 1; i <= 4; i++) {
        expect(await store.setPassword(conn, user.user_id, { hash: `h${i}`, at: new Date(t0.getTime() + i), historyLimit: 3 })).toBe('ok')
      }
      expect(await store.passwordHistory(conn, user.user_id, 3)).toEqual(['h4', 'h3', 'h2'])
      expect(await store.passwordHistory(conn, user.user_id, 10)).toEqual(['h4', 'h3', 'h2'])
      expect((await store.findUser(conn, { userId: user.user_id }))?.password_hash).toBe('h4')
      expect((await store.findTicket(tok('a' + conn)))?.used_at).not.toBeNull()
      expect(await store.setPassword(conn, 'missing', { hash: 'x', at: t0, historyLimit: 0 })).toBe('no_user')
    })

    it('consumes a reset ticket once, in the password transaction', async () => {
      fresh()
      const user = newUser(conn)
      await store.insertUser(user)
      const hash = tok('b' + conn)
      await store.insertTicket(ticket(conn, user, 'reset', hash))
      const at = new Date(t0.getTime() + 10)
      const results = await Promise.all(
        Array.from({ length: 5 }, (_, i) =>
          store.setPassword(conn, user.user_id, { hash: `race${i}`, at, historyLimit: 0, ticket: { tokenHash: hash } }),
        ),
      )
      expect(results.filter((r) => r === 'ok')).toHaveLength(1)
      expect(results.filter((r) => r === 'invalid_ticket')).toHaveLength(4)
      const read = await store.findUser(conn, { userId: user.user_id })
      expect(read?.last_password_reset?.getTime()).toBe(at.getTime())
      expect(read?.password_hash).toMatch(/^race\d$/)
    })

    it('refuses an expired reset ticket and writes nothing', async () => {
      fresh()
      const user = newUser(conn)
      await store.insertUser(user)
      const hash = tok('c' + conn)
      await store.insertTicket({ ...ticket(conn, user, 'reset', hash), expires_at: new Date(t0.getTime() + 1) })
      expect(
        await store.setPassword(conn, user.user_id, {
          hash: 'late',
          at: new Date(t0.getTime() + 2),
          historyLimit: 0,
          ticket: { tokenHash: hash },
        }),
      ).toBe('invalid_ticket')
      expect((await store.findUser(conn, { userId: user.user_id }))?.password_hash).toBe(user.password_hash)
    })

    it('changes an email, voids reset tickets and reports clashes', async () => {
      fresh()
      const a = newUser(conn)
      const b = newUser(conn)
      await store.insertUser(a)
      await store.insertUser(b)
      await store.insertTicket(ticket(conn, a, 'reset', tok('d' + conn)))
      expect(await store.changeEmail(conn, a.user_id, { email: 'New@x.io', emailNormalized: 'new@x.io', verified: true, at: t0 })).toBe(
        'ok',
      )
      expect(await store.findUser(conn, { emailNormalized: 'new@x.io' })).toMatchObject({
        user_id: a.user_id,
        email: 'New@x.io',
        email_verified: true,
      })
      expect((await store.findTicket(tok('d' + conn)))?.used_at).not.toBeNull()
      expect(await store.changeEmail(conn, b.user_id, { email: 'new@x.io', emailNormalized: 'new@x.io', verified: false, at: t0 })).toBe(
        'conflict',
      )
      expect(await store.changeEmail(conn, 'missing', { email: 'z@x.io', emailNormalized: 'z@x.io', verified: false, at: t0 })).toBe(
        'no_user',
      )
    })

    it('redeems a verification ticket only for the email it was issued for', async () => {
      fresh()
      const user = newUser(conn)
      await store.insertUser(user)
      await store.insertTicket(ticket(conn, user, 'verify', tok('e' + conn)))
      await store.insertTicket(ticket(conn, user, 'verify', tok('f' + conn)))
      const ok = await store.redeemVerificationTicket(tok('e' + conn), t0)
      expect(ok.result).toBe('ok')
      expect(ok.result === 'ok' && ok.user.email_verified).toBe(true)
      expect((await store.redeemVerificationTicket(tok('e' + conn), t0)).result).toBe('invalid_ticket')
      await store.changeEmail(conn, user.user_id, { email: 'moved@x.io', emailNormalized: 'moved@x.io', verified: false, at: t0 })
      expect((await store.redeemVerificationTicket(tok('f' + conn), t0)).result).toBe('invalid_ticket')
      expect((await store.findUser(conn, { userId: user.user_id }))?.email_verified).toBe(false)
    })

    it('voids every open ticket of a user on a credential or email change, so an email round trip revives none', async () => {
      fresh()
      const user = newUser(conn)
      await store.insertUser(user)
      const open = (label: string, purpose: 'reset' | 'verify') => store.insertTicket(ticket(conn, user, purpose, tok(label + conn)))
      await open('rt-v', 'verify')
      await open('rt-r', 'reset')
      const back = { email: user.email!, emailNormalized: user.email_normalized!, verified: false }
      await store.changeEmail(conn, user.user_id, { email: 'b@x.io', emailNormalized: 'b@x.io', verified: false, at: t0 })
      await store.changeEmail(conn, user.user_id, { ...back, at: t0 }) // A → B → A
      expect((await store.redeemVerificationTicket(tok('rt-v' + conn), t0)).result).toBe('invalid_ticket')
      expect(
        await store.setPassword(conn, user.user_id, { hash: 'h', at: t0, historyLimit: 0, ticket: { tokenHash: tok('rt-r' + conn) } }),
      ).toBe('invalid_ticket')
      await open('pw-v', 'verify')
      expect(await store.setPassword(conn, user.user_id, { hash: 'h2', at: t0, historyLimit: 0 })).toBe('ok')
      expect((await store.redeemVerificationTicket(tok('pw-v' + conn), t0)).result).toBe('invalid_ticket')
      await open('ow-r', 'reset')
      await open('ow-v', 'verify')
      expect(await store.overwriteUser(conn, user.user_id, { ...user, password_hash: 'imported', updated_at: t0 })).toBe(true)
      expect((await store.findTicket(tok('ow-r' + conn)))?.used_at).not.toBeNull()
      expect((await store.findTicket(tok('ow-v' + conn)))?.used_at).not.toBeNull()
    })

    it('consumes a ticket once under concurrency, and can release it', async () => {
      fresh()
      const user = newUser(conn)
      await store.insertUser(user)
      const hash = tok('g' + conn)
      await store.insertTicket(ticket(conn, user, 'reset', hash))
      const at = new Date(t0.getTime() + 5)
      const results = await Promise.all(Array.from({ length: 6 }, () => store.consumeTicket(hash, at)))
      expect(results.filter(Boolean)).toHaveLength(1)
      await store.releaseTicket(hash, at)
      expect(await store.consumeTicket(hash, at)).toBe(true)
      expect(await store.consumeTicket(hash, new Date(t0.getTime() + 86_400_001))).toBe(false)
    })

    it("voids the open tickets of a user, or of an email, and no one else's", async () => {
      fresh()
      const a = newUser(conn)
      const b = newUser(conn)
      for (const u of [a, b]) await store.insertUser(u)
      await store.insertTicket(ticket(conn, a, 'reset', tok('vt-a1' + conn)))
      await store.insertTicket(ticket(conn, a, 'verify', tok('vt-a2' + conn)))
      await store.insertTicket(ticket(conn, b, 'reset', tok('vt-b' + conn)))
      const at = new Date(t0.getTime() + 7)
      await store.voidTickets(conn, { emailNormalized: a.email_normalized! }, at)
      expect((await store.findTicket(tok('vt-a1' + conn)))?.used_at?.getTime()).toBe(at.getTime())
      expect((await store.findTicket(tok('vt-a2' + conn)))?.used_at?.getTime()).toBe(at.getTime())
      expect((await store.findTicket(tok('vt-b' + conn)))?.used_at).toBeNull()
      await store.voidTickets(uniqueName('other'), { userId: b.user_id }, at)
      expect((await store.findTicket(tok('vt-b' + conn)))?.used_at).toBeNull()
      await store.voidTickets(conn, { userId: b.user_id }, at)
      expect(await store.consumeTicket(tok('vt-b' + conn), at)).toBe(false)
    })

    it('deletes a user with their history and their tickets; the same user_id and email re-inserted revive none', async () => {
      fresh()
      const user = newUser(conn)
      await store.insertUser(user, { historyLimit: 2 })
      await store.insertTicket(ticket(conn, user, 'reset', tok('del-r' + conn)))
      await store.insertTicket(ticket(conn, user, 'verify', tok('del-v' + conn)))
      expect(await store.deleteUser(conn, user.user_id)).toBe(true)
      expect(await store.findUser(conn, { userId: user.user_id })).toBeNull()
      expect(await store.passwordHistory(conn, user.user_id, 5)).toEqual([])
      expect(await store.findTicket(tok('del-r' + conn))).toBeNull()
      expect(await store.deleteUser(conn, user.user_id)).toBe(false)
      expect(await store.insertUsers([user])).toEqual(['inserted'])
      expect(
        await store.setPassword(conn, user.user_id, { hash: 'h', at: t0, historyLimit: 0, ticket: { tokenHash: tok('del-r' + conn) } }),
      ).toBe('invalid_ticket')
      expect((await store.redeemVerificationTicket(tok('del-v' + conn), t0)).result).toBe('invalid_ticket')
    })

    it("bulk insert: a record with one user's user_id and another's email is a user_id clash, on every dialect", async () => {
      fresh()
      const x = newUser(conn)
      const y = newUser(conn)
      await store.insertUsers([x, y])
      expect(
        await store.insertUsers([{ ...newUser(conn), user_id: x.user_id, email: y.email, email_normalized: y.email_normalized }]),
      ).toEqual(['user_id'])
      expect(await store.insertUsers([{ ...newUser(conn), email: y.email, email_normalized: y.email_normalized, username: 'yy' }])).toEqual(
        ['email'],
      )
    })

    it('bulk insert: two records of one batch with the same user_id, email or username: the later ones are clashes', async () => {
      fresh()
      const a = newUser(conn, { username: 'first' })
      const sameId = { ...newUser(conn), user_id: a.user_id }
      const sameEmail = { ...newUser(conn), email_normalized: a.email_normalized }
      const sameName = newUser(conn, { username: 'first' })
      const b = newUser(conn)
      expect(await store.insertUsers([a, sameId, sameEmail, sameName, b])).toEqual(['inserted', 'user_id', 'email', 'username', 'inserted'])
      expect((await store.findUser(conn, { userId: a.user_id }))?.email_normalized).toBe(a.email_normalized)
    })

    it('bulk insert: batches larger than one multi-row statement, racing each other, insert every user exactly once', async () => {
      fresh()
      // 1,200 users, mostly new, some stored already; three overlapping batches at once.
      const users = Array.from({ length: 1200 }, (_, i) => newUser(conn, i % 7 === 0 ? { username: `n${i}` } : {}))
      expect(await store.insertUsers(users.slice(0, 50))).toEqual(users.slice(0, 50).map(() => 'inserted'))
      const batches = [users.slice(0, 800), users.slice(400, 1200), users.slice(200, 1000)]
      const outcomes = await Promise.all(batches.map((batch) => store.insertUsers(batch)))
      const inserted = new Map<string, number>()
      for (const [b, batch] of outcomes.entries()) {
        for (const [i, outcome] of batch.entries()) {
          expect(['inserted', 'user_id']).toContain(outcome)
          if (outcome === 'inserted') inserted.set(batches[b]![i]!.user_id, (inserted.get(batches[b]![i]!.user_id) ?? 0) + 1)
        }
      }
      expect(inserted.size).toBe(1150)
      expect([...inserted.values()].every((n) => n === 1)).toBe(true)
      for (const user of [users[0]!, users[777]!, users[1199]!])
        expect((await store.findUser(conn, { userId: user.user_id }))?.email_normalized).toBe(user.email_normalized)
    })

    it('names a username clash by its constraint, even for the username "email"', async () => {
      fresh()
      await store.insertUser(newUser(conn, { username: 'email' }))
      expect(await store.insertUser(newUser(conn, { username: 'email' }))).toEqual({ ok: false, conflict: 'username' })
      expect(await store.insertUsers([newUser(conn, { username: 'email' })])).toEqual(['username'])
      await store.insertUser(newUser(conn, { username: 'user_id' }))
      expect(await store.insertUser(newUser(conn, { username: 'user_id' }))).toEqual({ ok: false, conflict: 'username' })
    })

    it('creates a per-connection setting once, even when raced', async () => {
      fresh()
      let calls = 0
      const values = await Promise.all(Array.from({ length: 8 }, () => store.getOrCreateSetting(conn, 'k', () => `v${++calls}`)))
      expect(new Set(values).size).toBe(1)
      expect(await store.getOrCreateSetting(conn, 'k', () => 'never')).toBe(values[0])
      expect(await store.getOrCreateSetting(uniqueName('other'), 'k', () => 'theirs')).toBe('theirs')
    })
  })
}

function ticket(connection: string, user: NewStoredUser, purpose: 'reset' | 'verify', tokenHash: string) {
  return {
    token_hash: tokenHash,
    connection,
    purpose,
    user_id: user.user_id,
    email_normalized: user.email_normalized!,
    legacy_id: null,
    created_at: t0,
    expires_at: new Date(t0.getTime() + 86_400_000),
    used_at: null,
  }
}
