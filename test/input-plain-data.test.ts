// Input and output are plain data: own data properties of plain objects only, no
// `__proto__`, and metadata a host can use (bounded depth and size) everywhere it enters.
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import {
  BuiltinConnection,
  closeHashPool,
  CustomScriptConnection,
  importUsers,
  InvalidInputError,
  MAX_METADATA_BYTES,
  MAX_METADATA_DEPTH,
  ScriptError,
} from '@latchkey/core'
import type { OpenedStore } from '@latchkey/adapters'
import { QuickJsRunner } from '@latchkey/sandbox'
import { TEST_COST } from './support/test-cost.js'
import { DIALECTS, openTestStore, uniqueName } from './support/dialects.js'

const ctx = { ip: '198.51.100.12' }
const PASSWORD = 'Tr0ub4dor-horse-42'

/** `{ a: { a: … { leaf: 1 } } }`, `levels` objects deep in all. */
function nested(levels: number): Record<string, unknown> {
  let value: Record<string, unknown> = { leaf: 1 }
  for (let i = 1; i < levels; i++) value = { a: value }
  return value
}

function issuePath(error: unknown): string {
  expect(error).toBeInstanceOf(InvalidInputError)
  return (error as InvalidInputError).issues[0]!.path.join('.')
}

afterAll(async () => {
  await closeHashPool()
})

for (const dialect of DIALECTS) {
  describe(`plain input on ${dialect}`, () => {
    let store: OpenedStore
    let users: BuiltinConnection
    beforeAll(async () => {
      store = await openTestStore(dialect)
      users = new BuiltinConnection({ name: uniqueName('plain'), store, ...TEST_COST, attackProtection: false })
    })
    afterAll(async () => {
      await store.close()
    })

    it('refuses user_metadata nested 8,000 deep at signup, naming the field; 10 levels are fine and serialise', async () => {
      const deep = await users
        .signup({ email: 'deep@example.com', password: PASSWORD, user_metadata: nested(8000) }, ctx)
        .catch((e: unknown) => e)
      expect(issuePath(deep)).toMatch(/^user_metadata(\.a)*$/)
      expect((deep as Error).message).toMatch(`nested at most ${MAX_METADATA_DEPTH} levels deep`)
      expect(await users.getUser('deep@example.com')).toBeNull()
      const fine = await users.signup({ email: 'fine@example.com', password: PASSWORD, user_metadata: nested(MAX_METADATA_DEPTH) }, ctx)
      expect(JSON.parse(JSON.stringify(fine)).user_metadata).toEqual(nested(MAX_METADATA_DEPTH))
    })

    it('applies the same limits at updateUser and import', async () => {
      const user = await users.signup({ email: 'upd@example.com', password: PASSWORD }, ctx)
      expect(
        issuePath(await users.updateUser(user.user_id, { app_metadata: nested(MAX_METADATA_DEPTH + 1) }).catch((e: unknown) => e)),
      ).toMatch(/^app_metadata/)
      const big = { blob: 'x'.repeat(MAX_METADATA_BYTES) }
      expect(issuePath(await users.updateUser(user.user_id, { user_metadata: big }).catch((e: unknown) => e))).toBe('user_metadata')
      const result = await importUsers(users, [
        { email: 'imp@example.com', user_metadata: nested(50) },
        { email: 'ok@example.com', user_metadata: { plan: 'pro' } },
      ])
      expect(result.imported).toBe(1)
      expect(result.failures[0]).toMatchObject({ index: 0, code: 'invalid_record' })
      expect(result.failures[0]!.message).toMatch(/user_metadata/)
    })

    it('takes own data properties of plain objects only', async () => {
      // toJSON is never called: the object is not stored as the array it claims to be.
      const toJson = await users
        .signup(
          {
            email: 'tojson@example.com',
            password: PASSWORD,
            user_metadata: {
              toJSON() {
                return [1, 2, 3]
              },
            },
          },
          ctx,
        )
        .catch((e: unknown) => e)
      expect(issuePath(toJson)).toBe('user_metadata.toJSON')
      const getter = await users
        .signup(
          {
            email: 'getter@example.com',
            password: PASSWORD,
            user_metadata: {
              get plan() {
                return 'pro'
              },
            },
          },
          ctx,
        )
        .catch((e: unknown) => e)
      expect(issuePath(getter)).toBe('user_metadata.plan')
      // Properties reached through the prototype are not the caller's input.
      const inherited = Object.create({ username: 'inherited', user_metadata: { role: 'admin' } }) as Record<string, unknown>
      Object.assign(inherited, { email: 'proto@example.com', password: PASSWORD })
      expect(await users.signup(inherited as never, ctx).catch((e: unknown) => e)).toBeInstanceOf(InvalidInputError)
      const plainCopy = await users.signup({ ...inherited } as never, ctx)
      expect(plainCopy.username).toBeUndefined()
      expect(plainCopy.user_metadata ?? {}).toEqual({})
    })

    it('refuses __proto__ and constructor.prototype in metadata', async () => {
      const polluted = JSON.parse('{"nested": {"__proto__": {"isAdmin": true}}}') as Record<string, unknown>
      expect(
        issuePath(
          await users.signup({ email: 'pp@example.com', password: PASSWORD, user_metadata: polluted }, ctx).catch((e: unknown) => e),
        ),
      ).toBe('user_metadata.nested.__proto__')
      const chain = JSON.parse('{"constructor": {"prototype": {"isAdmin": true}}}') as Record<string, unknown>
      expect(
        issuePath(await users.signup({ email: 'cp@example.com', password: PASSWORD, user_metadata: chain }, ctx).catch((e: unknown) => e)),
      ).toBe('user_metadata.constructor')
      expect(await users.getUser('pp@example.com')).toBeNull()
    })
  })
}

describe('what a script hands back', () => {
  const runner = new QuickJsRunner({ workers: 1, timeoutMs: 20_000 })
  afterAll(async () => {
    await runner.close()
  })

  it('never carries a __proto__ key or constructor.prototype to the host', async () => {
    const { value } = await runner.run(
      `function f(cb) {
      cb(null, JSON.parse('{"user_id":"1","__proto__":{"isAdmin":true},"deep":{"__proto__":{"x":1},"constructor":{"prototype":{"y":2}}}}'))
    }`,
      [],
    )
    const v = value as Record<string, Record<string, unknown>>
    expect(Object.keys(v)).toEqual(['user_id', 'deep'])
    expect(Object.keys(v['deep']!)).toEqual(['constructor'])
    expect(Object.keys(v['deep']!['constructor'] as object)).toEqual([])
    const merged = Object.assign({}, value) as Record<string, unknown>
    expect(Object.getPrototypeOf(merged)).toBe(Object.prototype)
    expect(merged['isAdmin']).toBeUndefined()
  })

  it("refuses a script's profile whose user_metadata is too deep, naming the field", async () => {
    const legacy = new CustomScriptConnection({
      name: uniqueName('deep'),
      runner,
      attackProtection: false,
      scripts: {
        login: `function login(e, p, cb) { let m = { leaf: 1 }; for (let i = 0; i < 40; i++) m = { a: m }; cb(null, { user_id: '1', user_metadata: m }) }`,
      },
    })
    const error = await legacy.login({ identifier: 'a@example.com', password: PASSWORD }, ctx).catch((e: unknown) => e)
    expect(error).toBeInstanceOf(ScriptError)
    expect((error as Error).message).toMatch(
      /^The login script returned a profile whose user_metadata(\.a)* is invalid: must be nested at most 10 levels deep/,
    )
  })
})
