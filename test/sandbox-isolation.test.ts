// Tenants that share one runner share nothing: no run reads the linear memory an earlier
// run wrote (whoever it belonged to), and `global` belongs to a connection, not to a name.
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { closeHashPool, CustomScriptConnection, NotSupportedError } from '@latchkey/core'
import { QuickJsRunner } from '@latchkey/sandbox'
import { httpServer } from './support/servers.js'

const ctx = { ip: '203.0.113.12' }
const PASSWORD = 'Tr0ub4dor-horse-42'
// Each marker is ASCII, so QuickJS stores it byte for byte wherever it lands.
const MARKERS = { string: 'QZSTRINGMARK', bridge: 'QZBRIDGEMARK', config: 'QZCONFIGMARK' }

let api: Awaited<ReturnType<typeof httpServer>>
beforeAll(async () => {
  api = await httpServer((_req, res) => res.end(`${MARKERS.bridge} `.repeat(20_000)))
})
afterAll(async () => {
  await api.close()
  await closeHashPool()
})

/** Run A: leaves markers through strings it builds, a bridge result and its configuration. */
const WRITER = `async function login(email, password) {
  const parts = []
  for (let i = 0; i < 2000; i++) parts.push('${MARKERS.string}' + i + '${MARKERS.string}'.repeat(8))
  const body = await (await fetch(configuration.API)).text()
  const token = configuration.TOKEN.repeat(1000)
  global.seen = body.length + parts.length + token.length
  return { user_id: 'a', nickname: String(body.length + parts.join('').length + token.length) }
}`

/** Run B: scans every memory primitive it has for any marker. */
const SCANNER = `function getUser(identifier, callback) {
  const found = {}
  const MB = 8 << 20
  const probes = {
    sharedGrow: () => { const b = new SharedArrayBuffer(8, { maxByteLength: MB }); b.grow(MB); return new Uint8Array(b) },
    resizable: () => { const b = new ArrayBuffer(8, { maxByteLength: MB }); b.resize(MB); return new Uint8Array(b) },
    transfer: () => new Uint8Array(new ArrayBuffer(16).transfer(MB)),
    typedArray: () => new Uint8Array(MB),
    float64: () => new Uint8Array(new Float64Array(MB / 8).buffer),
    dataView: () => new Uint8Array(new DataView(new ArrayBuffer(MB)).buffer),
    bufferAlloc: () => Buffer.alloc(MB),
  }
  for (const [name, make] of Object.entries(probes)) {
    try { found[name] = scan(make()) } catch (e) { found[name] = 'unavailable: ' + e.name }
  }
  found.SharedArrayBuffer = typeof SharedArrayBuffer
  found.Atomics = typeof Atomics
  callback(null, { user_id: 'b', user_metadata: found })
}
// Counts "QZ" followed by any marker's tail, with typed-array indexOf (native, fast).
function scan(u) {
  let n = 0
  for (let i = u.indexOf(81); i !== -1 && i < u.length - 12; i = u.indexOf(81, i + 1)) {
    if (u[i + 1] === 90 && u[i + 8] === 77 && u[i + 9] === 65 && u[i + 10] === 82 && u[i + 11] === 75) n++
  }
  return n
}`

describe('memory isolation between runs', () => {
  it('a run of one connection finds none of the bytes an earlier run of another connection wrote', async () => {
    // One worker, one run at a time: run B lands where run A ran.
    const runner = new QuickJsRunner({ workers: 1, concurrencyPerWorker: 1, timeoutMs: 10_000 })
    try {
      const x = new CustomScriptConnection({
        name: 'tenant-x',
        runner,
        attackProtection: false,
        scripts: { login: WRITER },
        configuration: { API: api.url, TOKEN: MARKERS.config },
        egress: { allow: [`127.0.0.1:${api.port}`] },
      })
      const y = new CustomScriptConnection({
        name: 'tenant-y',
        runner,
        attackProtection: false,
        scripts: { login: WRITER, get_user: SCANNER },
      })
      for (let i = 0; i < 3; i++) expect((await x.login({ identifier: 'a@example.com', password: PASSWORD }, ctx)).user_id).toBe('a')
      const scanned = await y.getUser('b@example.com')
      const found = scanned?.user_metadata as Record<string, unknown>
      expect(found['SharedArrayBuffer']).toBe('undefined')
      expect(found['Atomics']).toBe('undefined')
      expect(found['sharedGrow']).toBe('unavailable: ReferenceError')
      for (const name of ['resizable', 'transfer', 'typedArray', 'float64', 'dataView', 'bufferAlloc']) {
        expect(found[name], name).toBe(0)
      }
    } finally {
      await runner.close()
    }
  })

  it('a run of the same connection starts on fresh memory too', async () => {
    const runner = new QuickJsRunner({ workers: 1, concurrencyPerWorker: 1, timeoutMs: 10_000 })
    try {
      const writeThenScan = `async function login(email, password) {
        const parts = []
        for (let i = 0; i < 4000; i++) parts.push('${MARKERS.string}' + i)
        const b = new ArrayBuffer(8, { maxByteLength: 8 << 20 }); b.resize(8 << 20)
        return { user_id: String(parts.length), nickname: 'x' }
      }`
      const c = new CustomScriptConnection({
        name: 'tenant-z',
        runner,
        attackProtection: false,
        scripts: { login: writeThenScan, get_user: SCANNER },
      })
      await c.login({ identifier: 'a@example.com', password: PASSWORD }, ctx)
      const found = (await c.getUser('a@example.com'))?.user_metadata as Record<string, unknown>
      expect(found['resizable']).toBe(0)
      expect(found['typedArray']).toBe(0)
    } finally {
      await runner.close()
    }
  })
})

describe('global belongs to a connection, not to its name', () => {
  const SPY = `function login(email, password, callback) {
    const before = global.token === undefined ? 'none' : global.token
    if (email === 'owner@example.com') global.token = configuration.TOKEN
    callback(null, { user_id: '1', nickname: before })
  }`

  it('two connections with the same name share nothing', async () => {
    const runner = new QuickJsRunner({ workers: 1, timeoutMs: 20_000 })
    try {
      const owner = new CustomScriptConnection({
        name: 'same-name',
        runner,
        attackProtection: false,
        scripts: { login: SPY },
        configuration: { TOKEN: 'owner-api-token-1' },
      })
      const copycat = new CustomScriptConnection({
        name: 'same-name',
        runner,
        attackProtection: false,
        scripts: { login: SPY },
        configuration: { TOKEN: 'other-token-22' },
      })
      await owner.login({ identifier: 'owner@example.com', password: PASSWORD }, ctx)
      expect((await owner.login({ identifier: 'again@example.com', password: PASSWORD }, ctx)).nickname).toBe('owner-api-token-1')
      expect((await copycat.login({ identifier: 'thief@example.com', password: PASSWORD }, ctx)).nickname).toBe('none')
    } finally {
      await runner.close()
    }
  })

  it('closing a connection drops its state from the runner, and it runs no more scripts', async () => {
    const runner = new QuickJsRunner({ workers: 1, timeoutMs: 20_000 })
    try {
      const a = new CustomScriptConnection({
        name: 'closing',
        runner,
        attackProtection: false,
        scripts: { login: SPY },
        configuration: { TOKEN: 'closing-token-1' },
      })
      const b = new CustomScriptConnection({
        name: 'staying',
        runner,
        attackProtection: false,
        scripts: { login: SPY },
        configuration: { TOKEN: 'staying-token-1' },
      })
      await a.login({ identifier: 'owner@example.com', password: PASSWORD }, ctx)
      await b.login({ identifier: 'owner@example.com', password: PASSWORD }, ctx)
      expect(runner.stats.connections).toBe(2)
      await a.close()
      expect(runner.stats.connections).toBe(1)
      await expect(a.login({ identifier: 'owner@example.com', password: PASSWORD }, ctx)).rejects.toBeInstanceOf(NotSupportedError)
      expect((await b.login({ identifier: 'again@example.com', password: PASSWORD }, ctx)).nickname).toBe('staying-token-1')
    } finally {
      await runner.close()
    }
  })

  it('a run in flight when its connection closes does not write its global back', async () => {
    const runner = new QuickJsRunner({ workers: 1, timeoutMs: 20_000 })
    // Sets global at once, answers two seconds later: long after the connection is closed.
    const SLOW = `function login(email, password, callback) {
      global.token = configuration.TOKEN
      setTimeout(() => callback(null, { user_id: '1' }), 2000)
    }`
    try {
      const closing = new CustomScriptConnection({
        name: 'closing',
        runner,
        attackProtection: false,
        scripts: { login: SLOW },
        configuration: { TOKEN: 'resurrected-token-1' },
      })
      const inFlight = closing.login({ identifier: 'owner@example.com', password: PASSWORD }, ctx)
      await new Promise((resolve) => setTimeout(resolve, 100))
      await closing.close()
      await inFlight
      expect(runner.stats.connections).toBe(0)

      // The same handle through the runner itself: forgotten state stays forgotten.
      const handle = 'handle-resurrection-test-0123456789'
      const READ = `function login(email, password, callback) { callback(null, { user_id: '1', nickname: String(global.token) }) }`
      const run = runner.run(SLOW, ['a@example.com', PASSWORD], { global: handle, configuration: { TOKEN: 'resurrected-token-2' } })
      await new Promise((resolve) => setTimeout(resolve, 100))
      await runner.forget(handle)
      await run
      const { value } = await runner.run(READ, ['a@example.com', PASSWORD], { global: handle })
      expect((value as { nickname: string }).nickname).toBe('undefined')
    } finally {
      await runner.close()
    }
  })
})
