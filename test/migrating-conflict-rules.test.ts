// Each documented rule for legacy data that does not fit the target (README: Migrating), one
// test each: the error (or the import that still happens), the `migration_conflict` event, and
// the row that migrationStatus() lists for an admin. The legacy store is a script of its own,
// run in the real sandbox, that answers with exactly the awkward profiles under test.
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { closeHashPool, MigrationConflictError } from '@latchkey/core'
import type { OpenedStore } from '@latchkey/adapters'
import { QuickJsRunner } from '@latchkey/sandbox'
import { openTestStore, uniqueName } from './support/dialects.js'
import { migratingConnection, outcome } from './support/migrating.js'

const runner = new QuickJsRunner({ timeoutMs: 8000, workers: 2 })
const ctx = { ip: '203.0.113.97' }
const PASSWORD = 'Tr0ub4dor-horse-42'

// The legacy users, by lower-cased identifier (email or username). `big` and `deep` make the
// script build metadata over the size (16 KiB) or depth (10) limits.
const USERS: Record<string, Record<string, unknown>> = {}
const add = (profile: Record<string, unknown>, ...identifiers: string[]) => {
  for (const id of identifiers) USERS[id.toLowerCase()] = profile
}
add({ user_id: 'case-1', email: 'Case.Clash@Example.com' }, 'case.clash@example.com')
add({ user_id: 'case-2', email: 'CASE.CLASH@example.com', username: 'case_two' }, 'case_two')
add({ user_id: 'bad-email-1', email: 'not an email', username: 'bad_email' }, 'bad_email')
add({ user_id: 'no-id-1', username: 'über' }, 'über')
add({ user_id: 'u-invalid-1', email: 'u.invalid@example.com', username: 'nö-ascii' }, 'u.invalid@example.com')
add({ user_id: 'u-taken-1', email: 'u.taken@example.com', username: 'taken_name' }, 'u.taken@example.com')
add({ user_id: 'meta-big-1', email: 'meta.big@example.com', big: true }, 'meta.big@example.com')
add({ user_id: 'meta-deep-1', email: 'meta.deep@example.com', deep: true }, 'meta.deep@example.com')

const FIND = `function findUser(identifier) {
  var u = JSON.parse(configuration.USERS)[identifier.trim().toLowerCase()];
  if (!u) return null;
  if (u.big) u.user_metadata = { blob: new Array(17 * 1024).join('x') };
  if (u.deep) { var m = {}, at = m; for (var i = 0; i < 12; i++) { at.next = {}; at = at.next; } u.user_metadata = m; }
  delete u.big; delete u.deep;
  return u;
}`
const legacy = {
  scripts: {
    login: `function login(identifier, password, callback) {
      ${FIND}
      var u = findUser(identifier);
      if (!u || password !== configuration.PASSWORD) return callback(new WrongUsernameOrPasswordError(identifier));
      callback(null, u);
    }`,
    get_user: `function getUser(identifier, callback) {
      ${FIND}
      callback(null, findUser(identifier));
    }`,
  },
  configuration: { USERS: JSON.stringify(USERS), PASSWORD },
  egress: { allow: [] },
}

afterAll(async () => {
  await runner.close()
  await closeHashPool()
})

describe('legacy data that does not fit the target', () => {
  let store: OpenedStore
  beforeAll(async () => {
    store = await openTestStore('sqlite')
  })
  afterAll(async () => {
    await store.close()
  })

  const connect = () => migratingConnection(store, runner, legacy)
  const login = (users: ReturnType<typeof connect>['users'], identifier: string) => users.login({ identifier, password: PASSWORD }, ctx)
  const conflictsOf = async (users: ReturnType<typeof connect>['users']) =>
    (await users.migrationStatus()).conflicts.map((c) => `${c.reason}:${c.legacyId}`)
  const conflictEvents = (events: ReturnType<typeof connect>['events']) =>
    events.filter((e) => e.type === 'migration_conflict').map((e) => `${(e.details as { reason: string }).reason}:${e.user_id}`)

  it('email_case_clash: emails that differ only in case; the first imported keeps it, the other is refused and listed', async () => {
    const { users, events } = connect()
    await expect(login(users, 'case.clash@example.com')).resolves.toMatchObject({ user_id: 'case-1' })
    const error = await login(users, 'case_two').catch((e: unknown) => e)
    expect(error).toBeInstanceOf(MigrationConflictError)
    expect(conflictEvents(events)).toEqual(['email_case_clash:case-2'])
    expect(await conflictsOf(users)).toEqual(['email_case_clash:case-2'])
    expect(await users.getUserById('case-2')).toBeNull()
    expect((await users.migrationStatus()).imported).toBe(1)
  })

  it('invalid_email: a malformed legacy email is a conflict, not a user with a broken identifier', async () => {
    const { users, events } = connect()
    expect(await outcome(login(users, 'bad_email'))).toBe('migration_conflict')
    expect(conflictEvents(events)).toEqual(['invalid_email:bad-email-1'])
    expect(await conflictsOf(users)).toEqual(['invalid_email:bad-email-1'])
    expect(await users.getUserById('bad-email-1')).toBeNull()
  })

  it('no_identifier: a profile with neither an email nor a valid username is a conflict', async () => {
    const { users, events } = connect()
    expect(await outcome(login(users, 'über'))).toBe('migration_conflict')
    expect(conflictEvents(events)).toEqual(['no_identifier:no-id-1'])
    expect(await conflictsOf(users)).toEqual(['no_identifier:no-id-1'])
  })

  it('username_invalid: a username that breaks the built-in rules is dropped; the user moves over and logs in by email', async () => {
    const { users, events } = connect()
    await expect(login(users, 'u.invalid@example.com')).resolves.toMatchObject({ user_id: 'u-invalid-1' })
    expect(await store.findUser(users.name, { userId: 'u-invalid-1' })).toMatchObject({ username: null })
    expect(conflictEvents(events)).toEqual(['username_invalid:u-invalid-1'])
    expect(await conflictsOf(users)).toEqual(['username_invalid:u-invalid-1'])
    expect(await outcome(login(users, 'u.invalid@example.com'))).toBe('ok')
  })

  it('username_taken: a username another target user has is dropped; the user moves over and logs in by email', async () => {
    const { users, target, events } = connect()
    const holder = await target.signup(
      { email: `${uniqueName('h')}@example.com`, password: 'Someone-else-123', username: 'taken_name' },
      ctx,
    )
    await expect(login(users, 'u.taken@example.com')).resolves.toMatchObject({ user_id: 'u-taken-1' })
    expect(await store.findUser(users.name, { userId: 'u-taken-1' })).toMatchObject({ username: null })
    expect(await store.findUser(users.name, { userId: holder.user_id })).toMatchObject({ username: 'taken_name' })
    expect(conflictEvents(events)).toEqual(['username_taken:u-taken-1'])
    expect(await conflictsOf(users)).toEqual(['username_taken:u-taken-1'])
  })

  it('metadata_limits: legacy metadata over the size or depth limits is a conflict with an event, at login and at reset', async () => {
    const { users, events } = connect()
    expect(await outcome(login(users, 'meta.big@example.com'))).toBe('migration_conflict')
    expect(await outcome(users.changePassword('meta.deep@example.com', 'Brand-new-lantern-64', ctx))).toBe('migration_conflict')
    expect(conflictEvents(events).sort()).toEqual(['metadata_limits:meta-big-1', 'metadata_limits:meta-deep-1'])
    expect((await conflictsOf(users)).sort()).toEqual(['metadata_limits:meta-big-1', 'metadata_limits:meta-deep-1'])
    expect((await users.migrationStatus()).imported).toBe(0)
  })
})
