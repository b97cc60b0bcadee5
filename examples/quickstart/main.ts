// latchkey quickstart: a built-in connection on an embedded SQLite file.
// Run it with `npx pnpm@10 start` from the repository root.
import { mkdirSync } from 'node:fs'
import { BuiltinConnection, closeHashPool, LatchkeyError, type LatchkeyEvent } from '@latchkey/core'
import { openStore } from '@latchkey/adapters'

mkdirSync('.tmp', { recursive: true })
const store = await openStore(`sqlite:.tmp/quickstart-${Date.now()}.db`)
const users = new BuiltinConnection({
  name: 'users',
  store,
  // Length plus lists (ASVS 5.0 V6): no composition rules.
  passwordPolicy: { minLength: 8, dictionary: { custom: ['quickstart'] } },
  breachedPasswords: true,
  onEvent: (e: LatchkeyEvent) => console.log(`  event ${e.type}${e.user_id ? ` user=${e.user_id}` : ''}`),
})
// Every request should carry the end user's IP; attack protection keys its counters on it.
const ctx = { ip: '203.0.113.7' }

try {
  console.log('1. sign up ada@example.com')
  const ada = await users.signup({ email: 'Ada@Example.com', password: 'Analytical-Engine-1843', user_metadata: { plan: 'free' } }, ctx)
  console.log(`   created ${ada.user_id} (${ada.email})`)

  console.log('2. log in with the right password')
  const session = await users.login({ identifier: 'ada@example.com', password: 'Analytical-Engine-1843' }, ctx)
  console.log(`   welcome back, logins_count=${session.logins_count}`)

  console.log('3. log in with a wrong password')
  try {
    await users.login({ identifier: 'ada@example.com', password: 'Difference-Engine-1822' }, ctx)
  } catch (error) {
    if (!(error instanceof LatchkeyError)) throw error
    console.log(`   refused: ${error.code}: ${error.message}`)
  }

  console.log('4. change the password (the current one first), then log in with the new one')
  await users.changeOwnPassword(
    { identifier: 'ada@example.com', currentPassword: 'Analytical-Engine-1843', newPassword: 'Notes-on-the-Engine-G' },
    ctx,
  )
  const again = await users.login({ identifier: 'ada@example.com', password: 'Notes-on-the-Engine-G' }, ctx)
  console.log(`   logged in again, logins_count=${again.logins_count}`)
} finally {
  await store.close()
  await closeHashPool()
}
