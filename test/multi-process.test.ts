// Several Node processes sharing one database race on the operations where identity
// systems lose data. Runs on every dialect in DIALECTS; each process has its own pool.
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { BuiltinConnection, closeHashPool } from '@latchkey/core'
import { openStore, type OpenedStore } from '@latchkey/adapters'
import { DIALECTS, freshDatabaseUrl, storeUrl, uniqueName } from './support/dialects.js'
import { race } from './support/race.js'
import { TEST_COST } from './support/test-cost.js'

const PROCESSES = 3
const ctx = { ip: '203.0.113.51' }

afterAll(async () => {
  await closeHashPool()
})

for (const dialect of DIALECTS) {
  describe(`${PROCESSES} processes on one ${dialect} database`, () => {
    let url: string
    let store: OpenedStore
    beforeAll(async () => {
      url = storeUrl(dialect)
      store = await openStore(url)
    })
    afterAll(async () => {
      await store.close()
    })

    it('processes that start together on an empty database migrate it exactly once', async () => {
      const fresh = await freshDatabaseUrl(dialect)
      const outcomes = (
        await race(
          Array.from({ length: 4 }, () => ({
            url: fresh,
            name: 'm',
            ...TEST_COST,
            op: 'open' as const,
            times: 1,
          })),
        )
      ).flat()
      expect(outcomes).toEqual(['ok', 'ok', 'ok', 'ok'])
      const check = await openStore(fresh, { migrate: false })
      const applied = await check.db
        .selectFrom('latchkey_migration' as never)
        .select('name' as never)
        .execute()
      expect(applied).toEqual([{ name: '0001-initial-schema' }, { name: '0002-lazy-migration' }])
      await check.close()
    })

    it('signups of one email: exactly one user', async () => {
      const name = uniqueName('mp')
      const outcomes = (
        await race(
          Array.from({ length: PROCESSES }, () => ({
            url,
            name,
            ...TEST_COST,
            op: 'signup' as const,
            email: 'race@example.com',
            password: 'pw-Tr0ub4dor-42',
            times: 8,
          })),
        )
      ).flat()
      expect(outcomes.filter((o) => o === 'ok')).toHaveLength(1)
      expect(outcomes.filter((o) => o !== 'ok').every((o) => o === 'user_exists')).toBe(true)
      const rows = await store.db.selectFrom('latchkey_users').select('user_id').where('connection', '=', name).execute()
      expect(rows).toHaveLength(1)
    })

    it('logins that rehash while another process changes the password: no lost update', async () => {
      const name = uniqueName('mp')
      // Created at cost 4; the racing processes run at cost 5, so every login rehashes.
      const seeded = new BuiltinConnection({ name, store, ...TEST_COST })
      const user = await seeded.signup({ email: 'rehash@example.com', password: 'old-password-Xq7' }, ctx)
      const outcomes = await race([
        ...Array.from({ length: PROCESSES - 1 }, () => ({
          url,
          name,
          bcryptCost: 5,
          op: 'login' as const,
          email: 'rehash@example.com',
          password: 'old-password-Xq7',
          times: 6,
        })),
        { url, name, bcryptCost: 5, op: 'changePassword' as const, email: 'rehash@example.com', password: 'new-password-Xq7', times: 1 },
      ])
      const logins = outcomes.slice(0, -1).flat()
      expect(outcomes.at(-1)).toEqual(['ok'])
      expect(logins.every((o) => o === 'ok' || o === 'invalid_user_password')).toBe(true)
      // The change must survive every concurrent rehash of the old password...
      const check = new BuiltinConnection({ name, store, ...TEST_COST, bcryptCost: 5 })
      await expect(check.login({ identifier: 'rehash@example.com', password: 'new-password-Xq7' }, ctx)).resolves.toBeTruthy()
      await expect(check.login({ identifier: 'rehash@example.com', password: 'old-password-Xq7' }, ctx)).rejects.toMatchObject({
        code: 'invalid_user_password',
      })
      // ...and no login increment is lost.
      const stored = await store.findUser(name, { userId: user.user_id })
      expect(stored?.logins_count).toBe(logins.filter((o) => o === 'ok').length + 1)
    })

    it('redemptions of one reset ticket: exactly one success', async () => {
      const name = uniqueName('mp')
      const seeded = new BuiltinConnection({ name, store, ...TEST_COST })
      await seeded.signup({ email: 'ticket@example.com', password: 'old-password-Xq7' }, ctx)
      const issued = await seeded.createPasswordResetTicket('ticket@example.com')
      const outcomes = (
        await race(
          Array.from({ length: PROCESSES }, () => ({
            url,
            name,
            ...TEST_COST,
            op: 'resetPassword' as const,
            ticket: issued!.ticket,
            password: 'new-password-Zk9',
            times: 4,
          })),
        )
      ).flat()
      expect(outcomes.filter((o) => o === 'ok')).toHaveLength(1)
      expect(outcomes.filter((o) => o !== 'ok').every((o) => o === 'invalid_ticket')).toBe(true)
    })
  })
}
