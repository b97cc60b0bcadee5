import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { type LatchkeyEvent, WrongUsernameOrPasswordError } from '@latchkey/core'
import type { OpenedStore } from '@latchkey/adapters'
import { QuickJsRunner } from '@latchkey/sandbox'
import { startAuthorizationServer } from '../examples/legacy-api/authorization-server.js'
import { startIdentityApi } from '../examples/legacy-api/identity-api.js'
import { legacyApiConnection } from '../examples/legacy-api/legacy-connection.js'
import { LegacyDatabase } from '../examples/legacy-api/legacy-database.js'
import { migratingUsers } from '../examples/legacy-api/migrating-users.js'
import { DIALECTS, openTestStore, uniqueName } from './support/dialects.js'
import { TEST_COST } from './support/test-cost.js'

// examples/legacy-api end to end: a legacy MariaDB behind the identity API (IP allow-list
// and access-token check), and latchkey scripts that reach it only with a client-credentials
// token. The legacy database is MariaDB; latchkey's own store runs on every dialect.
const AUDIENCE = 'https://legacy-identity-api.test'
const SCRIPTS = { clientId: 'latchkey-scripts', clientSecret: 'example-secret-Hq4w-Zt8p-Lm2x', audiences: [AUDIENCE] }
const PASSWORD = 'Tr0ub4dor-horse-42'

// The example's legacy store is MariaDB: with SQLite alone the suite is listed as skipped, not missing.
describe.runIf(DIALECTS.includes('mysql'))('examples/legacy-api', () => {
  let db: LegacyDatabase
  let idp: Awaited<ReturnType<typeof startAuthorizationServer>>
  let api: Awaited<ReturnType<typeof startIdentityApi>>
  const runner = new QuickJsRunner({ timeoutMs: 10_000, workers: 2 })
  const apiErrors: Error[] = []

  beforeAll(async () => {
    db = await LegacyDatabase.open(process.env['LATCHKEY_MYSQL_URL']!, { bcryptCost: 4 })
    idp = await startAuthorizationServer({ clients: [SCRIPTS] })
    api = await startIdentityApi({
      db,
      issuer: idp.issuer,
      audience: AUDIENCE,
      allowedClients: [SCRIPTS.clientId],
      allow: ['127.0.0.1/32'],
      onError: (e) => apiErrors.push(e),
    })
  })
  afterAll(async () => {
    await runner.close()
    await api?.close()
    await idp?.close()
    await db?.drop()
  })

  for (const dialect of DIALECTS) {
    describe(`with latchkey's store on ${dialect}`, () => {
      let store: OpenedStore
      beforeAll(async () => {
        store = await openTestStore(dialect)
      })
      afterAll(async () => {
        await store.close()
      })

      const connect = (events: LatchkeyEvent[] = []) =>
        legacyApiConnection({
          name: uniqueName('api'),
          runner,
          store,
          tokenUrl: idp.tokenUrl,
          clientId: SCRIPTS.clientId,
          clientSecret: SCRIPTS.clientSecret,
          apiUrl: api.url,
          apiAudience: AUDIENCE,
          onEvent: (e) => {
            events.push(e)
          },
        })

      it('logs in, reads and changes a password through the API; N logins cost one token request', async () => {
        const email = `${uniqueName('ada')}@example.com`
        const id = await db.addUser({ email, password: PASSWORD, nickname: 'Ada', emailVerified: true })
        const events: LatchkeyEvent[] = []
        const users = connect(events)
        const tokensBefore = idp.tokenRequests
        const ctx = { ip: '203.0.113.9' }
        const profiles = await Promise.all(Array.from({ length: 5 }, () => users.login({ identifier: email, password: PASSWORD }, ctx)))
        expect(profiles.map((p) => p.user_id)).toEqual(Array(5).fill(String(id)))
        expect(profiles[0]).toMatchObject({ email, nickname: 'Ada', email_verified: true })
        await expect(users.login({ identifier: email, password: 'Wr0ng-horse-battery-1' }, ctx)).rejects.toBeInstanceOf(
          WrongUsernameOrPasswordError,
        )
        expect(await users.getUser(email)).toMatchObject({ user_id: String(id) })
        expect(await users.getUser(`nobody-${email}`)).toBeNull()
        const next = 'N3w-horse-battery-77'
        await users.changePassword(email, next, ctx)
        await expect(users.login({ identifier: email, password: PASSWORD }, ctx)).rejects.toBeInstanceOf(WrongUsernameOrPasswordError)
        expect((await users.login({ identifier: email, password: next }, ctx)).user_id).toBe(String(id))
        expect(idp.tokenRequests - tokensBefore).toBe(1)
        const everything = JSON.stringify(events)
        for (const secret of [SCRIPTS.clientSecret, PASSWORD, next]) expect(everything).not.toContain(secret)
        expect(apiErrors).toEqual([])
      })

      it('a migrating login goes through the API once: the user is imported, and later logins never call it', async () => {
        const email = `${uniqueName('ada')}@example.com`
        const id = await db.addUser({ email, password: PASSWORD, nickname: 'Ada', emailVerified: true })
        const events: LatchkeyEvent[] = []
        const users = migratingUsers({
          name: uniqueName('mig'),
          store,
          runner,
          tokenUrl: idp.tokenUrl,
          clientId: SCRIPTS.clientId,
          clientSecret: SCRIPTS.clientSecret,
          apiUrl: api.url,
          apiAudience: AUDIENCE,
          onEvent: (e) => {
            events.push(e)
          },
          ...TEST_COST,
        })
        const ctx = { ip: '203.0.113.9' }
        const before = { api: api.requests, tokens: idp.tokenRequests }
        const first = await users.login({ identifier: email, password: PASSWORD }, ctx)
        expect(first).toMatchObject({ user_id: String(id), email, nickname: 'Ada', email_verified: true })
        expect(api.requests - before.api).toBe(1)
        expect(events.map((e) => e.type)).toContain('migrated')
        // Imported: the target answers from now on, right password or wrong.
        expect((await users.login({ identifier: email, password: PASSWORD }, ctx)).user_id).toBe(String(id))
        await expect(users.login({ identifier: email, password: 'Wr0ng-horse-battery-1' }, ctx)).rejects.toBeInstanceOf(
          WrongUsernameOrPasswordError,
        )
        expect(await users.getUser(email)).toMatchObject({ user_id: String(id) })
        expect(api.requests - before.api).toBe(1)

        // A user not imported yet changes their password: get_user through the API, then imported with the new one.
        const grace = `${uniqueName('grace')}@example.com`
        const graceId = await db.addUser({ email: grace, password: PASSWORD })
        const next = 'N3w-horse-battery-77'
        await users.changePassword(grace, next, ctx)
        expect((await users.login({ identifier: grace, password: next }, ctx)).user_id).toBe(String(graceId))
        expect(api.requests - before.api).toBe(2)
        expect((await users.migrationStatus()).byFlow).toMatchObject({ login: 1, change_password: 1 })
        expect(idp.tokenRequests - before.tokens).toBe(1)
        const everything = JSON.stringify(events)
        for (const secret of [SCRIPTS.clientSecret, PASSWORD, next]) expect(everything).not.toContain(secret)
      })
    })
  }
})
