// The hostile-script corpus: scripts with no network that try to hang, exhaust or
// escape the sandbox. Each names the outcome it must end in, within timeout + 1 s.

export type Expected =
  /** `orTimeout`: exhaustion that a busy machine may not reach before the deadline; the typed timeout contains it too. */
  | { error: 'ScriptTimeoutError' | 'ScriptError'; message?: RegExp; orTimeout?: true }
  | { ok: (value: unknown, logs: string[]) => void }
  | { either: true }
  /** A capped success checked by `ok`, or a ScriptTimeoutError on a machine too busy to finish in time. */
  | { contained: (value: unknown, logs: string[]) => void }

export interface HostileScript {
  name: string
  source: string
  expected: Expected
}

export const HOSTILE_CORPUS: HostileScript[] = [
  {
    name: 'endless synchronous loop',
    source: 'function login(e, p, cb) { for (;;) {} }',
    expected: { error: 'ScriptTimeoutError', message: /timed out after 1000 ms/ },
  },
  { name: 'endless async loop', source: 'async function login(e, p) { for (;;) await null }', expected: { error: 'ScriptTimeoutError' } },
  {
    name: 'endless promise chain',
    source: 'function login(e, p, cb) { const go = () => Promise.resolve().then(go); go() }',
    expected: { error: 'ScriptTimeoutError' },
  },
  {
    name: 'string memory bomb',
    source: 'function login(e, p, cb) { let s = "x"; for (;;) s += s }',
    expected: { error: 'ScriptError', message: /out of memory|string too long/, orTimeout: true },
  },
  {
    name: 'array memory bomb',
    source: 'function login(e, p, cb) { const a = []; for (;;) a.push(new Array(1e5).fill(1)) }',
    expected: { error: 'ScriptError', message: /out of memory/, orTimeout: true },
  },
  {
    name: 'object memory bomb',
    source: 'function login(e, p, cb) { let o = {}; for (let i = 0; ; i++) o = { next: o, ["k" + i]: "v".repeat(1e5) + i } }',
    expected: { error: 'ScriptError', message: /out of memory/, orTimeout: true },
  },
  {
    name: 'deep recursion',
    source: 'function login(e, p, cb) { function down(n) { return down(n + 1) + 1 } down(0) }',
    expected: { error: 'ScriptError', message: /stack overflow/, orTimeout: true },
  },
  {
    name: 'a callback that is never called',
    source: 'function login(e, p, cb) { }',
    expected: { error: 'ScriptTimeoutError', message: /without calling its callback/ },
  },
  {
    name: 'a callback that is called twice',
    source: 'function login(e, p, cb) { cb(null, { user_id: "first" }); cb(null, { user_id: "second" }) }',
    expected: {
      ok: (value, logs) => {
        if ((value as { user_id: string }).user_id !== 'first' || !logs.some((l) => l.includes('more than once')))
          throw new Error('not the first value')
      },
    },
  },
  {
    name: 'throwing a string',
    source: 'function login(e, p, cb) { throw "plain string" }',
    expected: { error: 'ScriptError', message: /non-Error value: plain string/ },
  },
  {
    name: 'a callback with a non-Error',
    source: 'function login(e, p, cb) { cb({ weird: true }) }',
    expected: { error: 'ScriptError', message: /non-Error value/ },
  },
  {
    name: 'rejecting with undefined',
    source: 'async function login(e, p) { throw undefined }',
    expected: { error: 'ScriptError', message: /non-Error value: undefined/ },
  },
  {
    name: 'a 50 MB result',
    source: 'function login(e, p, cb) { cb(null, { user_id: "1", blob: "x".repeat(50 * 1024 * 1024) }) }',
    expected: { error: 'ScriptError', orTimeout: true },
  },
  {
    name: '__proto__ in the profile',
    source: 'function login(e, p, cb) { cb(null, JSON.parse(\'{"user_id":"1","__proto__":{"polluted":true}}\')) }',
    expected: { either: true },
  },
  {
    name: 'getters and toJSON in the result',
    source:
      'function login(e, p, cb) { cb(null, { user_id: "1", get email() { return "getter@x.io" }, toJSON() { return { user_id: "from-toJSON" } } }) }',
    expected: { either: true },
  },
  {
    name: 'a getter that never returns',
    source: 'function login(e, p, cb) { cb(null, { get email() { for (;;) {} } }) }',
    expected: { error: 'ScriptTimeoutError' },
  },
  {
    name: 'touching process',
    source: 'function login(e, p, cb) { cb(null, process.env) }',
    expected: { error: 'ScriptError', message: /'process' is not defined/ },
  },
  {
    name: "require('fs')",
    source: 'const fs = require("fs"); function login(e, p, cb) { cb(null, fs.readFileSync("/etc/passwd", "utf8")) }',
    expected: { error: 'ScriptError', message: /Cannot find module 'fs'/ },
  },
  {
    name: "require('child_process')",
    source: 'function login(e, p, cb) { require("child_process").execSync("id") }',
    expected: { error: 'ScriptError', message: /child_process/ },
  },
  {
    name: 'escaping through Function',
    source: 'function login(e, p, cb) { cb(null, Function("return typeof process + typeof require.main")()) }',
    expected: {
      ok: (value) => {
        if (value !== 'undefinedundefined') throw new Error(String(value))
      },
    },
  },
  // Array.prototype.join over a billion holes runs in C without ever checking the interrupt:
  // only terminating the worker stops it.
  {
    name: 'one huge builtin call',
    source: 'function login(e, p, cb) { cb(null, new Array(1e9).join("").length) }',
    expected: { error: 'ScriptTimeoutError', message: /did not stop/ },
  },
  {
    name: 'catastrophic regular expression',
    source: 'function login(e, p, cb) { cb(null, /^(a+)+$/.test("a".repeat(40) + "b")) }',
    expected: { error: 'ScriptTimeoutError' },
  },
  {
    name: 'a timer flood',
    source: 'function login(e, p, cb) { for (let i = 0; i < 10000; i++) setTimeout(() => {}, 5) }',
    expected: { error: 'ScriptError', message: /at most 100 timers/, orTimeout: true },
  },
  {
    name: 'a log flood',
    source: 'function login(e, p, cb) { for (let i = 0; i < 100000; i++) console.log("line " + i); cb(null, { user_id: "1" }) }',
    expected: {
      contained: (_value, logs) => {
        if (logs.length > 501 || !logs.at(-1)!.includes('log limit')) throw new Error('logs not capped')
      },
    },
  },
  {
    name: 'a host-call flood',
    source:
      'const b = require("bcrypt"); function login(e, p, cb) { for (let i = 0; i < 1000; i++) b.hash("x", 4).catch((err) => { if (i === 999) cb(err) }) }',
    expected: { error: 'ScriptError', message: /in flight/, orTimeout: true },
  },
  {
    name: 'a syntax error',
    source: 'function login(e, p, cb) {\n  cb(null, ))\n}',
    expected: { error: 'ScriptError', message: /SyntaxError.*line 2/ },
  },
  {
    name: 'catching out-of-memory and going on',
    source: 'function login(e, p, cb) { for (;;) { try { const a = []; for (;;) a.push("x".repeat(1e5)) } catch (err) {} } }',
    expected: { error: 'ScriptTimeoutError' },
  },
  {
    name: 'a pbkdf2 over the cap',
    source: 'const c = require("crypto"); function login(e, p, cb) { c.pbkdf2(p, "salt", 1e9, 32, "sha256", cb) }',
    expected: { error: 'ScriptError', message: /iterations/ },
  },
  {
    name: 'a bcrypt cost over the cap',
    source: 'const b = require("bcrypt"); function login(e, p, cb) { b.hash(p, 20, cb) }',
    expected: { error: 'ScriptError', message: /cost/ },
  },
  { name: 'no function at all', source: 'var x = 1', expected: { error: 'ScriptError', message: /declares no function/ } },
]
