// A legacy store that matches identifiers more loosely than the target (MariaDB's default
// accent- and case-insensitive collations: 'kím@…' finds 'kim@…') must not let an old
// legacy password set a new password on a user already imported into the target.
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { closeHashPool } from '@latchkey/core'
import type { OpenedStore } from '@latchkey/adapters'
import { QuickJsRunner } from '@latchkey/sandbox'
import { DIALECTS, openTestStore, uniqueName } from './support/dialects.js'
import { legacyDatabase, legacyKinds, type LegacyDatabase } from './support/legacy-database.js'
import { migratingConnection, outcome, whileParked } from './support/migrating.js'

const runner = new QuickJsRunner({ timeoutMs: 8000, workers: 2 })
const ctx = { ip: '203.0.113.81' }
const OLD_PASSWORD = 'Tr0ub4dor-horse-42'
const NEW_PASSWORD = 'Qv7-lantern-Ozone-913'
const ATTACKER_PASSWORD = 'Zx9-marmalade-Kiosk-27'

afterAll(async () => {
  await runner.close()
  await closeHashPool()
})

describe.runIf(DIALECTS.includes('mysql'))('an imported user and a legacy store with a looser collation', () => {
  let store: OpenedStore
  let legacy: LegacyDatabase
  beforeAll(async () => {
    store = await openTestStore('sqlite')
    legacy = await legacyDatabase('mysql')
  })
  afterAll(async () => {
    await legacy.teardown()
    await store.close()
  })

  it('changeOwnPassword with the old legacy password and a look-alike email does not take the imported account over', async () => {
    const { users } = migratingConnection(store, runner, legacy)
    const local = uniqueName('kim')
    const address = `${local}@example.com`
    const id = await legacy.add({ email: address, password: OLD_PASSWORD })
    // Imported at first login, then the user changes the password in the target.
    await users.login({ identifier: address, password: OLD_PASSWORD }, ctx)
    await users.changeOwnPassword({ identifier: address, currentPassword: OLD_PASSWORD, newPassword: NEW_PASSWORD }, ctx)
    expect(await outcome(users.login({ identifier: address, password: OLD_PASSWORD }, ctx))).toBe('invalid_user_password')

    // The attacker knows only the old (leaked) password; the legacy store still has it.
    const lookAlike = address.replace('kim', 'k\u00edm')
    expect(lookAlike).not.toBe(address)
    const attempt = await outcome(
      users.changeOwnPassword({ identifier: lookAlike, currentPassword: OLD_PASSWORD, newPassword: ATTACKER_PASSWORD }, ctx),
    )
    expect(attempt).toBe('invalid_user_password')
    // The user keeps the password they set; the attacker's does not log in.
    expect(await outcome(users.login({ identifier: address, password: ATTACKER_PASSWORD }, ctx))).toBe('invalid_user_password')
    await expect(users.login({ identifier: address, password: NEW_PASSWORD }, ctx)).resolves.toMatchObject({ user_id: id })
  })

  it("look-alike spellings of a legacy user's email share one brute-force allowance", async () => {
    const { users } = migratingConnection(store, runner, legacy, {
      target: { attackProtection: { bruteForce: { threshold: 3, accountLockout: 3 } } },
    })
    const address = `${uniqueName('kim')}@example.com`
    await legacy.add({ email: address, password: OLD_PASSWORD })
    const results: string[] = []
    for (const variant of ['i', '\u00ed', '\u00ec', '\u00ee', '\u00ef']) {
      for (let n = 0; n < 3; n++) {
        results.push(
          await outcome(
            users.login({ identifier: address.replace('kim', `k${variant}m`), password: `Wr0ng-guess-${n}-xyzw` }, { ip: '198.51.100.7' }),
          ),
        )
      }
    }
    // MariaDB's collation finds the one legacy user for every spelling: three guesses are judged, not fifteen.
    expect(results.filter((r) => r === 'invalid_user_password')).toHaveLength(3)
    expect(results.filter((r) => r === 'too_many_attempts')).toHaveLength(12)
  })
})

// A reset ticket issued for a legacy user, redeemed while that user moves over: the reset
// clashes with the import, and must then be judged by the target as the user is now.
for (const kind of legacyKinds(DIALECTS)) {
  describe(`a reset ticket of a legacy ${kind} user who moves over while it is redeemed`, () => {
    let store: OpenedStore
    let legacy: LegacyDatabase
    beforeAll(async () => {
      store = await openTestStore('sqlite')
      legacy = await legacyDatabase(kind)
    })
    afterAll(async () => {
      await legacy.teardown()
      await store.close()
    })

    it('sets no password on the imported user once the email the ticket was mailed to is no longer theirs', async () => {
      // writeThrough gives the reset a legacy write after its ticket is consumed and before its import: a place to park it.
      const { users } = migratingConnection(store, runner, legacy, { migrating: { writeThrough: true } })
      const oldEmail = `${uniqueName('old')}@example.com`
      const newEmail = `${uniqueName('new')}@example.com`
      const id = await legacy.add({ email: oldEmail, password: OLD_PASSWORD })
      // Mailed to the old address (say, a recycled mailbox that someone else reads now).
      const ticket = await users.createPasswordResetTicket(oldEmail, {}, ctx)
      expect(ticket).not.toBeNull()
      const reset = await whileParked(
        await legacy.hold({ row: id }),
        () => users.resetPassword(ticket!.ticket, ATTACKER_PASSWORD, ctx),
        async () => {
          // Meanwhile the owner logs in (and so moves over), then takes a new email and password in the target.
          await users.login({ identifier: oldEmail, password: OLD_PASSWORD }, ctx)
          await users.changeEmail(oldEmail, newEmail)
          await users.changePassword(newEmail, NEW_PASSWORD, ctx)
        },
      )
      expect(reset).toBe('invalid_ticket')
      expect(await outcome(users.login({ identifier: newEmail, password: ATTACKER_PASSWORD }, ctx))).toBe('invalid_user_password')
      await expect(users.login({ identifier: newEmail, password: NEW_PASSWORD }, ctx)).resolves.toMatchObject({ user_id: id })
      // The ticket is used up: it cannot be tried again.
      expect(await outcome(users.resetPassword(ticket!.ticket, ATTACKER_PASSWORD, ctx))).toBe('invalid_ticket')
    }, 60_000)

    it('still redeems for the owner when nothing changed: the reset wins over the login that moved the user', async () => {
      const { users } = migratingConnection(store, runner, legacy, { migrating: { writeThrough: true } })
      const address = `${uniqueName('same')}@example.com`
      const id = await legacy.add({ email: address, password: OLD_PASSWORD })
      const ticket = await users.createPasswordResetTicket(address, {}, ctx)
      const reset = await whileParked(
        await legacy.hold({ row: id }),
        () => users.resetPassword(ticket!.ticket, NEW_PASSWORD, ctx),
        async () => {
          await users.login({ identifier: address, password: OLD_PASSWORD }, ctx)
        },
      )
      expect(reset).toBe('ok')
      await expect(users.login({ identifier: address, password: NEW_PASSWORD }, ctx)).resolves.toMatchObject({ user_id: id })
      expect(await outcome(users.login({ identifier: address, password: OLD_PASSWORD }, ctx))).toBe('invalid_user_password')
      expect((await users.migrationStatus()).imported).toBe(1)
    }, 60_000)
  })
}
