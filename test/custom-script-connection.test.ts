// The custom-script connection through the shipped templates, against a legacy schema in
// the real MariaDB and PostgreSQL, and against a real HTTP legacy API.
import { fileURLToPath } from 'node:url'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import {
  closeHashPool,
  CustomScriptConnection,
  InvalidTicketError,
  NotSupportedError,
  PasswordLeakedError,
  PasswordPolicyError,
  ScriptError,
  ScriptTimeoutError,
  UnauthorizedError,
  UserExistsError,
  UserNotFoundError,
  WrongUsernameOrPasswordError,
  type CustomScriptConnectionOptions,
  type CustomScripts,
  type LatchkeyEvent,
} from '@latchkey/core'
import { openStore, type OpenedStore } from '@latchkey/adapters'
import { loadScripts, QuickJsRunner } from '@latchkey/sandbox'
import { uniqueName } from './support/dialects.js'
import { eventLog } from './support/events.js'
import { legacyInGlobal } from './support/legacy-in-global.js'
import { legacyStores, type LegacyStore } from './support/legacy-database.js'
import { tcpCounter } from './support/servers.js'

const runner = new QuickJsRunner({ timeoutMs: 5000, workers: 2 })
const ctx = { ip: '203.0.113.70' }
const template = (name: string) => loadScripts(fileURLToPath(new URL(`../examples/custom-db/${name}/`, import.meta.url)))
let store: OpenedStore

beforeAll(async () => {
  store = await openStore('sqlite::memory:')
})
afterAll(async () => {
  await runner.close()
  await store.close()
  await closeHashPool()
})

type Legacy = LegacyStore
const LEGACIES = legacyStores()

for (const [label, setUp] of Object.entries(LEGACIES)) {
  describe(`templates against a ${label} legacy store`, () => {
    let legacy: Legacy
    let users: CustomScriptConnection
    const events: LatchkeyEvent[] = []
    beforeAll(async () => {
      legacy = await setUp()
      users = new CustomScriptConnection({
        name: uniqueName('legacy'),
        runner,
        scripts: legacy.scripts,
        configuration: legacy.configuration,
        egress: legacy.egress,
        store,
        onEvent: (e) => events.push(e),
      })
    })
    afterAll(async () => {
      await legacy.teardown()
    })

    it('signs up through get_user, create and login', async () => {
      const profile = await users.signup({ email: 'ada@example.com', password: 'first-password-Xq7', username: 'ada' }, ctx)
      expect(profile).toMatchObject({
        user_id: expect.stringMatching(/^\d+$/),
        email: 'ada@example.com',
        username: 'ada',
        email_verified: false,
      })
      await expect(users.signup({ email: 'ada@example.com', password: 'x-Tr0ub4dor-42' }, ctx)).rejects.toBeInstanceOf(UserExistsError)
    })
    it('logs in by email and by username; a wrong password and an unknown user look the same', async () => {
      await expect(users.login({ identifier: 'ada@example.com', password: 'first-password-Xq7' }, ctx)).resolves.toMatchObject({
        username: 'ada',
      })
      await expect(users.login({ identifier: 'ada', password: 'first-password-Xq7' }, ctx)).resolves.toMatchObject({
        email: 'ada@example.com',
      })
      const wrong = await users.login({ identifier: 'ada@example.com', password: 'nope' }, ctx).catch((e: unknown) => e)
      const unknown = await users.login({ identifier: 'nobody@example.com', password: 'nope' }, ctx).catch((e: unknown) => e)
      expect(wrong).toBeInstanceOf(WrongUsernameOrPasswordError)
      expect(unknown).toBeInstanceOf(WrongUsernameOrPasswordError)
      expect((wrong as Error).message).toBe((unknown as Error).message)
    })
    it('gets users, or null', async () => {
      expect(await users.getUser('ada')).toMatchObject({ email: 'ada@example.com' })
      expect(await users.getUser('nobody@example.com')).toBeNull()
    })
    it('changes a password, finding the email of a username through get_user', async () => {
      await users.changePassword('ada', 'second-password-Xq7', ctx)
      await expect(users.login({ identifier: 'ada@example.com', password: 'second-password-Xq7' }, ctx)).resolves.toBeTruthy()
      await expect(users.changePassword('nobody@example.com', 'x-Tr0ub4dor-42', ctx)).rejects.toBeInstanceOf(UserNotFoundError)
    })
    it('resets a password with a ticket kept in the store, once', async () => {
      expect(await users.createPasswordResetTicket('nobody@example.com')).toBeNull()
      const issued = await users.createPasswordResetTicket('ada@example.com', {}, ctx)
      const results = await Promise.allSettled([1, 2, 3].map((i) => users.resetPassword(issued!.ticket, `reset-Xq7-${i}`, ctx)))
      const winners = results.flatMap((r, i) => (r.status === 'fulfilled' ? [i + 1] : []))
      expect(winners).toHaveLength(1)
      for (const r of results) if (r.status === 'rejected') expect(r.reason).toBeInstanceOf(InvalidTicketError)
      await expect(users.login({ identifier: 'ada@example.com', password: `reset-Xq7-${winners[0]}` }, ctx)).resolves.toBeTruthy()
    })
    it('verifies an email directly and with a ticket', async () => {
      const issued = await users.createEmailVerificationTicket('ada@example.com')
      await expect(users.verifyEmailWithTicket(issued!.ticket, ctx)).resolves.toMatchObject({
        email: 'ada@example.com',
        email_verified: true,
      })
      expect(await users.getUser('ada@example.com')).toMatchObject({ email_verified: true })
      await expect(users.verifyEmailWithTicket(issued!.ticket, ctx)).rejects.toBeInstanceOf(InvalidTicketError)
      await users.verifyEmail('ada@example.com')
      await expect(users.verifyEmail('nobody@example.com')).rejects.toBeInstanceOf(UserNotFoundError)
    })
    it('changes an email', async () => {
      await users.changeEmail('ada@example.com', 'ada@analytical.example', { verified: false })
      expect(await users.getUser('ada@analytical.example')).toMatchObject({ email_verified: false })
      await expect(users.changeEmail('nobody@example.com', 'x@example.com')).rejects.toBeInstanceOf(UserNotFoundError)
    })
    it('has no script for getUserById or updateUser', async () => {
      await expect(users.getUserById('1')).rejects.toBeInstanceOf(NotSupportedError)
      await expect(users.updateUser('1', { name: 'x' })).rejects.toBeInstanceOf(NotSupportedError)
    })
    it('deletes a user', async () => {
      const user = await users.getUser('ada@analytical.example')
      await users.deleteUser(user!.user_id)
      expect(await users.getUser('ada@analytical.example')).toBeNull()
    })
    it('never lets the password or a configuration secret into an event', () => {
      const all = JSON.stringify(events)
      for (const secret of ['first-password-Xq7', 'second-password-Xq7', 'reset-Xq7-1', legacy.secret]) expect(all).not.toContain(secret)
      expect(events.map((e) => e.type)).toEqual(expect.arrayContaining(['ss', 'fs', 's', 'fp', 'scp', 'fcp', 'scpr', 'sv', 'sce', 'du']))
    })
  })
}

describe('errors, limits and state, seen from the connection', () => {
  const connect = (scripts: Partial<CustomScripts> & { login?: string }, extra: Record<string, unknown> = {}) =>
    new CustomScriptConnection({
      name: uniqueName('cs'),
      runner,
      scripts: { login: 'function login(e, p, cb) { cb() }', ...scripts },
      attackProtection: false,
      ...extra,
    })

  it('maps UnauthorizedError with its message, and a blocked profile', async () => {
    const c = connect({ login: 'function login(e, p, cb) { cb(new UnauthorizedError("account locked by legacy policy")) }' })
    await expect(c.login({ identifier: 'a@example.com', password: 'Tr0ub4dor-horse-42' }, ctx)).rejects.toThrow(
      new UnauthorizedError('account locked by legacy policy'),
    )
    const blocked = connect({ login: 'function login(e, p, cb) { cb(null, { user_id: 7, blocked: true }) }' })
    await expect(blocked.login({ identifier: 'a@example.com', password: 'Tr0ub4dor-horse-42' }, ctx)).rejects.toThrow('user is blocked')
  })
  it('gives a script that throws as ScriptError, with its logs on error.logs', async () => {
    const c = connect({ login: 'function login(e, p, cb) { console.log("connecting to legacy"); throw new Error("legacy exploded") }' })
    const error = (await c
      .login({ identifier: 'a@example.com', password: 'Tr0ub4dor-horse-42' }, ctx)
      .catch((e: unknown) => e)) as ScriptError
    expect(error).toBeInstanceOf(ScriptError)
    expect(error.scriptName).toBe('login')
    expect(error.message).toContain('legacy exploded')
    expect(error.logs).toEqual(['[log] connecting to legacy'])
  })
  it('validates profiles: a numeric id or `id` becomes a string, a bad field names itself', async () => {
    const numeric = connect({ login: 'function login(e, p, cb) { cb(null, { id: 42, email: e, name: null }) }' })
    expect(await numeric.login({ identifier: 'a@example.com', password: 'Tr0ub4dor-horse-42' }, ctx)).toEqual({
      user_id: '42',
      email: 'a@example.com',
    })
    const bad = connect({ login: 'function login(e, p, cb) { cb(null, { user_id: "1", email_verified: "yes" }) }' })
    await expect(bad.login({ identifier: 'a@example.com', password: 'Tr0ub4dor-horse-42' }, ctx)).rejects.toThrow(
      /login script returned a profile whose email_verified is invalid/,
    )
    const empty = connect({ login: 'function login(e, p, cb) { cb(null, { email: e }) }' })
    await expect(empty.login({ identifier: 'a@example.com', password: 'Tr0ub4dor-horse-42' }, ctx)).rejects.toThrow(/user_id/)
  })
  it('throws NotSupportedError for an operation without its script', async () => {
    const c = connect({})
    await expect(c.signup({ email: 'a@example.com', password: 'Tr0ub4dor-horse-42' }, ctx)).rejects.toBeInstanceOf(NotSupportedError)
    await expect(c.getUser('a@example.com')).rejects.toBeInstanceOf(NotSupportedError)
    await expect(c.deleteUser('1')).rejects.toBeInstanceOf(NotSupportedError)
    await expect(c.createPasswordResetTicket('a@example.com')).rejects.toBeInstanceOf(NotSupportedError)
  })
  it('times out a script with a clear, typed error and no hang', async () => {
    const c = connect({ login: 'function login(e, p, cb) { }' }, { timeoutMs: 300 })
    const started = Date.now()
    await expect(c.login({ identifier: 'a@example.com', password: 'Tr0ub4dor-horse-42' }, ctx)).rejects.toBeInstanceOf(ScriptTimeoutError)
    expect(Date.now() - started).toBeLessThan(1300)
  })
  it('gives a legacy database that is down as a typed error, quickly', async () => {
    const down = await tcpCounter()
    await down.close() // the port is now closed: connections are refused
    const c = new CustomScriptConnection({
      name: uniqueName('down'),
      runner,
      scripts: template('mysql'),
      timeoutMs: 3000,
      attackProtection: false,
      // Every configuration value is a secret; one under 6 characters would withhold the message.
      configuration: {
        DB_HOST: '127.0.0.1',
        DB_PORT: String(down.port).padStart(6, '0'),
        DB_USER: 'legacy-user',
        DB_PASSWORD: 'db-secret-1',
        DB_NAME: 'legacy',
      },
      egress: { allow: [`127.0.0.1:${down.port}`] },
    })
    const started = Date.now()
    const error = (await c
      .login({ identifier: 'a@example.com', password: 'Tr0ub4dor-horse-42' }, ctx)
      .catch((e: unknown) => e)) as ScriptError
    expect(error).toBeInstanceOf(ScriptError)
    expect(error.message).toMatch(/ECONNREFUSED/)
    expect(Date.now() - started).toBeLessThan(2000)
  })
  it('keeps global between runs of one connection, and apart between connections', async () => {
    const login =
      'function login(e, p, cb) { global.calls = (global.calls || 0) + 1; cb(null, { user_id: "1", nickname: String(global.calls) }) }'
    const a = connect({ login })
    const b = connect({ login })
    await a.login({ identifier: 'a@example.com', password: 'Tr0ub4dor-horse-42' }, ctx)
    expect((await a.login({ identifier: 'a@example.com', password: 'Tr0ub4dor-horse-42' }, ctx)).nickname).toBe('2')
    expect((await b.login({ identifier: 'a@example.com', password: 'Tr0ub4dor-horse-42' }, ctx)).nickname).toBe('1')
  })
  it('keeps configuration secrets and the password out of every error and log', async () => {
    const events: LatchkeyEvent[] = []
    const c = connect(
      {
        login: `function login(email, password, cb) {
      console.log('dsn', configuration.DSN, 'pw', password)
      cb(new Error('could not log in ' + email + ' with ' + password + ' via ' + configuration.DSN))
    }`,
      },
      { configuration: { DSN: 'mysql://admin:Hunter2-Secret@db' }, onEvent: (e: LatchkeyEvent) => events.push(e) },
    )
    const error = (await c
      .login({ identifier: 'a@example.com', password: 'Typed-Password-9' }, ctx)
      .catch((e: unknown) => e)) as ScriptError
    const everything = JSON.stringify({ message: error.message, logs: error.logs, stack: error.stack, events })
    expect(everything).not.toContain('Hunter2-Secret')
    expect(everything).not.toContain('Typed-Password-9')
    expect(error.logs).toEqual(['[log] dsn [redacted] pw [redacted]'])
    expect(events.map((e) => e.type)).toEqual(['script_error', 'f'])
  })
})

describe('the same controls as a built-in connection (ASVS 6.1.3, 6.3.4)', () => {
  const connect = (opts: Partial<CustomScriptConnectionOptions> = {}) =>
    new CustomScriptConnection({ name: uniqueName('cs-pol'), runner, store, scripts: legacyInGlobal, ...opts })
  const OLD = 'Tr0ub4dor-horse-42'
  const NEW = 'Correct-staple-battery-9'
  const outcome = (p: Promise<unknown>) =>
    p.then(
      () => 'ok',
      (e: unknown) => (e as { code?: string }).code ?? String(e),
    )

  it('has the secure defaults of a built-in connection: 8 characters, the common list and the breached list', async () => {
    const legacy = connect()
    await expect(legacy.signup({ email: 'ada@example.com', password: 'seven-7' }, ctx)).rejects.toBeInstanceOf(PasswordPolicyError)
    await expect(legacy.signup({ email: 'ada@example.com', password: 'qwertyuiop123' }, ctx)).rejects.toBeInstanceOf(PasswordPolicyError)
    const noList = connect({ passwordPolicy: { dictionary: false } })
    await expect(noList.signup({ email: 'ada@example.com', password: 'qwertyuiop123' }, ctx)).rejects.toBeInstanceOf(PasswordLeakedError)
    expect(await legacy.getUser('ada@example.com')).toBeNull()
  })

  it('refuses a weak password at signup before create runs', async () => {
    const log = eventLog()
    const legacy = connect({
      passwordPolicy: { minLength: 12, noPersonalInfo: true, dictionary: { custom: ['acme'] } },
      onEvent: log.onEvent,
    })
    const error = await legacy.signup({ email: 'ada@example.com', password: 'short-pw' }, ctx).catch((e: unknown) => e)
    expect(error).toBeInstanceOf(PasswordPolicyError)
    expect((error as PasswordPolicyError).rules.filter((r) => !r.verified).map((r) => r.id)).toEqual(['min_length'])
    await expect(legacy.signup({ email: 'ada@example.com', password: 'I-love-acme-forever' }, ctx)).rejects.toBeInstanceOf(
      PasswordPolicyError,
    )
    await expect(legacy.signup({ email: 'lovelace@example.com', password: 'dear-lovelace-99' }, ctx)).rejects.toBeInstanceOf(
      PasswordPolicyError,
    )
    expect(await legacy.getUser('ada@example.com')).toBeNull() // create never ran
    expect(log.events.filter((e) => e.type === 'fs').map((e) => e.details?.['reason'])).toEqual([
      'invalid_password',
      'invalid_password',
      'invalid_password',
    ])
    await expect(legacy.signup({ email: 'ada@example.com', password: 'Tr0ub4dor-horse-42' }, ctx)).resolves.toMatchObject({
      email: 'ada@example.com',
    })
  })

  it('refuses a weak or leaked password at change before change_password runs', async () => {
    const legacy = connect({ passwordPolicy: { minLength: 12, dictionary: false }, breachedPasswords: true })
    await legacy.signup({ email: 'ada@example.com', password: 'Tr0ub4dor-horse-42' }, ctx)
    await expect(legacy.changePassword('ada@example.com', 'short-pw', ctx)).rejects.toBeInstanceOf(PasswordPolicyError)
    await expect(legacy.changePassword('ada@example.com', 'qwertyuiop123', ctx)).rejects.toBeInstanceOf(PasswordLeakedError)
    await expect(legacy.login({ identifier: 'ada@example.com', password: 'Tr0ub4dor-horse-42' }, ctx)).resolves.toBeTruthy()
    await legacy.changePassword('ada@example.com', 'Correct-staple-battery-9', ctx)
    await expect(legacy.login({ identifier: 'ada@example.com', password: 'Correct-staple-battery-9' }, ctx)).resolves.toBeTruthy()
  })

  it('refuses a weak password at reset before the ticket is consumed or change_password runs', async () => {
    const legacy = connect({ passwordPolicy: { minLength: 12, dictionary: false }, breachedPasswords: true })
    await legacy.signup({ email: 'ada@example.com', password: 'Tr0ub4dor-horse-42' }, ctx)
    const issued = await legacy.createPasswordResetTicket('ada@example.com', {}, ctx)
    await expect(legacy.resetPassword(issued!.ticket, 'short-pw', ctx)).rejects.toBeInstanceOf(PasswordPolicyError)
    await expect(legacy.resetPassword(issued!.ticket, 'qwertyuiop123', ctx)).rejects.toBeInstanceOf(PasswordLeakedError)
    await expect(legacy.login({ identifier: 'ada@example.com', password: 'Tr0ub4dor-horse-42' }, ctx)).resolves.toBeTruthy()
    await expect(legacy.resetPassword(issued!.ticket, 'Correct-staple-battery-9', ctx)).resolves.toMatchObject({ email: 'ada@example.com' })
    await expect(legacy.login({ identifier: 'ada@example.com', password: 'Correct-staple-battery-9' }, ctx)).resolves.toBeTruthy()
  })

  it('refuses a leaked password at signup with the breached list, and takes no history option', async () => {
    const legacy = connect({ passwordPolicy: { dictionary: false }, breachedPasswords: true })
    await expect(legacy.signup({ email: 'ada@example.com', password: 'qwertyuiop123' }, ctx)).rejects.toBeInstanceOf(PasswordLeakedError)
    expect(await legacy.getUser('ada@example.com')).toBeNull()
    expect(() => connect({ passwordPolicy: { history: 3 } as never })).toThrow(/history/)
  })

  it('verifies the current password with the login script under the login counters, then checks the policy', async () => {
    const legacy = connect({ attackProtection: { bruteForce: { threshold: 2 } }, passwordPolicy: { minLength: 12 } })
    await legacy.signup({ email: 'owner@example.com', password: OLD }, ctx)
    const change = (currentPassword: string, newPassword: string) =>
      outcome(legacy.changeOwnPassword({ identifier: 'owner@example.com', currentPassword, newPassword }, ctx))
    expect(await change('not-the-password-7', NEW)).toBe('invalid_user_password')
    expect(await change(OLD, 'short-pw-1')).toBe('invalid_password') // resets the pair: the current password matched
    await expect(legacy.login({ identifier: 'owner@example.com', password: OLD }, ctx)).resolves.toBeTruthy() // not changed
    expect(await change(OLD, NEW)).toBe('ok')
    await expect(legacy.login({ identifier: 'owner@example.com', password: NEW }, ctx)).resolves.toBeTruthy()
    expect(await change('not-the-password-7', NEW)).toBe('invalid_user_password')
    expect(await change('not-the-password-8', NEW)).toBe('invalid_user_password')
    expect(await change(NEW, 'Another-long-phrase-3')).toBe('too_many_attempts')
  })
})
