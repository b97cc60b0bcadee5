// `latchkey try`, spawned as a user runs it: every template script of examples/custom-db/
// against its legacy store (a real HTTP API, and the test MariaDB and PostgreSQL), and
// scripts that throw, time out, or log a configuration secret.
import { mkdtempSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { runCli, type CliResult } from './support/cli.js'
import { legacyStores, type LegacyStore } from './support/legacy-database.js'

const PASSWORD = 'Tr0ub4dor-horse-42'
const NEW_PASSWORD = 'Correct-battery-77'
const dir = mkdtempSync(join(tmpdir(), 'latchkey-cli-try-'))

function file(name: string, text: string): string {
  const path = join(dir, name)
  writeFileSync(path, text)
  return path
}

const json = (r: CliResult) =>
  JSON.parse(r.stdout) as {
    op: string
    ms: number
    logs: string[]
    value?: unknown
    error?: { code: string; message: string; line?: number }
  }

for (const [label, setUp] of Object.entries(legacyStores())) {
  describe(`latchkey try on the ${label} templates`, () => {
    let legacy: LegacyStore
    let config: string
    const outputs: string[] = []
    const tryScript = async (script: string, args: unknown[], extra: string[] = []) => {
      const r = await runCli([
        'try',
        join(legacy.dir, `${script}.js`),
        '--args',
        JSON.stringify(args),
        '--config',
        config,
        '--json',
        ...extra,
      ])
      outputs.push(r.stdout, r.stderr)
      return r
    }
    beforeAll(async () => {
      legacy = await setUp()
      config = file(`${label.replace(/\W/g, '-')}.json`, JSON.stringify({ configuration: legacy.configuration, egress: legacy.egress }))
    })
    afterAll(async () => {
      if (!legacy) return // setUp failed: nothing to tear down
      await legacy.teardown()
      // Not one run printed a configuration secret or a password.
      for (const text of outputs) {
        expect(text).not.toContain(legacy.secret)
        expect(text).not.toContain(PASSWORD)
        expect(text).not.toContain(NEW_PASSWORD)
      }
    })

    it('runs every script: create, login, get_user, verify, change_password, change_email, delete', async () => {
      const created = await tryScript('create', [{ email: 'ada@example.com', password: PASSWORD, username: 'ada' }])
      expect(created.code, created.stdout + created.stderr).toBe(0)
      expect(json(created)).toMatchObject({ op: 'create', ms: expect.any(Number), logs: [] })

      const login = await tryScript('login', ['ada@example.com', PASSWORD])
      expect(login.code, login.stdout).toBe(0)
      const profile = json(login).value as { user_id: string | number; email: string }
      expect(profile).toMatchObject({ email: 'ada@example.com', username: 'ada' })

      expect(json(await tryScript('get_user', ['ada'])).value).toMatchObject({ email: 'ada@example.com' })
      expect(json(await tryScript('verify', ['ada@example.com'])).value).toBe(true)
      expect(json(await tryScript('change_password', ['ada@example.com', NEW_PASSWORD])).value).toBe(true)
      expect((await tryScript('login', ['ada@example.com', NEW_PASSWORD])).code).toBe(0)
      expect(json(await tryScript('change_email', ['ada@example.com', 'ada@analytical.example', true])).value).toBe(true)
      expect(json(await tryScript('get_user', ['ada@analytical.example'])).value).toMatchObject({ email_verified: true })
      expect((await tryScript('delete', [String(profile.user_id)])).code).toBe(0)
      expect(json(await tryScript('get_user', ['ada@analytical.example'])).value).toBeNull()
    }, 300_000) // eleven processes, each starting a sandbox: minutes on a loaded machine
    it('shows a wrong password as the typed error, exit 1', async () => {
      const r = await tryScript('login', ['nobody@example.com', PASSWORD])
      expect(r.code).toBe(1)
      expect(json(r).error).toMatchObject({ code: 'invalid_user_password' })
    })
  })
}

describe('latchkey try, hostile and broken scripts', () => {
  const secretConfig = file('secret.json', JSON.stringify({ configuration: { API_KEY: 'sk-live-7f3a9c1e5b' }, timeoutMs: 5000 }))

  it('prints logs, time and value as plain lines, with the configuration secret and the password redacted', async () => {
    const script = file(
      'login.js',
      `function login(identifier, password, callback) {
  console.log('calling the API as ' + identifier + ' with key ' + configuration.API_KEY + ' and ' + password);
  callback(null, { id: 7, email: identifier });
}`,
    )
    const r = await runCli(['try', script, '--args', JSON.stringify(['ada@example.com', PASSWORD]), '--config', secretConfig])
    expect(r.code, r.stderr).toBe(0)
    expect(r.stdout).toMatch(
      /^op: login\nms: [\d.]+\nlog: \[log\] calling the API as ada@example.com with key \[redacted\] and \[redacted\]\nvalue: \{"id":7,"email":"ada@example.com"\}\n$/,
    )
  })
  it('reports a script that throws with its line, and the logs before it', async () => {
    const script = file(
      'get_user.js',
      `function getUser(identifier, callback) {
  console.log('looking up ' + identifier);
  const row = undefined;
  callback(null, { user_id: row.id });
}`,
    )
    const r = await runCli(['try', script, '--args', '["ada"]', '--config', secretConfig])
    expect(r.code).toBe(1)
    expect(r.stdout).toContain('log: [log] looking up ada\n')
    expect(r.stdout).toMatch(/\nerror: script_error: The get_user script failed: TypeError: .+ \(line 4\)\nline: 4\n$/)
    const j = await runCli(['try', script, '--args', '["ada"]', '--json'])
    expect(JSON.parse(j.stdout)).toMatchObject({
      op: 'get_user',
      logs: ['[log] looking up ada'],
      error: { code: 'script_error', line: 4, script: 'get_user' },
    })
  })
  it('contains a script that never calls back: a typed timeout at the deadline', async () => {
    const script = file(
      'verify.js',
      `function verify(email, callback) {
  console.log('waiting for ' + configuration.API_KEY);
  while (true) {}
}`,
    )
    const r = await runCli(['try', script, '--args', '["ada@example.com"]', '--timeout', '500', '--config', secretConfig, '--json'])
    expect(r.code).toBe(1)
    const j = JSON.parse(r.stdout) as { error: { code: string }; logs: string[]; ms: number }
    expect(j.error.code).toBe('script_timeout')
    expect(j.logs).toEqual(['[log] waiting for [redacted]'])
    expect(j.ms).toBeLessThan(500 + 1000)
  })
  it('says what a production connection would refuse in a profile', async () => {
    const script = file('bad-profile.js', 'function login(u, p, callback) { callback(null, { email: u }) }')
    const r = await runCli(['try', script, '--op', 'login', '--args', JSON.stringify(['ada@example.com', PASSWORD])])
    expect(r.code).toBe(1)
    expect(r.stdout).toContain('profile-error: The login script returned a profile whose user_id is invalid')
  })
  it('checks the arguments each script expects', async () => {
    const script = file('change_email.js', 'function changeEmail(a, b, v, callback) { callback(null, true) }')
    const count = await runCli(['try', script, '--args', '["a@example.com","b@example.com"]'])
    expect(count).toMatchObject({
      code: 1,
      stderr: 'latchkey: invalid_input: Invalid input: args: change_email(email, newEmail, verified) takes 3 argument(s), got 2\n',
    })
    const shape = await runCli(['try', script, '--args', '["a@example.com","b@example.com","yes"]', '--json'])
    expect(JSON.parse(shape.stdout)).toMatchObject({ error: { code: 'invalid_input', issues: [{ path: ['args', 'verified'] }] } })
    expect((await runCli(['try', script, '--args', 'not json'])).stderr).toBe(
      'latchkey: invalid_input: Invalid input: args: --args is not valid JSON\n',
    )
    const unnamed = await runCli(['try', file('thing.js', 'function f(cb) { cb() }'), '--args', '[]'])
    expect(unnamed.stderr).toMatch(
      /^latchkey: invalid_input: .*--op \(login, create, verify, change_password, get_user, delete, change_email\)\n$/,
    )
    expect((await runCli(['try', script, '--op', 'signup', '--args', '[]'])).code).toBe(2)
  })
})
