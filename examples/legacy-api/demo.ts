// A legacy identity API in front of a legacy MariaDB, and a migrating latchkey connection
// whose legacy scripts reach it only with a client-credentials token:
//   LEGACY_MYSQL_URL=mysql://user:pass@127.0.0.1:3306/legacy npx -y pnpm@10 demo:legacy-api
// It creates a throwaway users table, starts an authorization server and the API on
// 127.0.0.1, moves users into latchkey as they log in or change their password, and
// cleans up.
import { closeHashPool } from '@latchkey/core'
import { openStore } from '@latchkey/adapters'
import { QuickJsRunner } from '@latchkey/sandbox'
import { demoDatabaseUrl } from '../custom-db/database-url.js'
import { step } from '../custom-db/demo-flow.js'
import { startAuthorizationServer } from './authorization-server.js'
import { startIdentityApi } from './identity-api.js'
import { migratingUsers } from './migrating-users.js'
import { LegacyDatabase } from './legacy-database.js'

const API_AUDIENCE = 'https://legacy-identity-api.example'
const scripts = { clientId: 'latchkey-scripts', clientSecret: 'demo-only-client-secret-7Kq2', audiences: [API_AUDIENCE] }
const reporting = { clientId: 'reporting', clientSecret: 'demo-only-reporting-secret-3Wz', audiences: ['https://reports.example'] }

const url = demoDatabaseUrl(['LEGACY_MYSQL_URL', 'LATCHKEY_MYSQL_URL'], 'mysql://user:pass@127.0.0.1:3306/legacy')
const db = await LegacyDatabase.open(url.toString(), { bcryptCost: 4 })
await db.addUser({ email: 'ada@example.com', username: 'ada', password: 'Analytical-Engine-1843', nickname: 'Ada', emailVerified: true })
await db.addUser({ email: 'grace@example.com', username: 'grace', password: 'Harvard-Mark-I-1944', nickname: 'Grace', emailVerified: true })
const idp = await startAuthorizationServer({ clients: [scripts, reporting] })
const api = await startIdentityApi({
  db,
  issuer: idp.issuer,
  audience: API_AUDIENCE,
  allowedClients: [scripts.clientId],
  allow: ['127.0.0.1/32'],
})
const runner = new QuickJsRunner()
const store = await openStore('sqlite::memory:') // latchkey's own users, counters and migration progress
const users = migratingUsers({
  name: 'users',
  store,
  runner,
  tokenUrl: idp.tokenUrl,
  clientId: scripts.clientId,
  clientSecret: scripts.clientSecret,
  apiUrl: api.url,
  apiAudience: API_AUDIENCE,
})

const ctx = { ip: '203.0.113.9' }
const status = async (path: string, init: RequestInit = {}) => (await fetch(`${api.url}${path}`, { method: 'POST', ...init })).status

try {
  console.log(`Legacy identity API at ${api.url} over ${url.host}, table ${db.table}; tokens from ${idp.issuer}:`)
  await step('login (first time: through the API, then imported)', () =>
    users.login({ identifier: 'ada@example.com', password: 'Analytical-Engine-1843' }, ctx),
  )
  const apiCalls = api.requests
  await step("login again (from latchkey's store)", () => users.login({ identifier: 'ada', password: 'Analytical-Engine-1843' }, ctx))
  await step('login with a wrong password', () => users.login({ identifier: 'ada@example.com', password: 'Difference-Engine-1822' }, ctx))
  console.log(`  calls to the legacy API for those two: ${api.requests - apiCalls}`)
  await step('getUser', () => users.getUser('ada@example.com'))
  await step('changePassword of a user not imported yet (get_user through the API, then imported)', () =>
    users.changePassword('grace@example.com', 'Flow-Matic-Compiler-59', ctx),
  )
  await step('login with the new password', () => users.login({ identifier: 'grace@example.com', password: 'Flow-Matic-Compiler-59' }, ctx))
  await step('migrationStatus', async () => {
    const { imported, byFlow } = await users.migrationStatus()
    return { imported, byFlow }
  })
  console.log(`  token requests for all of that: ${idp.tokenRequests}`)
  const refused = await fetch(idp.tokenUrl, {
    method: 'POST',
    body: new URLSearchParams({ grant_type: 'client_credentials', resource: API_AUDIENCE }),
    headers: { authorization: `Basic ${Buffer.from(`${reporting.clientId}:${reporting.clientSecret}`).toString('base64')}` },
  })
  console.log(`  another client asking for the API's audience: ${refused.status} ${((await refused.json()) as { error: string }).error}`)
  console.log(
    `  calling the API without a token: ${await status('/get-user', { headers: { 'content-type': 'application/json' }, body: '{"identifier":"ada"}' })}`,
  )
} finally {
  await runner.close()
  await store.close()
  await api.close()
  await idp.close()
  await db.drop()
  await closeHashPool()
}
