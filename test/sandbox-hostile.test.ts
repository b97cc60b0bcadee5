// Every script of the hostile corpus ends in its expected outcome within timeout + 1 s,
// pollutes nothing on the host, and the next normal run still succeeds.
import { afterAll, describe, expect, it } from 'vitest'
import { closeHashPool, LatchkeyError } from '@latchkey/core'
import { QuickJsRunner } from '@latchkey/sandbox'
import { HOSTILE_CORPUS } from './support/hostile-corpus.js'

const TIMEOUT = 1000
const runner = new QuickJsRunner({ timeoutMs: TIMEOUT, workers: 2 })
const NORMAL = 'function login(email, password, callback) { callback(null, { user_id: "ok", email }) }'

afterAll(async () => {
  await runner.close()
  await closeHashPool()
})

describe('the hostile corpus', () => {
  it('has at least 20 scripts', () => expect(HOSTILE_CORPUS.length).toBeGreaterThanOrEqual(20))

  for (const entry of HOSTILE_CORPUS) {
    it(entry.name, async () => {
      const started = Date.now()
      const outcome = await runner.run(entry.source, ['user@example.com', 'pw'], { scriptName: 'login' }).then(
        (result) => ({ result }),
        (error: unknown) => ({ error }),
      )
      const elapsed = Date.now() - started
      expect(elapsed).toBeLessThan(TIMEOUT + 1000)

      const expected = entry.expected
      if ('error' in expected) {
        expect('error' in outcome, `expected ${expected.error}, got a result`).toBe(true)
        const error = (outcome as { error: Error }).error
        expect(error.constructor.name).toBe(expected.error)
        if (expected.message) expect(error.message).toMatch(expected.message)
      } else if ('ok' in expected) {
        expect('result' in outcome, `expected success, got ${String((outcome as { error?: unknown }).error)}`).toBe(true)
        const { result } = outcome as { result: { value: unknown; logs: string[] } }
        expected.ok(result.value, result.logs)
      } else if ('error' in outcome) {
        expect(outcome.error).toBeInstanceOf(LatchkeyError)
      }
      // Nothing leaked into the host realm.
      expect(({} as Record<string, unknown>)['polluted']).toBeUndefined()
      expect(Object.prototype).not.toHaveProperty('polluted')
      // And the sandbox still works.
      const next = await runner.run(NORMAL, ['next@example.com', 'pw'], { scriptName: 'login' })
      expect(next.value).toEqual({ user_id: 'ok', email: 'next@example.com' })
    })
  }
})
