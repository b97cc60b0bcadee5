/**
 * The guest side of the sandbox: everything a script sees besides its own code. This
 * function is never called in the host; its source text (`PRELUDE_SOURCE`) is evaluated
 * inside each fresh QuickJS context, so it must not refer to anything outside itself.
 *
 * It receives the host's few entry points, hides them in its closure, defines the
 * globals (console, Buffer, setTimeout, require, the error classes, configuration,
 * global), and returns `start`, which the host calls once the script's own code has run.
 */
/* eslint-disable */
export interface GuestHost {
  log(level: string, text: string): void
  call(module: string, op: string, argsJson: string): Promise<string>
  sync(module: string, op: string, argsJson: string): string
  timer(ms: number): Promise<void>
  done(kind: 'ok' | 'error', json: string): void
}

export interface GuestLimits {
  timers: number
  timerDelayMs: number
  modules: string[]
}

function guestPrelude(host: GuestHost, configJson: string, globalJson: string, limits: GuestLimits) {
  'use strict'
  const g: any = globalThis

  // ---- errors a script may pass to its callback --------------------------------------
  class WrongUsernameOrPasswordError extends Error {
    identifier: unknown
    constructor(identifier?: unknown, message?: string) {
      super(message ?? 'Wrong email or password.')
      this.name = 'WrongUsernameOrPasswordError'
      this.identifier = identifier ?? null
    }
  }
  class ValidationError extends Error {
    code: string
    constructor(code: unknown, message?: string) {
      super(message ?? String(code))
      this.name = 'ValidationError'
      this.code = String(code)
    }
  }
  class UnauthorizedError extends Error {
    constructor(message?: string) {
      super(message ?? 'Unauthorized.')
      this.name = 'UnauthorizedError'
    }
  }

  const show = (value: unknown): string => {
    if (typeof value === 'string') return value
    if (value instanceof Error) return `${value.name}: ${value.message}`
    try {
      const json = JSON.stringify(value)
      return json === undefined ? String(value) : json
    } catch {
      return String(value)
    }
  }
  const say = (level: string) => (...args: unknown[]) => host.log(level, args.map(show).join(' '))
  const console = { log: say('log'), info: say('info'), warn: say('warn'), error: say('error'), debug: say('debug') }

  // ---- Buffer: bytes with utf8, hex, base64, latin1 and utf16le codecs ----------------
  const B64 = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/'
  const B64_INDEX: Record<string, number> = {}
  for (let i = 0; i < 64; i++) B64_INDEX[B64[i]!] = i
  B64_INDEX['-'] = 62
  B64_INDEX['_'] = 63

  function utf8Encode(s: string): number[] {
    const out: number[] = []
    for (const ch of s) {
      let c = ch.codePointAt(0)!
      if (c >= 0xd800 && c <= 0xdfff) c = 0xfffd
      if (c < 0x80) out.push(c)
      else if (c < 0x800) out.push(0xc0 | (c >> 6), 0x80 | (c & 63))
      else if (c < 0x10000) out.push(0xe0 | (c >> 12), 0x80 | ((c >> 6) & 63), 0x80 | (c & 63))
      else out.push(0xf0 | (c >> 18), 0x80 | ((c >> 12) & 63), 0x80 | ((c >> 6) & 63), 0x80 | (c & 63))
    }
    return out
  }
  function utf8Decode(b: Uint8Array): string {
    let out = ''
    for (let i = 0; i < b.length;) {
      const c = b[i]!
      let cp = 0xfffd
      let n = 1
      if (c < 0x80) cp = c
      else if (c >= 0xc0 && c < 0xe0 && i + 1 < b.length) { cp = ((c & 31) << 6) | (b[i + 1]! & 63); n = 2 }
      else if (c >= 0xe0 && c < 0xf0 && i + 2 < b.length) { cp = ((c & 15) << 12) | ((b[i + 1]! & 63) << 6) | (b[i + 2]! & 63); n = 3 }
      else if (c >= 0xf0 && i + 3 < b.length) { cp = ((c & 7) << 18) | ((b[i + 1]! & 63) << 12) | ((b[i + 2]! & 63) << 6) | (b[i + 3]! & 63); n = 4 }
      out += String.fromCodePoint(cp)
      i += n
    }
    return out
  }
  function base64Encode(b: Uint8Array, url = false): string {
    let out = ''
    for (let i = 0; i < b.length; i += 3) {
      const n = (b[i]! << 16) | ((b[i + 1] ?? 0) << 8) | (b[i + 2] ?? 0)
      out += B64[(n >> 18) & 63]! + B64[(n >> 12) & 63]! + (i + 1 < b.length ? B64[(n >> 6) & 63]! : '=') + (i + 2 < b.length ? B64[n & 63]! : '=')
    }
    return url ? out.replace(/\+/g, '-').replace(/\//g, '_').replace(/=+$/, '') : out
  }
  function base64Decode(s: string): number[] {
    const clean = s.replace(/[^A-Za-z0-9+/\-_]/g, '')
    const out: number[] = []
    let bits = 0
    let acc = 0
    for (const ch of clean) {
      acc = (acc << 6) | B64_INDEX[ch]!
      bits += 6
      if (bits >= 8) {
        bits -= 8
        out.push((acc >> bits) & 0xff)
      }
    }
    return out
  }

  // Typed as a plain constructor: Buffer.from's signature is Node's, not Uint8Array's.
  const Bytes = Uint8Array as unknown as new (arg: number | ArrayBuffer) => Uint8Array<ArrayBuffer>
  class Buffer extends Bytes {
    static from(value: unknown, encoding?: string): Buffer {
      if (typeof value === 'string') return Buffer.fromBytes(encode(value, encoding))
      if (value instanceof ArrayBuffer) return new Buffer(value)
      if (Array.isArray(value) || value instanceof Uint8Array) return Buffer.fromBytes(value as ArrayLike<number>)
      if (value && typeof value === 'object' && (value as { type?: unknown }).type === 'Buffer' && Array.isArray((value as { data?: unknown }).data)) {
        return Buffer.fromBytes((value as { data: number[] }).data)
      }
      throw new TypeError('Buffer.from expects a string, an array, an ArrayBuffer or a Uint8Array')
    }
    static fromBytes(bytes: ArrayLike<number>): Buffer {
      const b = new Buffer(bytes.length)
      b.set(bytes)
      return b
    }
    static alloc(size: number, fill = 0): Buffer {
      const b = new Buffer(size)
      if (fill) b.fill(fill)
      return b
    }
    static isBuffer(value: unknown): boolean {
      return value instanceof Buffer
    }
    static byteLength(value: string | Uint8Array, encoding?: string): number {
      return typeof value === 'string' ? encode(value, encoding).length : value.length
    }
    static concat(list: Uint8Array[], total?: number): Buffer {
      const length = total ?? list.reduce((n, b) => n + b.length, 0)
      const out = new Buffer(length)
      let at = 0
      for (const b of list) {
        out.set(b.subarray(0, Math.max(0, length - at)), at)
        at += b.length
        if (at >= length) break
      }
      return out
    }
    override toString(encoding?: string, start = 0, end = this.length): string {
      return decode(this.subarray(start, end), encoding)
    }
    equals(other: Uint8Array): boolean {
      if (other.length !== this.length) return false
      for (let i = 0; i < this.length; i++) if (this[i] !== other[i]) return false
      return true
    }
    override slice(start?: number, end?: number): Buffer {
      return Buffer.fromBytes(this.subarray(start, end))
    }
    toJSON(): { type: 'Buffer'; data: number[] } {
      return { type: 'Buffer', data: Array.from(this) }
    }
  }
  function encode(s: string, encoding = 'utf8'): number[] {
    switch (encoding.toLowerCase()) {
      case 'utf8': case 'utf-8': return utf8Encode(s)
      case 'hex': {
        const out: number[] = []
        for (let i = 0; i + 1 < s.length; i += 2) {
          const byte = parseInt(s.slice(i, i + 2), 16)
          if (Number.isNaN(byte)) break
          out.push(byte)
        }
        return out
      }
      case 'base64': case 'base64url': return base64Decode(s)
      case 'latin1': case 'binary': case 'ascii': return Array.from(s, (c) => c.charCodeAt(0) & 0xff)
      case 'utf16le': case 'utf-16le': case 'ucs2': case 'ucs-2': {
        const out: number[] = []
        for (let i = 0; i < s.length; i++) {
          const c = s.charCodeAt(i)
          out.push(c & 0xff, c >> 8)
        }
        return out
      }
      default: throw new TypeError(`Unknown encoding: ${encoding}`)
    }
  }
  function decode(b: Uint8Array, encoding = 'utf8'): string {
    switch (encoding.toLowerCase()) {
      case 'utf8': case 'utf-8': return utf8Decode(b)
      case 'hex': return Array.from(b, (x) => (x < 16 ? '0' : '') + x.toString(16)).join('')
      case 'base64': return base64Encode(b)
      case 'base64url': return base64Encode(b, true)
      case 'latin1': case 'binary': return Array.from(b, (x) => String.fromCharCode(x)).join('')
      case 'ascii': return Array.from(b, (x) => String.fromCharCode(x & 0x7f)).join('')
      case 'utf16le': case 'utf-16le': case 'ucs2': case 'ucs-2': {
        let out = ''
        for (let i = 0; i + 1 < b.length; i += 2) out += String.fromCharCode(b[i]! | (b[i + 1]! << 8))
        return out
      }
      default: throw new TypeError(`Unknown encoding: ${encoding}`)
    }
  }
  const toB64 = (data: unknown, encoding?: string): string =>
    typeof data === 'string' ? base64Encode(Uint8Array.from(encode(data, encoding))) : base64Encode(Buffer.from(data))

  // ---- host calls ---------------------------------------------------------------------
  const sync = (module: string, op: string, args: unknown): any => {
    const reply = JSON.parse(host.sync(module, op, JSON.stringify(args)))
    if (!reply.ok) throw new Error(reply.message)
    return reply.value
  }
  const call = (module: string, op: string, args: unknown): Promise<any> =>
    host.call(module, op, JSON.stringify(args)).then((json) => JSON.parse(json))
  /** Node-style: a callback if given, else a promise. */
  const settle = (promise: Promise<any>, callback: unknown): Promise<any> | undefined => {
    if (typeof callback !== 'function') return promise
    promise.then((value) => callback(null, value), (error) => callback(error))
    return undefined
  }

  // ---- timers -------------------------------------------------------------------------
  let timerCount = 0
  const cleared = new Set<number>()
  function setTimeout(fn: (...a: unknown[]) => void, ms?: number, ...args: unknown[]): number {
    if (typeof fn !== 'function') throw new TypeError('setTimeout needs a function')
    if (++timerCount > limits.timers) throw new Error(`A script may set at most ${limits.timers} timers per run`)
    const id = timerCount
    const delay = Math.min(Math.max(0, Number(ms) || 0), limits.timerDelayMs)
    host.timer(delay).then(() => {
      if (!cleared.delete(id)) fn(...args)
    })
    return id
  }
  function clearTimeout(id: number): void {
    if (typeof id === 'number' && id > 0 && id <= timerCount) cleared.add(id)
  }

  // ---- modules ------------------------------------------------------------------------
  const hashLike = (kind: 'hash' | 'hmac', algorithm: unknown, key?: unknown, keyEncoding?: string) => {
    const chunks: string[] = []
    return {
      update(data: unknown, encoding?: string) {
        chunks.push(toB64(data, encoding))
        return this
      },
      digest(encoding?: string) {
        const b64 = sync('crypto', kind, { algorithm, chunks, key: key === undefined ? undefined : toB64(key, keyEncoding) })
        const bytes = Buffer.from(b64, 'base64')
        return encoding ? bytes.toString(encoding) : bytes
      },
    }
  }
  const pbkdf2Args = (password: unknown, salt: unknown, iterations: unknown, keylen: unknown, digest: unknown) =>
    ({ password: toB64(password), salt: toB64(salt), iterations, keylen, digest: digest ?? 'sha1' })

  const crypto = {
    createHash: (algorithm: string) => hashLike('hash', algorithm),
    createHmac: (algorithm: string, key: unknown) => hashLike('hmac', algorithm, key),
    pbkdf2(password: unknown, salt: unknown, iterations: unknown, keylen: unknown, digest: unknown, callback?: unknown) {
      if (typeof digest === 'function') { callback = digest; digest = 'sha1' }
      return settle(call('crypto', 'pbkdf2', pbkdf2Args(password, salt, iterations, keylen, digest)).then((b64) => Buffer.from(b64, 'base64')), callback)
    },
    pbkdf2Sync: (password: unknown, salt: unknown, iterations: unknown, keylen: unknown, digest: unknown) =>
      Buffer.from(sync('crypto', 'pbkdf2Sync', pbkdf2Args(password, salt, iterations, keylen, digest)), 'base64'),
    randomBytes(size: unknown, callback?: unknown) {
      const bytes = Buffer.from(sync('crypto', 'randomBytes', { size }), 'base64')
      if (typeof callback === 'function') { host.timer(0).then(() => callback(null, bytes)); return undefined }
      return bytes
    },
    randomUUID: () => sync('crypto', 'randomUUID', {}) as string,
    timingSafeEqual: (a: unknown, b: unknown) => sync('crypto', 'timingSafeEqual', { a: toB64(a), b: toB64(b) }) as boolean,
  }

  const bcryptCost = (saltOrRounds: unknown) =>
    typeof saltOrRounds === 'string' ? Number(/^\$2[aby]?\$(\d\d)\$/.exec(saltOrRounds)?.[1] ?? NaN) : saltOrRounds
  const bcrypt = {
    hash: (password: unknown, saltOrRounds: unknown, callback?: unknown) =>
      settle(call('bcrypt', 'hash', { password: String(password), cost: bcryptCost(saltOrRounds) }), callback),
    compare: (password: unknown, hash: unknown, callback?: unknown) =>
      settle(call('bcrypt', 'compare', { password: String(password), hash: String(hash) }), callback),
    genSalt(rounds?: unknown, callback?: unknown) {
      if (typeof rounds === 'function') { callback = rounds; rounds = 10 }
      const cost = Number(rounds ?? 10)
      return settle(Promise.resolve(`$2b$${cost < 10 ? '0' : ''}${cost}$`), callback)
    },
    getRounds: (hash: string) => bcryptCost(hash),
    hashSync() { throw new Error('bcrypt.hashSync would block the sandbox: use bcrypt.hash with a callback, or await it') },
    compareSync() { throw new Error('bcrypt.compareSync would block the sandbox: use bcrypt.compare with a callback, or await it') },
  }

  const builtins: Record<string, unknown> = { bcrypt, bcryptjs: bcrypt, crypto }
  function require(name: unknown): unknown {
    const key = String(name).replace(/^node:/, '')
    if (key in builtins) return builtins[key]
    throw new Error(`Cannot find module '${String(name)}': latchkey scripts can require ${limits.modules.join(', ')}`)
  }

  const deepFreeze = (o: any): any => {
    Object.freeze(o)
    for (const v of Object.values(o)) if (v && typeof v === 'object' && !Object.isFrozen(v)) deepFreeze(v)
    return o
  }

  for (const [name, value] of Object.entries({
    console, Buffer, setTimeout, clearTimeout, require, WrongUsernameOrPasswordError, ValidationError, UnauthorizedError,
  })) Object.defineProperty(g, name, { value, writable: true, configurable: true })
  Object.defineProperty(g, 'configuration', { value: deepFreeze(JSON.parse(configJson)), writable: false, configurable: false })
  g.global = JSON.parse(globalJson)

  const before = new Set(Object.getOwnPropertyNames(g))

  // ---- running the entry point --------------------------------------------------------
  const describe = (error: unknown): string => {
    try {
      if (error instanceof Error || (error && typeof error === 'object' && 'message' in error)) {
        const e = error as Error & { code?: unknown; identifier?: unknown }
        return JSON.stringify({
          kind: e.name === 'WrongUsernameOrPasswordError' || e.name === 'ValidationError' || e.name === 'UnauthorizedError' ? e.name : 'Error',
          name: String(e.name).slice(0, 200),
          message: String(e.message).slice(0, 4096),
          code: e.code === undefined ? undefined : String(e.code).slice(0, 200),
          stack: String(e.stack ?? '').slice(0, 4096),
        })
      }
      return JSON.stringify({ kind: 'Error', name: 'NonError', message: `The script failed with a non-Error value: ${show(error).slice(0, 200)}` })
    } catch {
      return JSON.stringify({ kind: 'Error', name: 'NonError', message: 'The script failed with a value that cannot be described' })
    }
  }
  const finish = (value: unknown) => {
    let json: string | undefined
    try {
      json = JSON.stringify({ value, global: g.global })
    } catch (error) {
      host.done('error', describe(new Error(`The script's result cannot be serialised: ${show(error)}`)))
      return
    }
    host.done('ok', json ?? '{}')
  }

  return function start(argsJson: string, scriptName: string): void {
    const name = Object.getOwnPropertyNames(g).find((n) => !before.has(n) && typeof g[n] === 'function')
    if (!name) {
      host.done('error', describe(new Error(`The ${scriptName} script declares no function`)))
      return
    }
    let settled = false
    const callback = (error?: unknown, value?: unknown) => {
      if (settled) {
        host.log('warn', 'callback was called more than once; later calls are ignored')
        return
      }
      settled = true
      if (error !== undefined && error !== null) host.done('error', describe(error))
      else finish(value)
    }
    try {
      const result = g[name](...JSON.parse(argsJson), callback)
      if (result && typeof result.then === 'function') {
        result.then(
          (value: unknown) => { if (!settled) { settled = true; finish(value) } },
          (error: unknown) => { if (!settled) { settled = true; host.done('error', describe(error)) } },
        )
      }
    } catch (error) {
      if (!settled) {
        settled = true
        host.done('error', describe(error))
      } else {
        host.log('error', `uncaught after the callback: ${show(error)}`)
      }
    }
  }
}

/** The prelude as source text, evaluated in each fresh context. */
export const PRELUDE_SOURCE = `(${guestPrelude.toString()})`
