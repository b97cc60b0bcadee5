// Script errors are prompt, truthful and readable: an uncaught error in an async callback
// ends the run at once with its message and line, and redaction scrubs only guest text,
// completely (case-insensitively, before any cut), withholding it when a secret is short.
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { closeHashPool, EgressDeniedError, ScriptError, ScriptTimeoutError, ValidationError } from '@latchkey/core'
import { QuickJsRunner } from '@latchkey/sandbox'
import { httpServer } from './support/servers.js'

const runner = new QuickJsRunner({ timeoutMs: 10_000, workers: 2 })
let api: Awaited<ReturnType<typeof httpServer>>
beforeAll(async () => {
  api = await httpServer((req, res) => {
    if (req.url?.includes('unknown')) {
      res.statusCode = 404
      res.end('{}')
    } else res.end(JSON.stringify({ id: 7, email: 'ada@example.com' }))
  })
})
afterAll(async () => {
  await api.close()
  await runner.close()
  await closeHashPool()
})

describe('an uncaught error in an async callback ends the run at once', () => {
  const cases: [string, string, RegExp, number][] = [
    [
      'a timer',
      `function f(cb) {
      setTimeout(() => {
        null.boom
      }, 5)
    }`,
      /TypeError: cannot read property 'boom' of null/,
      3,
    ],
    [
      'an async timer callback',
      `function f(cb) {
      setTimeout(async () => {
        await null
        throw new RangeError('late failure')
      }, 5)
    }`,
      /RangeError: late failure/,
      4,
    ],
    [
      'a bcrypt callback',
      `function f(cb) {
      require('bcrypt').hash('Tr0ub4dor-horse-42', 4, function (err, hash) {
        hash.nope()
      })
    }`,
      /TypeError: not a function/,
      3,
    ],
  ]
  for (const [where, source, message, line] of cases) {
    it(`in ${where}`, async () => {
      const error = (await runner.run(source, [], { scriptName: 'login' }).catch((e: unknown) => e)) as ScriptError
      expect(error).toBeInstanceOf(ScriptError)
      expect(error).not.toBeInstanceOf(ScriptTimeoutError)
      expect(error.message).toMatch(/^The login script failed: /)
      expect(error.message).toMatch(message)
      expect(error.line).toBe(line)
      expect(error.message).toContain(`(line ${line})`)
    })
  }

  it('in a request callback, as the Basic-Auth get_user template does for an unknown user', async () => {
    const getUser = `function getByEmail(identifier, callback) {
  const request = require('request');
  request.get({ url: configuration.API_URL + '/users/' + identifier, auth: { user: 'api', pass: configuration.API_PASSWORD }, json: true },
    function (err, response, body) {
      if (err) return callback(err);
      callback(null, { user_id: body.id.toString(), email: body.email });
    });
}`
    const error = (await runner
      .run(getUser, ['unknown@example.com'], {
        scriptName: 'get_user',
        configuration: { API_URL: api.url, API_PASSWORD: 'api-password-123' },
        egress: { allow: [`127.0.0.1:${api.port}`] },
      })
      .catch((e: unknown) => e)) as ScriptError
    expect(error).toBeInstanceOf(ScriptError)
    expect(error.message).toBe("The get_user script failed: TypeError: cannot read property 'toString' of undefined (line 6)")
  })
})

describe('redaction', () => {
  it("never redacts latchkey's own words, even with a one-letter password", async () => {
    const timeout = (await runner
      .run('function login(e, p, cb) { console.log("waiting for", p) }', ['ada@example.com', 'e'], {
        scriptName: 'login',
        redact: ['e'],
        timeoutMs: 200,
      })
      .catch((e: unknown) => e)) as ScriptTimeoutError
    expect(timeout).toBeInstanceOf(ScriptTimeoutError)
    expect(timeout.message).toBe('The login script timed out after 200 ms without calling its callback.')
    expect(timeout.logs).toEqual(['[log] [withheld]'])
  })

  it('withholds all guest text of a run with a secret shorter than 6 characters, whatever it says', async () => {
    for (const [key, secret] of [
      ['DB_PASSWORD', 'e'],
      ['API_PIN', 'abc12'],
      ['apiKey', 'k3y'],
      ['SESSION_SALT', '1234'],
    ] as const) {
      const error = (await runner
        .run(
          'function login(e, p, cb) { console.log("nothing secret here"); cb(new TypeError("no secret in this message either")) }',
          ['ada@example.com', 'Tr0ub4dor-horse-42'],
          {
            scriptName: 'login',
            configuration: { [key]: secret },
          },
        )
        .catch((e: unknown) => e)) as ScriptError
      expect(error.message).toBe('The login script failed: TypeError: [withheld] (line 1)')
      expect(error.logs).toEqual(['[log] [withheld]'])
    }
  })

  it('shows a short setting whose key names no secret (a port): it is neither withheld nor scrubbed', async () => {
    const error = (await runner
      .run(
        'function login(e, p, cb) { console.log("connecting to port", configuration.DB_PORT, "as", configuration.DB_USER); cb(new Error("refused on " + configuration.DB_PORT + " with " + configuration.DB_PASSWORD)) }',
        ['ada@example.com', 'Tr0ub4dor-horse-42'],
        {
          scriptName: 'login',
          configuration: { DB_PORT: '5432', DB_USER: 'app', REGION: 'eu', DB_PASSWORD: 'legacy-db-secret-42' },
          redact: ['Tr0ub4dor-horse-42'],
        },
      )
      .catch((e: unknown) => e)) as ScriptError
    expect(error.message).toBe('The login script failed: refused on 5432 with [redacted] (line 1)')
    expect(error.logs).toEqual(['[log] connecting to port 5432 as app'])
  })

  it('still scrubs a setting of 6 characters or more, whatever its key', async () => {
    const error = (await runner
      .run('function login(e, p, cb) { cb(new Error("host " + configuration.DB_HOST)) }', ['ada@example.com', 'Tr0ub4dor-horse-42'], {
        scriptName: 'login',
        configuration: { DB_HOST: 'db.internal.example' },
      })
      .catch((e: unknown) => e)) as ScriptError
    expect(error.message).toBe('The login script failed: host [redacted] (line 1)')
  })

  it('scrubs error.name and refuses a ValidationError code that is not [a-z0-9_]{1,64}', async () => {
    const configuration = { API_KEY: 'sk_live_abcdef123456' }
    const named = (await runner
      .run('function f(cb) { const e = new Error("x"); e.name = configuration.API_KEY; cb(e) }', [], { configuration })
      .catch((e: unknown) => e)) as ScriptError
    expect(named).toBeInstanceOf(ScriptError)
    expect(JSON.stringify({ m: named.message, s: named.stack })).not.toContain('abcdef123456')
    const coded = (await runner
      .run('function f(cb) { cb(new ValidationError(configuration.API_KEY.toUpperCase(), "bad")) }', [], { configuration })
      .catch((e: unknown) => e)) as ScriptError
    expect(coded).toBeInstanceOf(ScriptError)
    expect(coded).not.toBeInstanceOf(ValidationError)
    expect(coded.code).toBe('script_error')
    expect(coded.message).toBe('The script failed: ValidationError with a code that is not [a-z0-9_]{1,64}: bad (line 1)')
    const fine = (await runner
      .run('function f(cb) { cb(new ValidationError("too_short", "pick a longer one")) }', [])
      .catch((e: unknown) => e)) as ValidationError
    expect(fine).toBeInstanceOf(ValidationError)
    expect(fine.code).toBe('too_short')
  })

  it('redacts before it cuts: a long message followed by the secret leaks no part of it', async () => {
    const secret = 'S3cret-'.repeat(100)
    for (const padding of [183, 4000, 4090, 5000]) {
      const error = (await runner
        .run(`function f(cb) { cb(new Error("x".repeat(${padding}) + configuration.TOKEN)) }`, [], { configuration: { TOKEN: secret } })
        .catch((e: unknown) => e)) as ScriptError
      expect(error.message).not.toContain('S3cret')
      expect(error.message.length).toBeLessThan(4200)
    }
  })

  it('shows control characters in guest text escaped: no forged log line, no terminal escape', async () => {
    const error = (await runner
      .run('function f(cb) { console.log("ok\\n[info] admin logged in\\u001b[2J"); cb(new Error("bad\\r\\nFAKE: line")) }', [])
      .catch((e: unknown) => e)) as ScriptError
    expect(error.logs).toEqual(['[log] ok\\u000a[info] admin logged in\\u001b[2J'])
    expect(error.message).toBe('The script failed: bad\\u000d\\u000aFAKE: line (line 1)')
  })

  it('redacts case-insensitively: a secret used as a hostname does not leak through the lower-cased egress error', async () => {
    const error = (await runner
      .run('function f(cb) { fetch("http://" + configuration.HOST + "/").then(() => cb(null), cb) }', [], {
        configuration: { HOST: 'Secret-Host-Name-77' },
      })
      .catch((e: unknown) => e)) as EgressDeniedError
    expect(error).toBeInstanceOf(EgressDeniedError)
    expect(error.message.toLowerCase()).not.toContain('secret-host-name-77')
    expect(error.message).toContain('[redacted]')
  })
})
