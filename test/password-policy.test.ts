// Password policy: every level of the table, every option, at signup, change and reset.
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import {
  BuiltinConnection,
  closeHashPool,
  MIN_BLOCKLIST_ENTRIES,
  PasswordLeakedError,
  PasswordPolicy,
  PasswordPolicyError,
  type PasswordPolicyOptions,
} from '@latchkey/core'
import { openStore, type OpenedStore } from '@latchkey/adapters'
import { uniqueName } from './support/dialects.js'
import { TEST_COST } from './support/test-cost.js'

const ctx = { ip: '192.0.2.10' }
let store: OpenedStore
beforeAll(async () => {
  store = await openStore('sqlite::memory:')
})
afterAll(async () => {
  await store.close()
  await closeHashPool()
})

/** The process warnings `construct` emits (they are delivered on the next tick). */
async function collectWarnings(construct: () => void): Promise<Error[]> {
  const seen: Error[] = []
  const listener = (w: Error) => seen.push(w)
  await new Promise((resolve) => setTimeout(resolve, 10)) // earlier tests' warnings land first
  process.on('warning', listener)
  try {
    construct()
    await new Promise((resolve) => setTimeout(resolve, 10))
  } finally {
    process.off('warning', listener)
  }
  return seen.filter((w) => (w as Error & { code?: string }).code?.startsWith('LATCHKEY_'))
}

const failing = (policy: PasswordPolicy, password: string, info = {}) =>
  policy
    .evaluate(password.normalize('NFKC'), info)
    .filter((r) => !r.verified)
    .map((r) => r.id)

describe('levels', () => {
  const cases: [PasswordPolicyOptions['level'], string, string[]][] = [
    ['none', 'a', []],
    ['low', 'abcde', ['min_length']],
    ['low', 'abcdef', []],
    ['fair', 'Abcdef1', ['min_length']],
    ['fair', 'abcdefg1', ['upper_case']],
    ['fair', 'ABCDEFG1', ['lower_case']],
    ['fair', 'Abcdefgh', ['digits']],
    ['fair', 'Abcdefg1', []],
    ['good', 'abcdefg1', ['character_classes']],
    ['good', 'abcdef1!', []],
    ['good', 'ABCDEF1!', []],
    ['good', 'Abcdefgh!', []],
    ['good', 'Abc 1', ['min_length']],
    ['excellent', 'Abcdef1!x', ['min_length']],
    ['excellent', 'Abcdef1!xy', []],
    ['excellent', 'Abbbcd1!xy', ['no_repeats']],
    ['excellent', 'Abbcdd1!xy', []],
    ['excellent', 'abcdefghij', ['character_classes']],
    // nist: 15+ characters, no composition rules, the blocklist on.
    ['nist', 'abcdefghijklmn', ['min_length']],
    ['nist', 'zz zz zz zz zz zz', []],
    ['nist', 'QWERTYUIOP12345', ['dictionary']],
  ]
  for (const [level, password, expected] of cases) {
    it(`${level}: ${JSON.stringify(password)} fails ${JSON.stringify(expected)}`, () => {
      expect(failing(new PasswordPolicy({ level, dictionary: level === 'nist' }), password)).toEqual(expected)
    })
  }

  it('counts every OWASP special character, and only those, as special', () => {
    const policy = new PasswordPolicy({ level: 'good' })
    for (const special of ' !"#$%&\'()*+,-./:;<=>?@[\\]^_`{|}~') {
      expect(failing(policy, `abcdefg${special}1`)).toEqual([])
    }
    expect(failing(policy, 'abcdefg§1')).toEqual(['character_classes'])
  })

  it('counts length in code points after NFKC', () => {
    const policy = new PasswordPolicy({ level: 'low' })
    expect(failing(policy, '😀😀😀😀😀😀')).toEqual([]) // 6 code points, 12 UTF-16 units
    expect(failing(policy, '😀😀😀😀😀')).toEqual(['min_length'])
    expect(failing(policy, 'ﬁﬁﬁ')).toEqual([]) // NFKC: "fififi"
  })
})

describe('options', () => {
  it('minLength overrides the level default', () => {
    expect(failing(new PasswordPolicy({ level: 'excellent', minLength: 12 }), 'Abcdef1!xyz')).toEqual(['min_length'])
    expect(failing(new PasswordPolicy({ level: 'low', minLength: 2 }), 'ab')).toEqual([])
    expect(() => new PasswordPolicy({ minLength: 73 })).toThrow()
    expect(() => new PasswordPolicy({ minLength: 0 })).toThrow()
  })

  it('dictionary refuses common passwords case-insensitively, from a list of 10,000+', () => {
    const policy = new PasswordPolicy({ dictionary: true })
    expect(failing(policy, 'password')).toEqual(['dictionary'])
    expect(failing(policy, 'PaSsWoRd')).toEqual(['dictionary'])
    expect(failing(policy, 'qwertyuiop')).toEqual(['dictionary'])
    expect(failing(policy, 'trustno1')).toEqual(['dictionary'])
    expect(failing(policy, 'x7#Kq!vz-unlikely')).toEqual([])
  })

  it('dictionary takes a custom list, on top of the built-in one or alone', () => {
    const both = new PasswordPolicy({ dictionary: { custom: ['Latchkey2026'] } })
    expect(failing(both, 'latchkey2026')).toEqual(['dictionary'])
    expect(failing(both, 'password')).toEqual(['dictionary'])
    const alone = new PasswordPolicy({ dictionary: { enabled: false, custom: ['latchkey2026'] } })
    expect(failing(alone, 'LATCHKEY2026')).toEqual(['dictionary'])
    expect(failing(alone, 'password')).toEqual([])
  })

  it('dictionary.custom refuses context words anywhere inside the password, case-insensitively', () => {
    const policy = new PasswordPolicy({ dictionary: { enabled: false, custom: ['acme', 'Latchkey', 'ＲＯＡＤＲＵＮＮＥＲ'] } })
    expect(failing(policy, 'Acme2025!')).toEqual(['dictionary'])
    expect(failing(policy, 'my-LATCHKEY-login')).toEqual(['dictionary'])
    expect(failing(policy, 'beep-roadrunner-beep')).toEqual(['dictionary']) // the entry is NFKC-normalised too
    expect(failing(policy, 'Tr0ub4dor-horse-42')).toEqual([])
    // An entry under 3 characters would refuse too much inside a password: it matches only the whole of one.
    const short = new PasswordPolicy({ minLength: 1, dictionary: { enabled: false, custom: ['ac'] } })
    expect(failing(short, 'AC')).toEqual(['dictionary'])
    expect(failing(short, 'Tracking-horse-42')).toEqual([])
  })

  it('dictionary.list replaces the built-in list, keeping only entries that reach the minimum length', () => {
    const policy = new PasswordPolicy({ minLength: 12, dictionary: { list: ['short-one', 'Long-Enough-Leaked-1', 'another-long-leak'] } })
    expect(policy.blocklistSize).toBe(2)
    expect(failing(policy, 'long-enough-leaked-1')).toEqual(['dictionary'])
    expect(failing(policy, 'password1234')).toEqual([]) // in the built-in list, not in this one
  })

  it('warns at construction when fewer than 3,000 blocklist entries reach the minimum length', async () => {
    const warnings = await collectWarnings(() => {
      new PasswordPolicy({ dictionary: true })
      new PasswordPolicy({ minLength: 8, dictionary: true })
    })
    expect(warnings.map((w) => w.message)).toEqual([])
    expect(new PasswordPolicy({ minLength: 8, dictionary: true }).blocklistSize).toBeGreaterThanOrEqual(MIN_BLOCKLIST_ENTRIES)
    // Even the longest built-in lists run out: few leaked passwords have 20+ characters.
    const long = await collectWarnings(() => new PasswordPolicy({ minLength: 20 }))
    expect(long).toHaveLength(1)
    expect(long[0]).toMatchObject({ code: 'LATCHKEY_SMALL_BLOCKLIST' })
    expect(long[0]!.message).toMatch(/only \d+ entries of 20\+ characters/)
    const large = Array.from({ length: MIN_BLOCKLIST_ENTRIES }, (_, i) => `leaked-passphrase-for-twenty-${i}`)
    expect(await collectWarnings(() => new PasswordPolicy({ minLength: 20, dictionary: { list: large } }))).toEqual([])
    expect(await collectWarnings(() => new PasswordPolicy({ minLength: 20, dictionary: false }))).toEqual([])
  })

  it('for longer minimums the built-in list adds the leaked top million filtered by length, so nist and excellent do not warn', async () => {
    const warnings = await collectWarnings(() => {
      for (const level of ['excellent', 'nist'] as const) {
        const policy = new PasswordPolicy({ level })
        expect(policy.blocklistSize, level).toBeGreaterThanOrEqual(MIN_BLOCKLIST_ENTRIES)
      }
      expect(new PasswordPolicy({ minLength: 12 }).blocklistSize).toBeGreaterThanOrEqual(MIN_BLOCKLIST_ENTRIES)
    })
    expect(warnings).toEqual([])
    const nist = new PasswordPolicy({ level: 'nist' })
    // Leaked passwords of 15+ characters that the 49,000-entry common list does not hold.
    for (const leaked of ['123456789123456789', 'qwertyuiopasdfg', 'QWERTYUIOP123456789']) {
      expect(failing(nist, leaked), leaked).toEqual(['dictionary'])
    }
    expect(failing(nist, 'Tr0ub4dor-horse-42-battery')).toEqual([])
  })

  it('noPersonalInfo refuses fragments of 3+ characters from the profile', () => {
    const policy = new PasswordPolicy({ level: 'none', dictionary: false, noPersonalInfo: true })
    const info = {
      email: 'ada.lovelace@example.com',
      username: 'countess',
      name: 'Augusta Ada King',
      nickname: 'AL',
      user_metadata: { name: 'Ada Byron', first: 'Augusta', last: 'Byron' },
    }
    for (const bad of ['my-ADA.LOVELACE-pw', 'xxCountessxx', 'king1815', 'BYRON!!', 'lovelace99', 'augusta']) {
      expect(failing(policy, bad, info), bad).toEqual(['personal_info'])
    }
    // "AL" is under 3 characters and does not count; neither do unrelated words.
    expect(failing(policy, 'al-analytical-engine', { nickname: 'AL' })).toEqual([])
    expect(failing(policy, 'unrelated-words', info)).toEqual([])
  })
})

describe('at signup, change and reset', () => {
  const connect = (passwordPolicy: PasswordPolicyOptions) =>
    new BuiltinConnection({ name: uniqueName('pol'), store, ...TEST_COST, passwordPolicy })

  it('signup lists every rule with { id, message, verified }', async () => {
    const connection = connect({ level: 'fair', dictionary: true, noPersonalInfo: true })
    const error = await connection.signup({ email: 'maria@example.com', password: 'maria' }, ctx).catch((e: unknown) => e)
    expect(error).toBeInstanceOf(PasswordPolicyError)
    const rules = (error as PasswordPolicyError).rules
    expect(rules.map((r) => r.id)).toEqual(['min_length', 'max_bytes', 'lower_case', 'upper_case', 'digits', 'dictionary', 'personal_info'])
    expect(rules.find((r) => r.id === 'lower_case')).toEqual({ id: 'lower_case', message: expect.any(String), verified: true })
    expect(rules.filter((r) => !r.verified).map((r) => r.id)).toEqual(['min_length', 'upper_case', 'digits', 'dictionary', 'personal_info'])
    expect((error as PasswordPolicyError).code).toBe('invalid_password')
    expect(JSON.stringify(error)).not.toContain('maria@example')
  })

  it('signup checks personal info from the username and user_metadata', async () => {
    const connection = connect({ noPersonalInfo: true })
    await expect(connection.signup({ email: 'x@example.com', password: 'i-am-sparrow', username: 'sparrow' }, ctx)).rejects.toBeInstanceOf(
      PasswordPolicyError,
    )
    await expect(
      connection.signup({ email: 'x@example.com', password: 'hello-jack', user_metadata: { first: 'Jack' } }, ctx),
    ).rejects.toBeInstanceOf(PasswordPolicyError)
    await expect(
      connection.signup({ email: 'x@example.com', password: 'hello-world', user_metadata: { first: 'Jack' } }, ctx),
    ).resolves.toBeTruthy()
  })

  it('existing passwords keep working after the policy tightens', async () => {
    const name = uniqueName('pol')
    // A user from before the secure defaults: 1 character, no lists.
    const before = { passwordPolicy: { level: 'none', dictionary: false }, breachedPasswords: false } as const
    await new BuiltinConnection({ name, store, ...TEST_COST, ...before }).signup({ email: 'weak@example.com', password: 'a' }, ctx)
    for (const passwordPolicy of [undefined, { level: 'excellent' } as const, { level: 'nist' } as const]) {
      const strict = new BuiltinConnection({ name, store, ...TEST_COST, ...(passwordPolicy ? { passwordPolicy } : {}) })
      await expect(strict.login({ identifier: 'weak@example.com', password: 'a' }, ctx)).resolves.toBeTruthy()
      await expect(strict.changePassword('weak@example.com', 'b', ctx)).rejects.toBeInstanceOf(PasswordPolicyError)
    }
  })

  it('history refuses the last n passwords, the current one included', async () => {
    const connection = connect({ history: 3 })
    await connection.signup({ email: 'h@example.com', password: 'history-one-Xq7' }, ctx)
    const historyError = (password: string) =>
      connection.changePassword('h@example.com', password, ctx).then(
        () => null,
        (e: unknown) => (e as PasswordPolicyError).rules.find((r) => r.id === 'history'),
      )
    expect(await historyError('history-one-Xq7')).toMatchObject({ verified: false }) // the current one
    await connection.changePassword('h@example.com', 'history-two-Xq7', ctx)
    await connection.changePassword('h@example.com', 'history-three-Xq7', ctx)
    expect(await historyError('history-one-Xq7')).toMatchObject({ verified: false })
    expect(await historyError('history-two-Xq7')).toMatchObject({ verified: false })
    await connection.changePassword('h@example.com', 'history-four-Xq7', ctx)
    // The last three are four, three, two: "one" is allowed again.
    expect(await historyError('history-one-Xq7')).toBeNull()
  })

  it('history applies at reset, and a refused reset leaves the ticket usable', async () => {
    const connection = connect({ history: 2 })
    await connection.signup({ email: 'r@example.com', password: 'reset-first-Zk9' }, ctx)
    const issued = await connection.createPasswordResetTicket('r@example.com')
    await expect(connection.resetPassword(issued!.ticket, 'reset-first-Zk9', ctx)).rejects.toBeInstanceOf(PasswordPolicyError)
    await expect(connection.resetPassword(issued!.ticket, 'reset-second-Zk9', ctx)).resolves.toMatchObject({ email: 'r@example.com' })
  })

  it('history: 0 keeps no old hashes at all', async () => {
    const connection = connect({})
    const user = await connection.signup({ email: 'n@example.com', password: 'history-one-Xq7' }, ctx)
    await connection.changePassword('n@example.com', 'history-two-Xq7', ctx)
    expect(await store.passwordHistory(connection.name, user.user_id, 24)).toEqual([])
  })

  it('the nist level turns the breached list on, unless the connection turns it off', async () => {
    // The dictionary is off here, so what refuses a 15+ character leaked password is the breached list.
    const nist = connect({ level: 'nist', dictionary: false })
    const leaked = { email: 'nist@example.com', password: 'passwordpassword' }
    await expect(nist.signup(leaked, ctx)).rejects.toBeInstanceOf(PasswordLeakedError)
    const off = new BuiltinConnection({
      name: uniqueName('pol'),
      store,
      ...TEST_COST,
      passwordPolicy: { level: 'nist', dictionary: false },
      breachedPasswords: false,
    })
    await expect(off.signup(leaked, ctx)).resolves.toMatchObject({ email: 'nist@example.com' })
    await expect(nist.signup({ email: 'nist2@example.com', password: 'a-long-passphrase-of-mine' }, ctx)).resolves.toBeTruthy()
  })

  it('refuses bad policy options with a typed error', () => {
    expect(() => connect({ history: 25 })).toThrow(/history/)
    expect(() => connect({ level: 'strong' as never })).toThrow(/level/)
  })
})
