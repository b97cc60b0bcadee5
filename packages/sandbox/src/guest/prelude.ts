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
  /** Evaluates a built-in module's source in this context and returns its factory. */
  load(name: string): (lib: unknown) => unknown
  call(module: string, op: string, argsJson: string): Promise<string>
  sync(module: string, op: string, argsJson: string): string
  timer(ms: number): Promise<void>
  done(kind: 'ok' | 'error', json: string): void
}

export interface GuestLimits {
  timers: number
  timerDelayMs: number
  modules: string[]
  /** Longest guest error text passed to the host. */
  errorChars: number
}

function guestPrelude(host: GuestHost, limits: GuestLimits) {
  'use strict'
  const g: any = globalThis
  // Scripts need neither, and a growable SharedArrayBuffer is not zero-filled by QuickJS.
  delete g.SharedArrayBuffer
  delete g.Atomics

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
  const say =
    (level: string) =>
    (...args: unknown[]) =>
      host.log(level, args.map(show).join(' '))
  const console = { log: say('log'), info: say('info'), warn: say('warn'), error: say('error'), debug: say('debug') }

  // ---- host calls ---------------------------------------------------------------------
  const sync = (module: string, op: string, args: unknown): any => {
    const reply = JSON.parse(host.sync(module, op, JSON.stringify(args)))
    if (!reply.ok) {
      const error = new Error(reply.message)
      error.name = reply.name ?? 'Error'
      throw error
    }
    return reply.value
  }
  const call = (module: string, op: string, args: unknown): Promise<any> =>
    host.call(module, op, JSON.stringify(args)).then((json) => JSON.parse(json))
  // What a callback run from an async context throws ends the run, as in Node; `start`
  // points this at the run's ending.
  let uncaught = (error: unknown): void => {
    throw error
  }
  const invoke = (fn: unknown, ...args: unknown[]): void => {
    if (typeof fn !== 'function') return
    try {
      const result = fn(...args)
      if (result && typeof result.then === 'function') result.then(undefined, (error: unknown) => uncaught(error))
    } catch (error) {
      uncaught(error)
    }
  }
  /** Node-style: a callback if given, else a promise. */
  const settle = (promise: Promise<any>, callback: unknown): Promise<any> | undefined => {
    if (typeof callback !== 'function') return promise
    promise.then(
      (value) => invoke(callback, null, value),
      (error) => invoke(callback, error),
    )
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
      if (!cleared.delete(id)) invoke(fn, ...args)
    })
    return id
  }
  function clearTimeout(id: number): void {
    if (typeof id === 'number' && id > 0 && id <= timerCount) cleared.add(id)
  }

  // Modules and Buffer are parsed only when a script first uses them: parsing is most of
  // what a fresh sandbox costs, and most scripts need few of them.
  let BufferClass: any = null
  const getBuffer = () => (BufferClass ??= (host.load('buffer') as () => unknown)())
  const lib = {
    sync,
    call,
    settle,
    invoke,
    timer: (ms: number) => host.timer(ms),
    toB64: (data: unknown, encoding?: string): string =>
      (typeof data === 'string' ? getBuffer().from(data, encoding) : getBuffer().from(data)).toString('base64'),
    get Buffer() {
      return getBuffer()
    },
  }
  const loaded: Record<string, any> = {}
  const loadModule = (name: string) => (loaded[name] ??= host.load(name)(lib))
  function require(name: unknown): unknown {
    const key = String(name).replace(/^node:/, '')
    const module = key === 'bcryptjs' ? 'bcrypt' : key
    if (!limits.modules.includes(module)) {
      throw new Error(`Cannot find module '${String(name)}': latchkey scripts can require ${limits.modules.join(', ')}`)
    }
    return module === 'request' ? loadModule('http').request : loadModule(module)
  }

  const deepFreeze = (o: any): any => {
    Object.freeze(o)
    for (const v of Object.values(o)) if (v && typeof v === 'object' && !Object.isFrozen(v)) deepFreeze(v)
    return o
  }

  for (const [name, value] of Object.entries({
    console,
    setTimeout,
    clearTimeout,
    require,
    WrongUsernameOrPasswordError,
    ValidationError,
    UnauthorizedError,
  }))
    Object.defineProperty(g, name, { value, writable: true, configurable: true })
  const defineFetch = (value: unknown) =>
    Object.defineProperty(g, 'fetch', { value, writable: true, configurable: true, enumerable: false })
  Object.defineProperty(g, 'fetch', {
    configurable: true,
    enumerable: false,
    get: () => defineFetch(loadModule('http').fetch) && loadModule('http').fetch,
    set: defineFetch,
  })
  const defineBuffer = (value: unknown) =>
    Object.defineProperty(g, 'Buffer', { value, writable: true, configurable: true, enumerable: false })
  Object.defineProperty(g, 'Buffer', {
    configurable: true,
    enumerable: false,
    get: () => defineBuffer(getBuffer()) && getBuffer(),
    set: defineBuffer,
  })

  let before = new Set<string>()
  /** Called once per run, before the script's own code: its configuration and global. */
  function setup(configJson: string, globalJson: string): void {
    Object.defineProperty(g, 'configuration', { value: deepFreeze(JSON.parse(configJson)), writable: false, configurable: false })
    g.global = JSON.parse(globalJson)
    before = new Set(Object.getOwnPropertyNames(g))
  }

  // ---- running the entry point --------------------------------------------------------
  const describe = (error: unknown): string => {
    try {
      if (error instanceof Error || (error && typeof error === 'object' && 'message' in error)) {
        const e = error as Error & { code?: unknown; identifier?: unknown }
        // Whole, not cut: the host scrubs secrets first and cuts afterwards.
        const cap = (value: unknown) => String(value).slice(0, limits.errorChars)
        return JSON.stringify({
          kind:
            e.name === 'WrongUsernameOrPasswordError' || e.name === 'ValidationError' || e.name === 'UnauthorizedError' ? e.name : 'Error',
          name: cap(e.name),
          message: cap(e.message),
          code: e.code === undefined ? undefined : cap(e.code),
          stack: cap(e.stack ?? ''),
        })
      }
      return JSON.stringify({ kind: 'Error', name: 'NonError', message: show(error).slice(0, limits.errorChars) })
    } catch {
      return JSON.stringify({ kind: 'Error', name: 'NonError', message: '' })
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

  function start(argsJson: string, scriptName: string): void {
    const name = Object.getOwnPropertyNames(g).find((n) => !before.has(n) && typeof g[n] === 'function')
    if (!name) {
      host.done('error', describe(new Error(`The ${scriptName} script declares no function`)))
      return
    }
    let settled = false
    uncaught = (error: unknown) => {
      if (settled) {
        host.log('error', `uncaught after the callback: ${show(error)}`)
        return
      }
      settled = true
      host.done('error', describe(error))
    }
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
          (value: unknown) => {
            if (!settled) {
              settled = true
              finish(value)
            }
          },
          (error: unknown) => {
            if (!settled) {
              settled = true
              host.done('error', describe(error))
            }
          },
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
  return { setup, start }
}

/** The prelude as source text, evaluated in each fresh context. */
export const PRELUDE_SOURCE = `(${guestPrelude.toString()})`
