// pbkdf2's work is iterations times the output blocks (keylen / digest size): a cap on
// iterations alone let one call with keylen 1024 and md5 run 64 times the cap, seconds of
// a hash worker after the run ended (async), or of the sandbox worker itself (sync).
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { closeHashPool, ScriptError, ScriptTimeoutError } from '@latchkey/core'
import { QuickJsRunner } from '@latchkey/sandbox'
import { httpServer } from './support/servers.js'

const runner = new QuickJsRunner({ workers: 1, timeoutMs: 1500 })

beforeAll(async () => {
  await runner.run('function f(cb) { cb(null, 1) }', [], { timeoutMs: 30_000 })
  await runner.run(`const b = require('bcrypt'); function f(cb) { b.hash('warm-up-password', 4, cb) }`, [], { timeoutMs: 30_000 })
})
afterAll(async () => {
  await runner.close()
  await closeHashPool()
})

describe('pbkdf2 is capped by its work, not only its iterations', () => {
  it('async: a 1M-iteration, 1024-byte md5 derivation leaves no hash worker busy for another tenant', async () => {
    const hog = `const crypto = require('crypto')
    function f(cb) {
      crypto.pbkdf2('p', 's', 1000000, 1024, 'md5', function (e) { cb(e) })
      crypto.pbkdf2('p', 's', 1000000, 1024, 'md5', function (e) { cb(e) })
    }`
    const started = Date.now()
    const error = await runner.run(hog, [], { scriptName: 'hog', timeoutMs: 1500 }).catch((e: unknown) => e)
    expect(error instanceof ScriptError || error instanceof ScriptTimeoutError).toBe(true)
    expect(Date.now() - started).toBeLessThan(2500)
    // Another tenant's bcrypt, on the scripts' share of the hash pool, within its deadline.
    const other = `const b = require('bcrypt'); function f(cb) { b.hash('other-tenant-pw', 4, cb) }`
    const { value } = await runner.run(other, [], { scriptName: 'other', timeoutMs: 3000 })
    expect(String(value)).toMatch(/^\$2[ab]\$04\$/)
  }, 20_000)

  it('sync: pbkdf2Sync of 100k iterations and 1024 md5 bytes is refused, not run on the worker', async () => {
    const hog = `const crypto = require('crypto')
    function f(cb) { cb(null, crypto.pbkdf2Sync('p', 's', 100000, 1024, 'md5').length) }`
    const started = Date.now()
    const error = await runner.run(hog, [], { scriptName: 'hog-sync', timeoutMs: 1500 }).catch((e: unknown) => e)
    expect(error).toBeInstanceOf(ScriptError)
    expect(error).not.toBeInstanceOf(ScriptTimeoutError)
    expect(Date.now() - started).toBeLessThan(2500)
  }, 20_000)

  it('still derives the usual sizes: 50k iterations of sha1 for 32 bytes, 100k of sha512 for 64', async () => {
    const ok = `const crypto = require('crypto')
    function f(cb) { cb(null, [crypto.pbkdf2Sync('p', 's', 50000, 32, 'sha1').length, crypto.pbkdf2Sync('p', 's', 100000, 64, 'sha512').length]) }`
    const { value } = await runner.run(ok, [], { timeoutMs: 10_000 })
    expect(value).toEqual([32, 64])
  }, 20_000)

  it('a loop of pbkdf2Sync ends at its deadline and takes no co-tenant run on its worker with it', async () => {
    const api = await httpServer((_req, res) => {
      setTimeout(() => res.end('slow-ok'), 1500)
    })
    try {
      const allow = { egress: { allow: [`127.0.0.1:${api.port}`] } }
      await runner.run('async function f(base) { return (await fetch(base)).status }', [api.url], { ...allow, timeoutMs: 30_000 })
      // The co-tenant waits on a host call on the same (only) worker while the loop runs.
      const victim = runner.run('async function f(base) { return await (await fetch(base)).text() }', [api.url], {
        ...allow,
        scriptName: 'victim',
        timeoutMs: 5000,
      })
      await new Promise((resolve) => setTimeout(resolve, 200))
      const hog = `const crypto = require('crypto')
      function f(cb) { for (;;) { try { crypto.pbkdf2Sync('p', 's', 100000, 64, 'sha512') } catch (e) {} } }`
      const started = Date.now()
      const error = await runner.run(hog, [], { scriptName: 'hog-loop', timeoutMs: 300 }).catch((e: unknown) => e)
      expect(error).toBeInstanceOf(ScriptTimeoutError)
      expect(Date.now() - started).toBeLessThan(1300)
      expect((await victim).value).toBe('slow-ok')
    } finally {
      await api.close()
    }
  }, 20_000)
})
