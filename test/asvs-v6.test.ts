// The ASVS 5.0 checklist is a test: docs/asvs-v6.md must list every V6 and V11.4 requirement once, with a verdict, and
// every requirement it calls met must name tests that exist. Below it, the proofs that have no better home.
import { readFileSync } from 'node:fs'
import { fileURLToPath } from 'node:url'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import {
  BuiltinConnection,
  closeHashPool,
  InvalidInputError,
  PasswordLeakedError,
  PasswordPolicy,
  PasswordPolicyError,
} from '@latchkey/core'
import { openStore, type OpenedStore } from '@latchkey/adapters'
import { uniqueName } from './support/dialects.js'
import { TEST_COST } from './support/test-cost.js'

const root = new URL('../', import.meta.url)
const read = (path: string) => readFileSync(fileURLToPath(new URL(path, root)), 'utf8')

/** Every requirement of ASVS 5.0 chapter V6 and section V11.4, by section and count. */
const REQUIREMENTS = [
  ...[
    [1, 3],
    [2, 12],
    [3, 8],
    [4, 6],
    [5, 8],
    [6, 4],
    [7, 2],
    [8, 4],
  ].flatMap(([section, count]) => Array.from({ length: count! }, (_, i) => `V6.${section}.${i + 1}`)),
  'V11.4.1',
  'V11.4.2',
  'V11.4.3',
  'V11.4.4',
]
const VERDICTS = ['met', 'met by the host', 'not applicable', 'not met']

interface Row {
  id: string
  verdict: string
  proofs: { file: string; title: string }[]
  note: string
}

function checklist(): Row[] {
  return read('docs/asvs-v6.md')
    .split('\n')
    .filter((line) => /^\|\s*V\d+\.\d+\.\d+\s*\|/.test(line))
    .map((line) => {
      const cells = line
        .split('|')
        .slice(1, -1)
        .map((c) => c.trim())
      const [id, , , verdict, proof, note] = cells
      const proofs = [...(proof ?? '').matchAll(/`(test\/[\w./-]+\.test\.ts)` › "([^"]+)"/g)].map((m) => ({ file: m[1]!, title: m[2]! }))
      return { id: id!, verdict: verdict!, proofs, note: note ?? '' }
    })
}

/** The titles of every `it(...)` in a test file, with string escapes undone. */
function testTitles(file: string): Set<string> {
  const source = read(file)
  return new Set([...source.matchAll(/\bit\(\s*(['"])((?:\\.|(?!\1)[^\\])*)\1/g)].map((m) => m[2]!.replace(/\\(.)/g, '$1')))
}

describe('docs/asvs-v6.md', () => {
  const rows = checklist()

  it('lists every V6 and V11.4 requirement exactly once, each with a known verdict', () => {
    expect(rows.map((r) => r.id)).toEqual(REQUIREMENTS)
    for (const row of rows) expect(VERDICTS, row.id).toContain(row.verdict)
  })

  it('names, for every requirement latchkey meets, tests that exist', () => {
    for (const row of rows.filter((r) => r.verdict === 'met')) {
      expect(row.proofs.length, `${row.id} is met but names no test`).toBeGreaterThan(0)
      for (const proof of row.proofs) {
        expect(testTitles(proof.file), `${row.id} names a test that does not exist: ${proof.file} › ${proof.title}`).toContain(proof.title)
      }
    }
  })

  it('gives a reason for every requirement that is not met, not applicable or met by the host', () => {
    for (const row of rows.filter((r) => r.verdict !== 'met')) expect(row.note.length, row.id).toBeGreaterThan(10)
  })
})

describe('proofs for the checklist', () => {
  const ctx = { ip: '198.51.100.61' }
  let store: OpenedStore
  beforeAll(async () => {
    store = await openStore('sqlite::memory:')
  })
  afterAll(async () => {
    await store.close()
    await closeHashPool()
  })

  it('by default asks for 8 characters, refuses common and breached passwords, and imposes no composition rules', async () => {
    const users = new BuiltinConnection({ name: uniqueName('asvs'), store, ...TEST_COST })
    const refused = async (password: string) => {
      const error = await users.signup({ email: 'default@example.com', password }, ctx).catch((e: unknown) => e)
      expect(error, password).toBeInstanceOf(PasswordPolicyError)
      return (error as PasswordPolicyError).rules.filter((r) => !r.verified).map((r) => r.id)
    }
    expect(await refused('a')).toEqual(['min_length'])
    expect(await refused('abc123')).toEqual(['min_length', 'dictionary'])
    expect(await refused('seven-7')).toEqual(['min_length'])
    expect(await refused('PASSWORD1')).toEqual(['dictionary'])
    expect(await refused('trustno1')).toEqual(['dictionary'])
    // The breached list, on by default, refuses what the policy's list does not cover once that is off.
    const noList = new BuiltinConnection({ name: uniqueName('asvs'), store, ...TEST_COST, passwordPolicy: { dictionary: false } })
    await expect(noList.signup({ email: 'default@example.com', password: 'iloveyou' }, ctx)).rejects.toBeInstanceOf(PasswordLeakedError)
    // Eight characters of any kind and any mix are enough.
    for (const [i, password] of ['eightchr', 'ÜBERÉLAN', '😀😀😀😀😀😀😀😀', '53817264', 'zz zz zz'].entries()) {
      await expect(users.signup({ email: `ok${i}@example.com`, password }, ctx), password).resolves.toBeTruthy()
    }
    expect(new PasswordPolicy().minLength).toBe(8)
  })

  it('refuses a bcrypt cost under 10 unless the connection says it is a test suite', () => {
    for (const bcryptCost of [4, 9]) {
      expect(() => new BuiltinConnection({ name: uniqueName('asvs'), store, bcryptCost })).toThrow(InvalidInputError)
      expect(() => new BuiltinConnection({ name: uniqueName('asvs'), store, bcryptCost, unsafeLowCostForTests: false })).toThrow(
        /unsafeLowCostForTests/,
      )
      expect(new BuiltinConnection({ name: uniqueName('asvs'), store, bcryptCost, unsafeLowCostForTests: true }).bcryptCost).toBe(
        bcryptCost,
      )
    }
    expect(new BuiltinConnection({ name: uniqueName('asvs'), store }).bcryptCost).toBe(10)
    expect(new BuiltinConnection({ name: uniqueName('asvs'), store, bcryptCost: 10 }).bcryptCost).toBe(10)
  })

  it('imposes no composition rules with the nist level: any characters in any mix', () => {
    const policy = new PasswordPolicy({ level: 'nist' })
    for (const password of ['only lower case words', 'ÜBER-ÉLAN-ÅNGSTRÖM', '😀😀😀😀😀😀😀😀😀😀😀😀😀😀😀', '314159265358979323']) {
      expect(
        policy.evaluate(password.normalize('NFKC')).filter((r) => !r.verified),
        password,
      ).toEqual([])
    }
  })

  it('verifies the password as received: case matters, and 64 characters are accepted', async () => {
    const users = new BuiltinConnection({ name: uniqueName('asvs'), store, ...TEST_COST })
    const long = 'Sixty-four characters long, a sentence is an easy password: 1234'
    expect(long).toHaveLength(64)
    await users.signup({ email: 'case@example.com', password: long }, ctx)
    await expect(users.login({ identifier: 'case@example.com', password: long }, ctx)).resolves.toBeTruthy()
    await expect(users.login({ identifier: 'case@example.com', password: long.toLowerCase() }, ctx)).rejects.toMatchObject({
      code: 'invalid_user_password',
    })
    await expect(users.login({ identifier: 'case@example.com', password: long.slice(0, 63) }, ctx)).rejects.toMatchObject({
      code: 'invalid_user_password',
    })
  })

  it('never expires a password: it still works ten years later', async () => {
    const clock = { now: new Date('2026-01-01T00:00:00Z') }
    const users = new BuiltinConnection({ name: uniqueName('asvs'), store, ...TEST_COST, now: () => clock.now })
    await users.signup({ email: 'old@example.com', password: 'Tr0ub4dor-horse-42' }, ctx)
    clock.now = new Date('2036-01-01T00:00:00Z')
    await expect(users.login({ identifier: 'old@example.com', password: 'Tr0ub4dor-horse-42' }, ctx)).resolves.toBeTruthy()
  })

  it('creates no default accounts', async () => {
    const users = new BuiltinConnection({ name: uniqueName('asvs'), store, ...TEST_COST })
    for (const name of ['admin', 'root', 'sa', 'administrator', 'admin@example.com']) expect(await users.getUser(name)).toBeNull()
  })
})
