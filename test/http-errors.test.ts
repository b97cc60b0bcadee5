import { afterAll, describe, expect, it } from 'vitest'
import { BuiltinConnection, closeHashPool, CustomScriptConnection } from '@latchkey/core'
import { QuickJsRunner } from '@latchkey/sandbox'
import { openStore } from '@latchkey/adapters'
import { createHandler, type MailRequest } from '@latchkey/http'
import { storeUrl, uniqueName } from './support/dialects.js'
import { HTTP_ADAPTERS, serveHandler, type RunningApp } from './support/http-adapters.js'
import { TEST_COST } from './support/test-cost.js'

const PASSWORD = 'Tr0ub4dor-horse-42'
const runner = new QuickJsRunner({ workers: 1 })
const running: RunningApp[] = []
afterAll(async () => {
  for (const app of running) await app.close()
  await runner.close()
  await closeHashPool()
})

/** A login script per failure; the text a failure carries must never reach the client. */
const SCRIPTS = {
  sql: `function login(email, password, callback) {
    callback(new Error('ER_PARSE_ERROR near SELECT password_hash FROM shop_users WHERE email = ' + email));
  }`,
  timeout: 'function login(email, password, callback) { while (true) {} }',
  egress: `async function login(email, password) {
    await fetch('http://legacy-db.invalid/users?secret=s3cr3t-config');
  }`,
  borrowedCode: `function login(email, password, callback) {
    callback(new ValidationError('invalid_user_password', 'row 17 of shop_users has a NULL salt'));
  }`,
  blocked: `function login(email, password, callback) {
    callback(new UnauthorizedError('Your account is suspended; call support.'));
  }`,
}

async function post(app: RunningApp, path: string, body: unknown): Promise<Response> {
  return fetch(app.url + path, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) })
}

describe.each(HTTP_ADAPTERS)('error mapping on %s', (adapter) => {
  async function appFor(script: string): Promise<RunningApp> {
    // Only the runaway script meets its deadline; the others get room on a loaded machine.
    const timeoutMs = script === SCRIPTS.timeout ? 1000 : 20_000
    const connection = new CustomScriptConnection({
      name: uniqueName('http-err'),
      runner,
      scripts: { login: script },
      timeoutMs,
      attackProtection: false,
    })
    const app = await serveHandler(adapter, createHandler({ connection }))
    running.push(app)
    return app
  }

  it.each([
    ['sql', 502, 'script_error'],
    ['timeout', 502, 'script_timeout'],
    ['egress', 502, 'egress_denied'],
  ] as const)('a script failure (%s) is %i %s with a fixed message and nothing of its own', async (name, status, code) => {
    const res = await post(await appFor(SCRIPTS[name]), '/auth/login', { identifier: 'ada@example.com', password: PASSWORD })
    expect(res.status).toBe(status)
    expect(await res.json()).toEqual({ error: code, message: 'The identity backend failed.' })
  })

  it("a script's ValidationError borrowing an end-user code keeps its code but not its text", async () => {
    const res = await post(await appFor(SCRIPTS.borrowedCode), '/auth/login', { identifier: 'ada@example.com', password: PASSWORD })
    expect(res.status).toBe(400) // ValidationError's own status
    const body = (await res.json()) as { error: string; message: string }
    expect(body.error).toBe('invalid_user_password')
    expect(body.message).not.toContain('shop_users')
  })

  it('an UnauthorizedError is 403 with its message, meant for the end user', async () => {
    const res = await post(await appFor(SCRIPTS.blocked), '/auth/login', { identifier: 'ada@example.com', password: PASSWORD })
    expect(res.status).toBe(403)
    expect(await res.json()).toEqual({ error: 'unauthorized', message: 'Your account is suspended; call support.' })
  })

  it('answers signup and forgot before the mail is sent: onMail runs off the request path', async () => {
    const store = await openStore(storeUrl('sqlite'))
    const connection = new BuiltinConnection({ name: uniqueName('http-mail'), store, ...TEST_COST })
    let release!: () => void
    const held = new Promise<void>((resolve) => {
      release = resolve
    })
    const started: MailRequest['kind'][] = []
    const app = await serveHandler(
      adapter,
      createHandler({
        connection,
        onMail: async (m) => {
          started.push(m.kind)
          await held
        },
      }),
    )
    try {
      expect((await post(app, '/auth/signup', { email: 'ada@example.com', password: PASSWORD })).status).toBe(201)
      expect((await post(app, '/auth/password/forgot', { email: 'ada@example.com' })).status).toBe(202)
      // Both answers came back while every mail is still being "sent".
      await expect.poll(() => started.slice().sort(), { timeout: 15_000 }).toEqual(['reset_password', 'verify_email'])
    } finally {
      release()
      await app.close()
      await store.close()
    }
  })
})

describe.each(HTTP_ADAPTERS)('forgot in front of a slow legacy lookup on %s', (adapter) => {
  it('answers 202 before the lookup ends, for a known and an unknown email alike', async () => {
    const store = await openStore(storeUrl('sqlite'))
    const connection = new CustomScriptConnection({
      name: uniqueName('http-slow'),
      runner,
      store,
      attackProtection: false,
      scripts: {
        login: 'function login(email, password, callback) { callback(); }',
        change_password: 'function changePassword(email, password, callback) { callback(null, true); }',
        // A legacy lookup that takes a second, and knows only ada.
        get_user: `function getByEmail(email, callback) {
          setTimeout(function () { callback(null, email === 'ada@example.com' ? { user_id: '7', email: email } : null); }, 1000);
        }`,
      },
    })
    // Observes (never replaces) the real lookups, so the test can wait for both to end.
    let lookupsDone = 0
    const observed = new Proxy(connection, {
      get(target, key, receiver) {
        if (key !== 'createPasswordResetTicket') return Reflect.get(target, key, receiver)
        return (...args: Parameters<typeof connection.createPasswordResetTicket>) =>
          connection.createPasswordResetTicket(...args).finally(() => {
            lookupsDone++
          })
      },
    })
    const mails: MailRequest[] = []
    const app = await serveHandler(
      adapter,
      createHandler({
        connection: observed,
        onMail: (m) => {
          mails.push(m)
        },
      }),
    )
    try {
      const answers: string[] = []
      for (const email of ['ada@example.com', 'nobody@example.com']) {
        const res = await post(app, '/auth/password/forgot', { email })
        expect(res.status).toBe(202)
        answers.push(await res.text())
        expect(mails).toEqual([]) // the lookup behind this answer has not finished
      }
      expect(answers[1]).toBe(answers[0])
      await expect.poll(() => lookupsDone, { timeout: 15_000 }).toBe(2)
      expect(mails.map((m) => m.to)).toEqual(['ada@example.com'])
    } finally {
      await app.close()
      await store.close()
    }
  })
})
