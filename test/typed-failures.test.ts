// Failures a newcomer meets first: each one is a typed LatchkeyError that says what to do.
import { mkdtempSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, describe, expect, it } from 'vitest'
import {
  BuiltinConnection,
  closeHashPool,
  CustomScriptConnection,
  InvalidInputError,
  LatchkeyError,
  NotSupportedError,
  StoreUnavailableError,
} from '@latchkey/core'
import { openStore } from '@latchkey/adapters'
import { QuickJsRunner } from '@latchkey/sandbox'
import { uniqueName } from './support/dialects.js'
import { TEST_COST } from './support/test-cost.js'

const runner = new QuickJsRunner({ timeoutMs: 3000, workers: 1 })
const login = 'function login(email, password, cb) { cb() }'

afterAll(async () => {
  await runner.close()
  await closeHashPool()
})

const failure = async (work: () => unknown): Promise<unknown> => {
  try {
    await work()
  } catch (error) {
    return error
  }
  throw new Error('expected a failure')
}

describe('a custom-script connection', () => {
  it('needs a store for its attack protection, or an explicit attackProtection: false', async () => {
    const error = await failure(() => new CustomScriptConnection({ name: uniqueName('cs'), runner, scripts: { login } }))
    expect(error).toBeInstanceOf(InvalidInputError)
    expect((error as InvalidInputError).issues).toEqual([expect.objectContaining({ path: ['store'], code: 'custom' })])
    expect((error as Error).message).toMatch(/^Invalid input: store: is required for attack protection: .*attackProtection: false/)
    expect(new CustomScriptConnection({ name: uniqueName('cs'), runner, scripts: { login }, attackProtection: false }).name).toMatch(/^cs-/)
    const store = await openStore('sqlite::memory:')
    expect(new CustomScriptConnection({ name: uniqueName('cs'), runner, scripts: { login }, store }).name).toMatch(/^cs-/)
    await store.close()
  })

  it('refuses a wildcard egress entry, saying why', async () => {
    for (const allow of [['*'], ['db.internal:3306', '*.example.com']]) {
      const error = await failure(
        () =>
          new CustomScriptConnection({
            name: uniqueName('cs'),
            runner,
            scripts: { login },
            attackProtection: false,
            egress: { allow },
          }),
      )
      expect(error).toBeInstanceOf(InvalidInputError)
      expect((error as InvalidInputError).issues[0]).toMatchObject({ path: ['egress', 'allow', allow.length - 1], code: 'custom' })
      expect((error as Error).message).toMatch(/wildcards are not supported.*would allow nothing/)
    }
  })

  it('the runner refuses a wildcard egress entry too', async () => {
    const error = await failure(() => runner.run('function f(cb) { cb(null, 1) }', [], { egress: { allow: ['*'] } }))
    expect(error).toBeInstanceOf(InvalidInputError)
    expect((error as Error).message).toMatch(/wildcards are not supported/)
  })

  it('says "tickets need a store" first, whichever scripts are missing', async () => {
    const c = new CustomScriptConnection({ name: uniqueName('cs'), runner, scripts: { login }, attackProtection: false })
    const calls = [
      () => c.createPasswordResetTicket('ada@example.com'),
      () => c.createEmailVerificationTicket('ada@example.com'),
      () => c.resetPassword('a'.repeat(43), 'Tr0ub4dor-horse-42'),
      () => c.verifyEmailWithTicket('a'.repeat(43)),
    ]
    for (const call of calls) {
      const error = await failure(call)
      expect(error).toBeInstanceOf(NotSupportedError)
      expect((error as Error).message).toMatch(/^Tickets need a store/)
    }
  })
})

describe('openStore', () => {
  it('gives a SQLite file in a missing directory as StoreUnavailableError, naming the cause', async () => {
    const error = await failure(() => openStore(`sqlite:${join(mkdtempSync(join(tmpdir(), 'latchkey-')), 'no', 'such', 'x.db')}`))
    expect(error).toBeInstanceOf(StoreUnavailableError)
    expect((error as Error).message).toMatch(/could not be opened: .*directory does not exist/)
  })

  it('gives every bad argument as InvalidInputError, never a raw TypeError', async () => {
    const bad = [[42], [null], [{ kysely: {}, dialect: 'sqlite' }], ['sqlite::memory:', { poolSize: -1 }], ['sqlite::memory:', { nope: 1 }]]
    for (const args of bad) {
      const error = await failure(() => openStore(...(args as Parameters<typeof openStore>)))
      expect(error).toBeInstanceOf(InvalidInputError)
    }
  })
})

describe('messages', () => {
  it('say "Invalid input" once, then where, then what', async () => {
    const store = await openStore('sqlite::memory:')
    const users = new BuiltinConnection({ name: uniqueName('msg'), store, ...TEST_COST })
    const error = await failure(() => users.signup({ email: 42 as never, password: 'Tr0ub4dor-horse-42' }, { ip: '192.0.2.1' }))
    expect(error).toBeInstanceOf(LatchkeyError)
    const message = (error as Error).message
    expect(message).toMatch(/^Invalid input: email: /)
    expect(message.match(/invalid input/gi)).toHaveLength(1)
    // zod's own message is kept whole in the issue.
    expect((error as InvalidInputError).issues[0]?.message).toMatch(/^Invalid input: expected string/)
    await store.close()
  })
})
