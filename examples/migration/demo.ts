// Moving users from a legacy MariaDB into latchkey without a password reset:
//   npx -y pnpm@10 demo:migration
// The legacy users have bcrypt, phpass and salted SHA-1 hashes, checked by the legacy login
// script through require('@latchkey/password-hash'). Some users move over at their first
// login (a MigratingConnection, target on SQLite), the rest by a bulk import of the legacy
// export; then the migration is finished and the legacy store switched off. The status is
// printed at each step. MariaDB: LATCHKEY_MYSQL_URL (or LEGACY_MYSQL_URL) if set, otherwise
// a throwaway server that the demo starts and stops.
import { fileURLToPath } from 'node:url'
import { BuiltinConnection, closeHashPool, CustomScriptConnection, importUsers, MigratingConnection } from '@latchkey/core'
import { openStore } from '@latchkey/adapters'
import { loadScripts, QuickJsRunner } from '@latchkey/sandbox'
import { step } from '../custom-db/demo-flow.js'
import { LegacyDatabase } from './legacy-database.js'
import { legacyMariaDb } from './legacy-mariadb.js'
import { LEGACY_USERS, type LegacyUser } from './legacy-users.js'

const ctx = { ip: '203.0.113.9' }
const user = (email: string): LegacyUser => LEGACY_USERS.find((u) => u.email === email)!
/** Users who move over at their first login; everyone else moves in the bulk import. */
const LAZY = ['ada@example.com', 'grace@example.com', 'katherine@example.com', 'dorothy@example.com']
const GRACE_NEW_PASSWORD = 'Cobol-Compiler-Pioneer-59'

const server = await legacyMariaDb()
process.once('SIGINT', () => void server.stop().finally(() => process.exit(130)))
const legacyDb = await LegacyDatabase.open(server.url.toString()).catch(async (error: unknown) => {
  await server.stop()
  throw error
})
await legacyDb.seed(LEGACY_USERS)
const runner = new QuickJsRunner()
const store = await openStore('sqlite::memory:') // latchkey's own store: users, counters, migration progress
const legacy = new CustomScriptConnection({
  name: 'users-legacy',
  runner,
  scripts: loadScripts(fileURLToPath(new URL('./scripts', import.meta.url))),
  configuration: { DB_URL: server.url.toString(), USERS_TABLE: legacyDb.table },
  egress: { allow: [`${server.url.hostname}:${server.url.port || '3306'}`] },
  attackProtection: false, // the migrating connection protects it, counting each failure once
})
const users = new MigratingConnection({ name: 'users', target: new BuiltinConnection({ name: 'users', store }), legacy })

const status = async () => {
  const s = await users.migrationStatus()
  return { imported: s.imported, byFlow: s.byFlow, tombstones: s.tombstones, conflicts: s.conflictCount, finishedAt: s.finishedAt }
}
const login = (identifier: string, password: string) => async () => {
  const profile = await users.login({ identifier, password }, ctx)
  return { user_id: profile.user_id, email: profile.email }
}
const formats = new Map<string, number>()
for (const u of LEGACY_USERS) formats.set(u.format, (formats.get(u.format) ?? 0) + 1)

let failed = false
try {
  const where = server.throwaway ? 'a throwaway MariaDB, stopped at the end' : 'MariaDB'
  console.log(`Legacy store: table ${legacyDb.table} on ${where} (${server.url.host}), ${await legacyDb.count()} users:`)
  const mix = [...formats].map(([format, n]) => `${n} ${format}`).join(', ')
  console.log(`  ${mix}; latchkey's store: SQLite (in memory)`)
  await step('migrationStatus', status)

  console.log('\n1. Lazy migration: users move over at their first successful login')
  for (const email of LAZY) {
    const u = user(email)
    // Some log in by username: the legacy script takes either.
    await step(
      `login ${u.format === 'phpass' ? u.username : u.email} (${u.format})`,
      login(u.format === 'phpass' ? u.username : u.email, u.password),
    )
  }
  await step('login with a wrong password (phpass, not moved)', login('margaret@example.com', 'Wrong-Apollo-Guess-1'))
  await step('login ada again (from latchkey now, bcrypt rehashed)', login('ada', user('ada@example.com').password))
  await step('grace changes her password (in latchkey only)', async () => {
    await users.changeOwnPassword(
      { identifier: 'grace@example.com', currentPassword: user('grace@example.com').password, newPassword: GRACE_NEW_PASSWORD },
      ctx,
    )
  })
  await step('migrationStatus', status)

  console.log('\n2. Bulk import of the legacy export (every user; insert-only: those who moved are kept as they are)')
  await step('importUsers', async () => {
    const r = await importUsers(users, await legacyDb.exportUsers())
    return { processed: r.processed, imported: r.imported, skipped: r.skipped, failed: r.failed }
  })
  await step('migrationStatus', status)

  console.log('\n3. finishMigration(): the legacy store is switched off for every process')
  await users.finishMigration()
  await step('migrationStatus', status)
  await legacyDb.drop() // gone for good: from now on nothing may need it
  console.log(`  (legacy table ${legacyDb.table} dropped)`)
  await step('login margaret (bulk-imported phpass, verified by latchkey)', login('margaret', user('margaret@example.com').password))
  await step('login frances (bulk-imported salted SHA-1)', login('frances@example.com', user('frances@example.com').password))
  await step('login alan (bulk-imported bcrypt)', login('alan@example.com', user('alan@example.com').password))
  await step("login grace with her new password (the bulk import didn't overwrite it)", login('grace', GRACE_NEW_PASSWORD))
  await step('login grace with her old legacy password', login('grace', user('grace@example.com').password))

  // Every legacy user is in latchkey under their legacy id, exactly once.
  const found = await Promise.all(LEGACY_USERS.map((u) => users.getUser(u.email)))
  const lost = LEGACY_USERS.filter((u, i) => found[i]?.email !== u.email).map((u) => u.email)
  const rows = await store.db
    .selectFrom('latchkey_users')
    .select((eb) => eb.fn.countAll<number>().as('n'))
    .where('connection', '=', 'users')
    .executeTakeFirstOrThrow()
  const { byFlow } = await users.migrationStatus()
  const inLatchkey = Number(rows.n)
  const duplicated = inLatchkey - (LEGACY_USERS.length - lost.length)
  console.log(
    `\nUsers: legacy ${LEGACY_USERS.length}, latchkey ${inLatchkey} (${byFlow['login'] ?? 0} at login, ${byFlow['bulk'] ?? 0} in bulk); ` +
      `lost ${lost.length}, duplicated ${duplicated}`,
  )
  if (lost.length > 0 || duplicated !== 0) {
    console.error(`Migration check failed: lost ${JSON.stringify(lost)}, duplicated ${duplicated}`)
    failed = true
  }
} finally {
  await legacyDb.drop() // done already, unless a step above threw
  await runner.close()
  await store.close()
  await closeHashPool()
  await server.stop()
}
if (failed) process.exit(1)
