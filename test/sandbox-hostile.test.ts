// Every script of the hostile corpus ends in its expected outcome within timeout + 1 s,
// pollutes nothing on the host, and the next normal run still succeeds.
import { execFile } from 'node:child_process'
import { afterAll, describe, expect, it } from 'vitest'
import { closeHashPool, LatchkeyError, ScriptTimeoutError } from '@latchkey/core'
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
        if (!(expected.orTimeout && error instanceof ScriptTimeoutError)) {
          expect(error.constructor.name).toBe(expected.error)
          if (expected.message) expect(error.message).toMatch(expected.message)
        }
      } else if ('ok' in expected) {
        expect('result' in outcome, `expected success, got ${String((outcome as { error?: unknown }).error)}`).toBe(true)
        const { result } = outcome as { result: { value: unknown; logs: string[] } }
        expected.ok(result.value, result.logs)
      } else if ('contained' in expected) {
        // Containment, not speed: a capped success, or the typed timeout on a busy machine.
        if ('result' in outcome) expected.contained(outcome.result.value, outcome.result.logs)
        else expect(outcome.error).toBeInstanceOf(ScriptTimeoutError)
      } else if ('error' in outcome) {
        expect(outcome.error).toBeInstanceOf(LatchkeyError)
      }
      // Nothing leaked into the host realm.
      expect(({} as Record<string, unknown>)['polluted']).toBeUndefined()
      expect(Object.prototype).not.toHaveProperty('polluted')
      // And the sandbox still works.
      // A generous deadline: a replacement worker may still be starting on a busy machine.
      const next = await runner.run(NORMAL, ['next@example.com', 'pw'], { scriptName: 'login', timeoutMs: 20_000 })
      expect(next.value).toEqual({ user_id: 'ok', email: 'next@example.com' })
    })
  }
})

describe('hygiene', () => {
  it('a hostile run never leaves QuickJS printing an abort: no runtime is freed with live objects', async () => {
    // Worker stderr goes to the process's own stderr, so watch it from a child process.
    const bombs = HOSTILE_CORPUS.filter((e) => /memory|out-of-memory|recursion|huge builtin|getter that never/.test(e.name)).map(
      (e) => e.source,
    )
    expect(bombs.length).toBeGreaterThanOrEqual(5)
    const child = `
      import { QuickJsRunner } from '@latchkey/sandbox'
      const runner = new QuickJsRunner({ timeoutMs: ${TIMEOUT}, workers: 1 })
      for (const source of JSON.parse(process.env.BOMBS)) {
        await runner.run(source, ['user@example.com', 'pw'], { scriptName: 'login' }).catch(() => undefined)
        await runner.run(${JSON.stringify(NORMAL)}, ['n@example.com', 'pw'], { scriptName: 'login', timeoutMs: 20000 })
      }
      await runner.close()
      console.log('done')`
    const { stdout, stderr } = await new Promise<{ stdout: string; stderr: string }>((resolve, reject) => {
      execFile(
        process.execPath,
        ['--input-type=module', '-e', child],
        { cwd: process.cwd(), env: { ...process.env, BOMBS: JSON.stringify(bombs) }, timeout: 60_000 },
        (error, out, err) => (error ? reject(Object.assign(error, { stderr: err })) : resolve({ stdout: out, stderr: err })),
      )
    })
    expect(stdout).toContain('done')
    expect(stderr).not.toMatch(/Aborted|gc_obj_list|Assertion failed/)
  })
})
