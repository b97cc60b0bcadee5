// The script contract of SPEC §3, in the callback style and the async style.
import { createHash, createHmac, pbkdf2Sync } from 'node:crypto'
import { afterAll, describe, expect, it } from 'vitest'
import {
  closeHashPool,
  ScriptError,
  ScriptTimeoutError,
  UnauthorizedError,
  UserExistsError,
  ValidationError,
  WrongUsernameOrPasswordError,
  InvalidInputError,
} from '@latchkey/core'
import { QuickJsRunner } from '@latchkey/sandbox'

const runner = new QuickJsRunner({ timeoutMs: 2000, workers: 2 })
afterAll(async () => {
  await runner.close()
  await closeHashPool()
})

/** The same script body in both styles: `answer(value)` / `fail(error)`. */
const STYLES = {
  callback: (body: string) => `function login(email, password, callback) {
    const answer = (v) => callback(null, v); const fail = (e) => callback(e);
    ${body}
  }`,
  async: (body: string) => `async function login(email, password) {
    return await new Promise((answer, fail) => {
    ${body}
    })
  }`,
} as const

for (const [style, wrap] of Object.entries(STYLES)) {
  describe(`${style} style`, () => {
    const run = (body: string, opts = {}) => runner.run(wrap(body), ['ada@example.com', 'pw-123'], { scriptName: 'login', ...opts })

    it('answers with a profile', async () => {
      const { value } = await run('answer({ user_id: 42, email: email, user_metadata: { plan: "pro" } })')
      expect(value).toEqual({ user_id: 42, email: 'ada@example.com', user_metadata: { plan: 'pro' } })
    })
    it('answers "no" with nothing', async () => {
      expect((await run('answer()')).value).toBeUndefined()
    })
    it('maps WrongUsernameOrPasswordError', async () => {
      await expect(run('fail(new WrongUsernameOrPasswordError(email, "custom text"))')).rejects.toBeInstanceOf(WrongUsernameOrPasswordError)
    })
    it("maps ValidationError('user_exists') to UserExistsError", async () => {
      await expect(run('fail(new ValidationError("user_exists", "taken"))')).rejects.toBeInstanceOf(UserExistsError)
    })
    it('maps any other ValidationError with its code', async () => {
      const error = await run('fail(new ValidationError("weak_password", "too weak"))').catch((e: unknown) => e)
      expect(error).toBeInstanceOf(ValidationError)
      expect(error).toMatchObject({ code: 'weak_password', message: 'too weak' })
    })
    it('maps UnauthorizedError with its message', async () => {
      await expect(run('fail(new UnauthorizedError("account suspended"))')).rejects.toThrow(new UnauthorizedError('account suspended'))
    })
    it('maps anything else to ScriptError with the script name and line', async () => {
      const error = (await run('\nfail(new Error("db said no"))').catch((e: unknown) => e)) as ScriptError
      expect(error).toBeInstanceOf(ScriptError)
      expect(error.scriptName).toBe('login')
      expect(error.line).toBe(4)
      expect(error.message).toContain('db said no')
      expect(error.message).toContain('line 4')
    })
    it('captures console output and returns it, never printing it', async () => {
      const { logs } = await run('console.log("looking up", email); console.error({ n: 1 }); answer({ user_id: "1" })')
      expect(logs).toEqual(['[log] looking up ada@example.com', '[error] {"n":1}'])
    })
    it('carries logs on error.logs, not in the message', async () => {
      const error = (await run('console.log("step 1 done"); fail(new Error("step 2 failed"))').catch((e: unknown) => e)) as ScriptError
      expect(error.logs).toEqual(['[log] step 1 done'])
      expect(error.message).not.toContain('step 1 done')
    })
    it('times out with the deadline and says what it was doing', async () => {
      const started = Date.now()
      const error = await run('setTimeout(() => answer("late"), 5000)', { timeoutMs: 300 }).catch((e: unknown) => e)
      expect(error).toBeInstanceOf(ScriptTimeoutError)
      expect((error as Error).message).toMatch(/login script timed out after 300 ms/)
      expect(Date.now() - started).toBeLessThan(1300)
    })
  })
}

describe('entry point and callback', () => {
  it('calls the first function declared, whatever its name', async () => {
    const source = 'function getByEmail(email, callback) { callback(null, helper(email)) }\nfunction helper(x) { return "helped " + x }'
    expect((await runner.run(source, ['a@x.io'])).value).toBe('helped a@x.io')
  })
  it('runs top-level code such as require before calling the entry point', async () => {
    const source = 'const crypto = require("crypto"); const prefix = "id-"; function remove(id, callback) { callback(null, prefix + id) }'
    expect((await runner.run(source, ['7'])).value).toBe('id-7')
  })
  it('takes the first callback and ignores and logs later ones', async () => {
    const result = await runner.run('function f(cb) { cb(null, 1); cb(new Error("late")); cb(null, 3) }', [])
    expect(result.value).toBe(1)
    expect(result.logs.filter((l) => l.includes('more than once'))).toHaveLength(2)
  })
  it('refuses bad arguments to run with InvalidInputError', async () => {
    await expect(runner.run(42 as never, [])).rejects.toBeInstanceOf(InvalidInputError)
    await expect(runner.run('function f(cb) {}', 'x' as never)).rejects.toBeInstanceOf(InvalidInputError)
    await expect(runner.run('function f(cb) {}', [], { scriptName: '../etc' })).rejects.toBeInstanceOf(InvalidInputError)
    await expect(runner.run('function f(cb) {}', [], { timeoutMs: 0 })).rejects.toBeInstanceOf(InvalidInputError)
  })
})

describe('configuration and global', () => {
  it('gives configuration frozen, with string values', async () => {
    const source = `function f(cb) {
      'use strict';
      let threw = false
      try { configuration.DB_PASSWORD = 'changed' } catch (e) { threw = true }
      cb(null, { value: configuration.DB_HOST, frozen: Object.isFrozen(configuration), threw })
    }`
    const { value } = await runner.run(source, [], { configuration: { DB_HOST: 'legacy.internal', DB_PASSWORD: 's3cret' } })
    expect(value).toEqual({ value: 'legacy.internal', frozen: true, threw: true })
  })
  it('copies global in and writes it back only when the run succeeds', async () => {
    const key = `conn-${Date.now()}`
    const bump =
      'function f(fail, cb) { global.count = (global.count || 0) + 1; if (fail) return cb(new Error("no")); cb(null, global.count) }'
    expect((await runner.run(bump, [false], { global: key })).value).toBe(1)
    expect((await runner.run(bump, [false], { global: key })).value).toBe(2)
    await expect(runner.run(bump, [true], { global: key })).rejects.toBeInstanceOf(ScriptError)
    expect((await runner.run(bump, [false], { global: key })).value).toBe(3)
  })
  it('keeps one global per key, and none without a key', async () => {
    const bump = 'function f(cb) { global.count = (global.count || 0) + 1; cb(null, global.count) }'
    await runner.run(bump, [], { global: 'iso-a' })
    await runner.run(bump, [], { global: 'iso-a' })
    expect((await runner.run(bump, [], { global: 'iso-b' })).value).toBe(1)
    expect((await runner.run(bump, [])).value).toBe(1)
    expect((await runner.run(bump, [])).value).toBe(1)
  })
  it('shares nothing else between runs: top-level state starts fresh', async () => {
    const source =
      'var seen = (typeof seen === "number" ? seen : 0) + 1; globalThis.leak = (globalThis.leak || 0) + 1; function f(cb) { cb(null, [seen, leak]) }'
    expect((await runner.run(source, [])).value).toEqual([1, 1])
    expect((await runner.run(source, [])).value).toEqual([1, 1])
  })
})

describe('utilities', () => {
  it('Buffer converts base64, hex, utf8, latin1 and utf16le', async () => {
    const source = `function f(cb) {
      const b = Buffer.from('héllo ✓', 'utf8')
      cb(null, {
        b64: b.toString('base64'), hex: b.toString('hex'), back: Buffer.from(b.toString('base64'), 'base64').toString('utf8'),
        url: Buffer.from([251, 255]).toString('base64url'), u16: Buffer.from('pw', 'utf16le').toString('hex'),
        latin1: Buffer.from('é', 'latin1').toString('hex'), len: Buffer.byteLength('✓'),
        concat: Buffer.concat([Buffer.from('ab'), Buffer.from('cd')]).toString(), eq: Buffer.from('x').equals(Buffer.from('x')),
      })
    }`
    const b = Buffer.from('héllo ✓', 'utf8')
    expect((await runner.run(source, [])).value).toEqual({
      b64: b.toString('base64'),
      hex: b.toString('hex'),
      back: 'héllo ✓',
      url: Buffer.from([251, 255]).toString('base64url'),
      u16: Buffer.from('pw', 'utf16le').toString('hex'),
      latin1: 'e9',
      len: 3,
      concat: 'abcd',
      eq: true,
    })
  })
  it('setTimeout works, is capped, and clearTimeout cancels', async () => {
    const source =
      'function f(cb) { const order = []; const t = setTimeout(() => order.push("cancelled"), 5); clearTimeout(t); setTimeout(() => order.push("b"), 20); setTimeout(() => { order.push("a") }, 1); setTimeout(() => cb(null, order), 60) }'
    expect((await runner.run(source, [])).value).toEqual(['a', 'b'])
  })
})

describe("require('bcrypt')", () => {
  it('hashes and compares on the host, in callback and promise forms', async () => {
    const source = `const bcrypt = require('bcrypt')
    function f(password, cb) {
      bcrypt.hash(password, 4, (err, hash) => {
        if (err) return cb(err)
        bcrypt.compare(password, hash).then((ok) => bcrypt.compare('wrong', hash).then((bad) => cb(null, { hash, ok, bad })), cb)
      })
    }`
    const { value } = await runner.run(source, ['pässword'])
    const v = value as { hash: string; ok: boolean; bad: boolean }
    expect(v.hash).toMatch(/^\$2b\$04\$/)
    expect(v).toMatchObject({ ok: true, bad: false })
  })
  it('verifies a hash made elsewhere ($2y$ from PHP)', async () => {
    const source = 'const bcrypt = require("bcrypt"); async function f(p, h) { return bcrypt.compare(p, h) }'
    expect((await runner.run(source, ['rasmuslerdorf', '$2y$10$.vGA1O9wmRjrwAVXD98HNOgsNpDczlqm3Jq7KnEd1rVAGv3Fykk1a'])).value).toBe(true)
  })
  it('caps the cost', async () => {
    await expect(runner.run('const b = require("bcrypt"); async function f() { return b.hash("x", 13) }', [])).rejects.toThrow(/cost/)
  })
})

describe("require('crypto')", () => {
  it('hashes, HMACs and derives keys like node:crypto', async () => {
    const source = `const crypto = require('crypto')
    function f(cb) {
      const out = {}
      for (const alg of ['md5', 'sha1', 'sha256', 'sha512']) out[alg] = crypto.createHash(alg).update('pass').update(Buffer.from('word')).digest('hex')
      out.hmac = crypto.createHmac('sha256', 'key').update('msg').digest('base64')
      out.pbkdf2Sync = crypto.pbkdf2Sync('pw', 'salt', 1000, 32, 'sha512').toString('hex')
      out.random = crypto.randomBytes(16).length
      out.uuid = /^[0-9a-f-]{36}$/.test(crypto.randomUUID())
      out.safeEqual = crypto.timingSafeEqual(Buffer.from('abc'), Buffer.from('abc'))
      crypto.pbkdf2('pw', 'salt', 1000, 20, 'sha1', (err, key) => { out.pbkdf2 = key.toString('hex'); cb(err, out) })
    }`
    const { value } = await runner.run(source, [])
    const expected: Record<string, unknown> = {}
    for (const alg of ['md5', 'sha1', 'sha256', 'sha512']) expected[alg] = createHash(alg).update('password').digest('hex')
    expect(value).toEqual({
      ...expected,
      hmac: createHmac('sha256', 'key').update('msg').digest('base64'),
      pbkdf2Sync: pbkdf2Sync('pw', 'salt', 1000, 32, 'sha512').toString('hex'),
      random: 16,
      uuid: true,
      safeEqual: true,
      pbkdf2: pbkdf2Sync('pw', 'salt', 1000, 20, 'sha1').toString('hex'),
    })
  })
  it('refuses other digests and oversized requests', async () => {
    const run = (expr: string) => runner.run(`const c = require('crypto'); function f(cb) { cb(null, ${expr}) }`, [])
    await expect(run("c.createHash('sha3-256').update('x').digest('hex')")).rejects.toThrow(/not available/)
    await expect(run('c.randomBytes(1e6).length')).rejects.toThrow(/randomBytes/)
    await expect(run("c.pbkdf2Sync('p', 's', 1e7, 32, 'sha256')")).rejects.toThrow(/iterations/)
  })
  it('names an unknown module in the error', async () => {
    const error = await runner
      .run('const x = require("left-pad"); function f(cb) { cb() }', [], { scriptName: 'create' })
      .catch((e: unknown) => e)
    expect(error).toBeInstanceOf(ScriptError)
    expect((error as Error).message).toMatch(/Cannot find module 'left-pad'.*create script|create script.*Cannot find module 'left-pad'/)
  })
})

describe('redaction', () => {
  const secrets = { DB_PASSWORD: 'hunter2-db', API_KEY: 'k3y-"quoted"' }
  it('scrubs the password argument and configuration values from logs and messages', async () => {
    const source = `function login(email, password, callback) {
      console.log('trying', email, password, configuration.DB_PASSWORD)
      console.log(JSON.stringify({ key: configuration.API_KEY }))
      callback(new Error('failed for ' + password + ' with ' + configuration.DB_PASSWORD))
    }`
    const error = (await runner
      .run(source, ['ada@example.com', 'Sup3r-Secret!'], {
        scriptName: 'login',
        configuration: secrets,
        redact: ['Sup3r-Secret!'],
      })
      .catch((e: unknown) => e)) as ScriptError
    const everything = JSON.stringify({ message: error.message, logs: error.logs, stack: error.stack })
    for (const secret of ['Sup3r-Secret!', 'hunter2-db', 'k3y-', 'quoted']) expect(everything).not.toContain(secret)
    expect(error.logs[0]).toBe('[log] trying ada@example.com [redacted] [redacted]')
    expect(error.logs[1]).toBe('[log] {"key":"[redacted]"}')
    expect(error.message).toContain('failed for [redacted] with [redacted]')
  })
  it('scrubs timeouts and ValidationError messages too', async () => {
    const validation = await runner
      .run('function f(p, cb) { cb(new ValidationError("bad", "bad " + p)) }', ['pw-secret-1'], { redact: ['pw-secret-1'] })
      .catch((e: unknown) => e)
    expect((validation as Error).message).toBe('bad [redacted]')
    const timeout = (await runner
      .run('function f(p, cb) { console.log(p) }', ['pw-secret-2'], { redact: ['pw-secret-2'], timeoutMs: 100 })
      .catch((e: unknown) => e)) as ScriptTimeoutError
    expect(timeout.logs).toEqual(['[log] [redacted]'])
  })
})

describe('isolation between workers', () => {
  it('a worker terminated for a runaway script takes no run on another worker with it', async () => {
    const local = new QuickJsRunner({ timeoutMs: 400, workers: 2, concurrencyPerWorker: 1 })
    // Both workers started first: a run's deadline counts from run(), start-up included.
    await Promise.all([0, 1].map(() => local.run('function f(cb) { setTimeout(() => cb(null, 1), 50) }', [], { timeoutMs: 20_000 })))
    const runaway = 'function f(cb) { cb(null, new Array(1e9).join("").length) }'
    const steady = 'function f(cb) { setTimeout(() => cb(null, "steady"), 700) }'
    const [bad, good] = await Promise.allSettled([local.run(runaway, []), local.run(steady, [], { timeoutMs: 2000 })])
    expect(bad.status === 'rejected' && bad.reason).toBeInstanceOf(ScriptTimeoutError)
    expect(good).toEqual({ status: 'fulfilled', value: { value: 'steady', logs: [] } })
    expect(local.stats.workersKilled).toBe(1)
    // The deadline counts from run(), and a replacement worker must start first: a generous one.
    expect((await local.run('function f(cb) { cb(null, 1) }', [], { timeoutMs: 20_000 })).value).toBe(1)
    await local.close()
  })
  it('a run that had not begun on a killed worker is moved to another and finishes', async () => {
    const local = new QuickJsRunner({ timeoutMs: 400, workers: 1, concurrencyPerWorker: 2 })
    const runaway = 'function f(cb) { cb(null, new Array(1e9).join("").length) }'
    const [bad, neighbour] = await Promise.allSettled([
      local.run(runaway, []),
      local.run('function f(cb) { setTimeout(() => cb(null, "late"), 5000) }', [], { timeoutMs: 10_000 }),
    ])
    expect(bad.status === 'rejected' && bad.reason).toBeInstanceOf(ScriptTimeoutError)
    // The runaway held the worker's thread, so the neighbour never began there (item 5 of issue 12).
    expect(neighbour).toEqual({ status: 'fulfilled', value: { value: 'late', logs: [] } })
    await local.close()
  })
})
