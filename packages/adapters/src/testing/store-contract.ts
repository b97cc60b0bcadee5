// The store contract: every method of every store role, concurrency included, proven on
// any store through the roles' interfaces alone. Latchkey's own dialects run it, and so
// can the author of a store on another database (see storeContract).
import { randomBytes } from 'node:crypto'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { CounterSpec, MigrationImport, NewStoredUser, UserStore } from '@latchkey/core'
import { listStoreMethods } from './store-methods.js'

/** Options of {@link storeContract}. */
export interface StoreContractOptions {
  /** The suite's title. Default 'UserStore contract'. */
  name?: string
}

/**
 * Defines a vitest suite that proves a store keeps the contract of every store role
 * (users, tickets, attack-protection counters, settings): each method's results, its
 * scoping by connection, and its guarantees under concurrency (racing inserts, racing
 * ticket redemptions, counter slots that never overshoot). Its last test fails when a
 * method of a role was never called by a case.
 *
 * `makeStore` opens a store (once for the suite, once more to prove `close`); a store
 * shared by other tests is fine, since every case works in connections of its own.
 *
 * @example
 * // my-store.contract.test.ts
 * import { storeContract } from '@latchkey/adapters/testing'
 * storeContract(() => MyStore.open(process.env.MY_DB_URL), { name: 'MyStore' })
 */
export function storeContract(makeStore: () => UserStore | Promise<UserStore>, options: StoreContractOptions = {}): void {
  describe(options.name ?? 'UserStore contract', () => {
    const called = new Set<string>()
    let store: UserStore
    let conn: string
    beforeAll(async () => {
      store = recordingCalls(await makeStore(), called)
    })
    afterAll(async () => {
      await store?.close()
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

    it('lets exactly one of racing inserts of one email in, and reports the others as email clashes', async () => {
      fresh()
      const email = `race-${conn}@example.com`
      const results = await Promise.all(
        Array.from({ length: 8 }, () => store.insertUser(newUser(conn, { email, email_normalized: email }))),
      )
      expect(results.filter((r) => r.ok)).toHaveLength(1)
      expect(results.flatMap((r) => (r.ok ? [] : [r.conflict]))).toEqual(Array(7).fill('email'))
    })

    it("overwrites a user's profile and credentials, keeping created_at and the login count; refuses a missing user or another's email", async () => {
      fresh()
      const user = newUser(conn, { username: 'before' })
      const other = newUser(conn)
      await store.insertUser(user)
      await store.insertUser(other)
      await store.recordLogin(conn, user.user_id, { at: t0 })
      const t1 = new Date(t0.getTime() + 60_000)
      const email = `after-${conn}@x.io`
      const replaced = {
        ...user,
        email,
        email_normalized: email,
        username: 'after',
        name: 'After',
        password_hash: 'imported',
        created_at: t1,
        updated_at: t1,
      }
      expect(await store.overwriteUser(conn, user.user_id, replaced)).toBe(true)
      const read = await store.findUser(conn, { userId: user.user_id })
      expect(read).toMatchObject({ email_normalized: email, username: 'after', name: 'After', password_hash: 'imported', logins_count: 1 })
      expect(read?.created_at.getTime()).toBe(t0.getTime())
      expect(read?.updated_at.getTime()).toBe(t1.getTime())
      expect(await store.overwriteUser(conn, 'missing', { ...replaced, user_id: 'missing' })).toBe(false)
      expect(await store.overwriteUser(conn, other.user_id, { ...other, email, email_normalized: email, updated_at: t1 })).toBe(false)
      expect((await store.findUser(conn, { userId: other.user_id }))?.email_normalized).toBe(other.email_normalized)
    })

    it('records a login that replaces an imported legacy hash only while it is unchanged (compare-and-set)', async () => {
      fresh()
      const user = newUser(conn, { password_hash: null, legacy_hash: 'legacy:v1' })
      await store.insertUser(user)
      await store.recordLogin(conn, user.user_id, { at: t0, upgradeLegacy: { from: 'legacy:stale', to: 'bcrypt-lost' } })
      expect(await store.findUser(conn, { userId: user.user_id })).toMatchObject({
        password_hash: null,
        legacy_hash: 'legacy:v1',
        logins_count: 1,
      })
      await store.recordLogin(conn, user.user_id, { at: t0, upgradeLegacy: { from: 'legacy:v1', to: 'bcrypt-new' } })
      expect(await store.findUser(conn, { userId: user.user_id })).toMatchObject({
        password_hash: 'bcrypt-new',
        legacy_hash: null,
        logins_count: 2,
      })
    })

    it('imports a migrated user once when raced, with its history and legacy identifiers; a kept identifier stays with its first owner', async () => {
      fresh()
      const user = newUser(conn, { origin: 'migration:login' })
      const ids = [
        { kind: 'email' as const, value: user.email_normalized! },
        { kind: 'id' as const, value: `legacy-${conn}` },
      ]
      const results = await Promise.all(
        Array.from({ length: 5 }, () => store.importUser(user, migration({ historyLimit: 2, legacyIdentifiers: ids }))),
      )
      expect(results.filter((r) => r.ok)).toHaveLength(1)
      // The others clash on a key the user holds; which one a database checks first is its own (SQLite: the email).
      for (const r of results) if (!r.ok) expect(['user_id', 'email']).toContain(r.conflict)
      expect(results.find((r) => r.ok)).toMatchObject({ ok: true, user: { user_id: user.user_id, origin: 'migration:login' } })
      expect(await store.passwordHistory(conn, user.user_id, 5)).toEqual([user.password_hash])
      for (const id of ids) expect(await store.findLegacyIdentifier(conn, id)).toBe(user.user_id)
      expect(await store.findLegacyIdentifier(conn, { kind: 'username', value: 'nobody' })).toBeNull()
      expect(await store.findLegacyIdentifier(uniqueName('other'), ids[1]!)).toBeNull()
      const second = newUser(conn)
      expect((await store.importUser(second, migration({ legacyIdentifiers: [ids[1]!] }))).ok).toBe(true)
      expect(await store.findLegacyIdentifier(conn, ids[1]!)).toBe(user.user_id)
      expect(await store.importUser({ ...newUser(conn), email_normalized: user.email_normalized }, migration())).toEqual({
        ok: false,
        conflict: 'email',
      })
    })

    it('bulk insert into a migrating connection: tombstones refuse, inserted users get their log row and legacy identifiers', async () => {
      fresh()
      const gone = newUser(conn)
      await store.insertUser(gone)
      await store.deleteUserWithTombstone(conn, gone.user_id, { emailNormalized: gone.email_normalized, at: t0 })
      const a = newUser(conn, { username: 'bulk_a' })
      const b = newUser(conn)
      const goneEmail = { ...newUser(conn), email_normalized: gone.email_normalized }
      const at = new Date('2026-01-03T10:00:00.000Z')
      expect(await store.insertUsers([a, gone, b], { flow: 'bulk', at })).toEqual(['inserted', 'tombstone', 'inserted'])
      expect(await store.insertUsers([goneEmail], { flow: 'bulk', at })).toEqual(['tombstone'])
      expect(await store.findUser(conn, { userId: gone.user_id })).toBeNull()
      expect(await store.findLegacyIdentifier(conn, { kind: 'id', value: a.user_id })).toBe(a.user_id)
      expect(await store.findLegacyIdentifier(conn, { kind: 'username', value: 'bulk_a' })).toBe(a.user_id)
      expect(await store.findLegacyIdentifier(conn, { kind: 'email', value: b.email_normalized! })).toBe(b.user_id)
      expect(await store.migrationStats(conn)).toMatchObject({
        byFlow: { bulk: 2 },
        byDay: [{ day: '2026-01-03', count: 2 }],
        tombstones: 1,
      })
    })

    it('deletes a user with a tombstone that refuses a later import by id or by email', async () => {
      fresh()
      const user = newUser(conn)
      await store.insertUser(user, { historyLimit: 2 })
      expect(await store.isTombstoned(conn, { userId: user.user_id })).toBe(false)
      const at = new Date(t0.getTime() + 1000)
      expect(await store.deleteUserWithTombstone(conn, user.user_id, { emailNormalized: user.email_normalized, at })).toBe(true)
      expect(await store.findUser(conn, { userId: user.user_id })).toBeNull()
      expect(await store.passwordHistory(conn, user.user_id, 5)).toEqual([])
      expect(await store.isTombstoned(conn, { userId: user.user_id })).toBe(true)
      expect(await store.isTombstoned(conn, { emailNormalized: user.email_normalized! })).toBe(true)
      expect(await store.isTombstoned(conn, {})).toBe(false)
      expect(await store.isTombstoned(uniqueName('other'), { userId: user.user_id })).toBe(false)
      expect(await store.importUser(user, migration())).toEqual({ ok: false, conflict: 'tombstone' })
      const sameEmail = { ...newUser(conn), email_normalized: user.email_normalized }
      expect(await store.importUser(sameEmail, migration())).toEqual({ ok: false, conflict: 'tombstone' })
      // A user already gone: a second tombstone is no error, and the first one's email stays tombstoned.
      expect(await store.deleteUserWithTombstone(conn, user.user_id, { emailNormalized: null, at })).toBe(false)
      expect(await store.isTombstoned(conn, { emailNormalized: user.email_normalized! })).toBe(true)
      expect((await store.migrationStats(conn)).tombstones).toBe(1)
    })

    it('counts imports by flow and by UTC day, and keeps each conflict once, at its latest time', async () => {
      fresh()
      const day2 = new Date('2026-01-03T23:59:59.999Z')
      await store.importUser(newUser(conn), migration({ flow: 'login', at: t0 }))
      await store.importUser(newUser(conn), migration({ flow: 'login', at: day2 }))
      await store.importUser(newUser(conn), migration({ flow: 'reset', at: day2 }))
      await store.recordMigrationConflict(conn, { legacyId: 'L1', reason: 'email_taken', at: t0 })
      await store.recordMigrationConflict(conn, { legacyId: 'L1', reason: 'email_taken', at: day2 })
      await store.recordMigrationConflict(conn, { legacyId: 'L2', reason: 'email_taken', at: t0 })
      expect(await store.migrationStats(conn)).toEqual({
        byFlow: { login: 2, reset: 1 },
        byDay: [
          { day: '2026-01-02', count: 1 },
          { day: '2026-01-03', count: 2 },
        ],
        tombstones: 0,
        conflicts: [
          { legacyId: 'L1', reason: 'email_taken', at: day2 },
          { legacyId: 'L2', reason: 'email_taken', at: t0 },
        ],
        conflictCount: 2,
      })
      expect(await store.migrationStats(uniqueName('other'))).toEqual({
        byFlow: {},
        byDay: [],
        tombstones: 0,
        conflicts: [],
        conflictCount: 0,
      })
    })

    it('keeps a ticket as given, and of racing redemptions of a verification ticket lets exactly one through', async () => {
      fresh()
      const user = newUser(conn)
      await store.insertUser(user)
      const record = ticket(conn, user, 'verify', tok('race-v' + conn))
      await store.insertTicket(record)
      expect(await store.findTicket(record.token_hash)).toEqual(record)
      expect(await store.findTicket(tok('never-issued' + conn))).toBeNull()
      const results = await Promise.all(Array.from({ length: 6 }, () => store.redeemVerificationTicket(record.token_hash, t0)))
      expect(results.filter((r) => r.result === 'ok')).toHaveLength(1)
      expect((await store.findTicket(record.token_hash))?.used_at?.getTime()).toBe(t0.getTime())
    })

    it('counter slots: of racing takers exactly `capacity` win, and a window frees every slot once it has passed', async () => {
      fresh()
      const spec = windowCounter('k1', 3)
      const results = await Promise.all(Array.from({ length: 8 }, () => store.takeCounterSlot(conn, spec, t0)))
      expect(results.flatMap((r) => (r.ok ? [r.level] : [])).sort((a, b) => a - b)).toEqual([1, 2, 3])
      expect(results.filter((r) => !r.ok)).toEqual(Array(5).fill({ ok: false, retryAfterMs: 60_000 }))
      expect(await store.takeCounterSlot(conn, spec, new Date(t0.getTime() + 20_000))).toEqual({ ok: false, retryAfterMs: 40_000 })
      expect(await store.takeCounterSlot(conn, spec, new Date(t0.getTime() + 60_000))).toEqual({ ok: true, level: 1 })
      expect(await store.takeCounterSlot(uniqueName('other'), spec, t0)).toEqual({ ok: true, level: 1 })
      expect(await store.takeCounterSlot(conn, { ...spec, kind: 'ip' }, t0)).toEqual({ ok: true, level: 1 })
    })

    it("counter slots: one attempt's counters taken at once, each on its own and in order; racing attempts overshoot none", async () => {
      fresh()
      const pair = windowCounter('hashC|198.51.100.2', 2)
      const ip = { ...windowCounter('198.51.100.2', 3), kind: 'ip' }
      const account: CounterSpec = { kind: 'account', key: 'hashC', capacity: 4, mode: 'leak', resetMs: 1000 }
      const first = [
        { ok: true, level: 1 },
        { ok: true, level: 1 },
        { ok: true, level: 1 },
      ]
      expect(await store.takeCounterSlots(conn, [pair, ip, account], t0)).toEqual(first)
      const racing = await Promise.all(Array.from({ length: 5 }, () => store.takeCounterSlots(conn, [pair, ip, account], t0)))
      // Left: one slot of the pair, two of the IP, three of the account.
      expect([0, 1, 2].map((i) => racing.filter((r) => r[i]!.ok).length)).toEqual([1, 2, 3])
      expect(racing.map((r) => r[0]).filter((r) => !r!.ok)).toEqual(Array(4).fill({ ok: false, retryAfterMs: 60_000 }))
      expect(await store.takeCounterSlots(conn, [account], t0)).toEqual([{ ok: false, retryAfterMs: 250 }])
      expect(await store.takeCounterSlots(conn, [], t0)).toEqual([])
    })

    it('counter slots: a leaky bucket drains by capacity per resetMs', async () => {
      fresh()
      const spec: CounterSpec = { kind: 'signup', key: '198.51.100.7', capacity: 4, mode: 'leak', resetMs: 1000 }
      for (let level = 1; level <= 4; level++) expect(await store.takeCounterSlot(conn, spec, t0)).toEqual({ ok: true, level })
      expect(await store.takeCounterSlot(conn, spec, t0)).toEqual({ ok: false, retryAfterMs: 250 })
      expect(await store.takeCounterSlot(conn, spec, new Date(t0.getTime() + 500))).toEqual({ ok: true, level: 3 })
    })

    it('counter slots: settling gives slots back or resets them, several in one call; clearing deletes by key or by prefix', async () => {
      fresh()
      const pair = windowCounter('hashA|198.51.100.1', 2)
      const account = { ...windowCounter('hashA', 2), kind: 'account' }
      for (const spec of [pair, pair, account, account]) await store.takeCounterSlot(conn, spec, t0)
      expect((await store.takeCounterSlot(conn, pair, t0)).ok).toBe(false)
      await store.settleCounters(conn, [
        { kind: pair.kind, key: pair.key, reset: false },
        { kind: account.kind, key: account.key, reset: true },
      ])
      expect(await store.takeCounterSlot(conn, pair, t0)).toEqual({ ok: true, level: 2 })
      expect(await store.takeCounterSlot(conn, account, t0)).toEqual({ ok: true, level: 1 })
      await store.settleCounters(conn, [])
      const pair2 = windowCounter('hashA|203.0.113.9', 2)
      const otherPair = windowCounter('hashB|198.51.100.1', 2)
      for (const spec of [pair2, otherPair]) await store.takeCounterSlot(conn, spec, t0)
      await store.clearCounters(conn, 'pair', { keyPrefix: 'hashA|' })
      expect(await store.takeCounterSlot(conn, pair, t0)).toEqual({ ok: true, level: 1 })
      expect(await store.takeCounterSlot(conn, pair2, t0)).toEqual({ ok: true, level: 1 })
      expect(await store.takeCounterSlot(conn, otherPair, t0)).toEqual({ ok: true, level: 2 })
      await store.clearCounters(conn, 'account', { key: 'hashA' })
      expect(await store.takeCounterSlot(conn, account, t0)).toEqual({ ok: true, level: 1 })
    })

    it('reads, creates and deletes a per-connection setting', async () => {
      fresh()
      expect(await store.getSetting(conn, 'k')).toBeNull()
      expect(await store.getOrCreateSetting(conn, 'k', () => 'v1')).toBe('v1')
      expect(await store.getSetting(conn, 'k')).toBe('v1')
      expect(await store.getSetting(uniqueName('other'), 'k')).toBeNull()
      await store.deleteSetting(conn, 'k')
      expect(await store.getSetting(conn, 'k')).toBeNull()
      await store.deleteSetting(conn, 'k')
      expect(await store.getOrCreateSetting(conn, 'k', () => 'v2')).toBe('v2')
    })

    it('closes a store it opened', async () => {
      const other = recordingCalls(await makeStore(), called)
      await expect(other.close()).resolves.toBeUndefined()
    })

    it('has called every method of every store role', () => {
      const missing = listStoreMethods().filter(({ method }) => !called.has(method))
      expect(missing, 'store methods no contract case calls').toEqual([])
    })
  })
}

/** The store, recording the name of every method called on it. */
function recordingCalls(store: UserStore, called: Set<string>): UserStore {
  return new Proxy(store, {
    get(target, property) {
      const value: unknown = Reflect.get(target, property, target)
      if (typeof value !== 'function') return value
      return (...args: unknown[]) => {
        called.add(String(property))
        return (value as (...a: unknown[]) => unknown).apply(target, args)
      }
    },
  })
}

/** Connection names scope everything in a store, so the cases never see each other's rows. */
const uniqueName = (prefix: string) => `${prefix}-${randomBytes(6).toString('hex')}`

const t0 = new Date('2026-01-02T03:04:05.678Z')
// Token hashes are global keys in a shared database: make each one unique.
const migration = (overrides: Partial<MigrationImport> = {}): MigrationImport => ({
  flow: 'login',
  at: t0,
  historyLimit: 0,
  legacyIdentifiers: [],
  ...overrides,
})
const windowCounter = (key: string, capacity: number): CounterSpec => ({ kind: 'pair', key, capacity, mode: 'window', resetMs: 60_000 })
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
