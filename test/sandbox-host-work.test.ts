// A script's host work (bcrypt, pbkdf2) never outlives its run or crowds out the host:
// built-in hash jobs go first, scripts get at most half the hash workers and a bounded
// share per run, queued work is dropped when the run ends, and script crypto never
// takes a thread of libuv's pool from the host's fs, dns and crypto.
import { pbkdf2 } from 'node:crypto'
import { readFile } from 'node:fs/promises'
import bcrypt from 'bcryptjs'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { BuiltinConnection, closeHashPool, ScriptError, ScriptTimeoutError } from '@latchkey/core'
import { hashPoolStats } from '@latchkey/core/internal'
import { openStore, type OpenedStore } from '@latchkey/adapters'
import { QuickJsRunner } from '@latchkey/sandbox'
import { TEST_COST } from './support/test-cost.js'

const ctx = { ip: '198.51.100.44' }
const PASSWORD = 'Tr0ub4dor-horse-42'
const runner = new QuickJsRunner({ workers: 1, timeoutMs: 20_000 })
let store: OpenedStore
let cost12: string
let cost14: string

beforeAll(async () => {
  store = await openStore('sqlite::memory:')
  cost12 = bcrypt.hashSync('another-password-1', 12)
  // A cost-14 hash without spending a cost-14 hash here: the salt and checksum are only text.
  cost14 = cost12.replace(/^\$2b\$12\$/, '$2b$14$')
  await runner.run('function f(cb) { cb(null, 1) }', [])
})
afterAll(async () => {
  await runner.close()
  await store.close()
  await closeHashPool()
})

/** Waits until the hash pool's workers have finished what they began: its job count stops moving. */
async function settled(): Promise<void> {
  let last = -1
  for (let i = 0; i < 40; i++) {
    const now = hashPoolStats().jobs
    if (now === last) return
    last = now
    await new Promise((r) => setTimeout(r, 1500))
  }
}

describe('bcrypt from scripts', () => {
  it('a flood of compares neither delays a built-in login nor outlives its run', async () => {
    const before = hashPoolStats()
    const flood = `function login(e, p, cb) {
      const b = require('bcrypt')
      for (let i = 0; i < 30; i++) b.compare(p, configuration.HASH).catch(() => undefined)
    }`
    // Thirty cost-14 compares (each a second or more of one core) in line ahead of the login.
    const floodRun = runner
      .run(flood, ['a@example.com', PASSWORD], { scriptName: 'login', timeoutMs: 8000, configuration: { HASH: cost14 } })
      .catch((e: unknown) => e)
    let floodEnded = false
    void floodRun.then(() => {
      floodEnded = true
    })
    await new Promise((r) => setTimeout(r, 200))
    // A built-in signup and login (cost 4) while the compares wait: they go first.
    const users = new BuiltinConnection({ name: 'host-work', store, ...TEST_COST, attackProtection: false })
    await users.signup({ email: 'ada@example.com', password: PASSWORD }, ctx)
    await users.login({ identifier: 'ada@example.com', password: PASSWORD }, ctx)
    expect(floodEnded).toBe(false)
    expect(await floodRun).toBeInstanceOf(ScriptTimeoutError)
    await settled()
    const after = hashPoolStats()
    // Two at a time were in flight; what still waited when the run ended was dropped, not run.
    const ran = after.scriptJobs - before.scriptJobs
    const dropped = after.scriptJobsDropped - before.scriptJobsDropped
    expect(dropped).toBeGreaterThan(0)
    expect(ran + dropped).toBeLessThanOrEqual(30)
  })

  it('caps a run at 32 operations, compare at cost 14 and hash at cost 12', async () => {
    const many = await runner
      .run(
        `async function f(hash) {
      const b = require('bcrypt')
      for (let i = 0; i < 33; i++) await b.compare('x', hash)
    }`,
        [bcrypt.hashSync('x', 4)],
      )
      .catch((e: unknown) => e)
    expect(many).toBeInstanceOf(ScriptError)
    expect((many as Error).message).toMatch(/at most 32 bcrypt, pbkdf2 and password-hash operations per run/)
    const over = await runner
      .run('function f(h, cb) { require("bcrypt").compare("x", h.replace("$14$", "$15$"), cb) }', [cost14])
      .catch((e: unknown) => e)
    expect((over as Error).message).toMatch(/cost is over the cap/)
    const hash13 = await runner.run('function f(cb) { require("bcrypt").hash("x", 13, cb) }', []).catch((e: unknown) => e)
    expect((hash13 as Error).message).toMatch(/cost must be an integer from 4 to 12/)
  })
})

describe('pbkdf2 from scripts', () => {
  it("never takes libuv's threadpool from the host", async () => {
    const flood = `function login(e, p, cb) {
      const c = require('crypto')
      for (let i = 0; i < 30; i++) c.pbkdf2(p, 'salt', 1000000, 64, 'sha512', () => undefined)
    }`
    const floodRun = runner.run(flood, ['a@example.com', PASSWORD], { scriptName: 'login', timeoutMs: 3000 }).catch((e: unknown) => e)
    let floodEnded = false
    void floodRun.then(() => {
      floodEnded = true
    })
    await new Promise((r) => setTimeout(r, 300))
    // The host's own threadpool work: four pbkdf2 calls and a file read.
    await Promise.all([
      ...[0, 1, 2, 3].map(
        () => new Promise((resolve, reject) => pbkdf2('host', 'salt', 1, 32, 'sha256', (e, k) => (e ? reject(e) : resolve(k)))),
      ),
      readFile(new URL(import.meta.url)),
    ])
    expect(floodEnded).toBe(false)
    expect(await floodRun).toBeInstanceOf(ScriptTimeoutError)
  })

  it('still answers a script, through the hash pool', async () => {
    const { value } = await runner.run(
      `function f(cb) { require('crypto').pbkdf2('pw', 'salt', 1000, 16, 'sha256', (e, k) => cb(e, k && k.toString('hex'))) }`,
      [],
    )
    expect(value).toBe((await import('node:crypto')).pbkdf2Sync('pw', 'salt', 1000, 16, 'sha256').toString('hex'))
  })
})
