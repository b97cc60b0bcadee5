// The `latchkey` command, spawned as a user runs it: db and users, on every dialect in DIALECTS.
import { writeFileSync, mkdtempSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { BuiltinConnection, closeHashPool } from '@latchkey/core'
import { openStore, type OpenedStore } from '@latchkey/adapters'
import { runCli } from './support/cli.js'
import { DIALECTS, freshDatabaseUrl, uniqueName } from './support/dialects.js'
import { TEST_COST } from './support/test-cost.js'

const PASSWORD = 'Tr0ub4dor-horse-42'
const ctx = { ip: '203.0.113.16' }

afterAll(async () => {
  await closeHashPool()
})

describe('latchkey, any store', () => {
  it('prints help with an example for every command', async () => {
    for (const args of [
      [],
      ['db', 'migrate'],
      ['db', 'status'],
      ['try'],
      ['import'],
      ['migration', 'status'],
      ['migration', 'finish'],
      ['users', 'get'],
      ['users', 'block'],
      ['users', 'unblock'],
    ]) {
      const r = await runCli([...args, '--help'])
      expect(r.code, args.join(' ')).toBe(0)
      expect(r.stdout).toMatch(/Example:\n {2}\$ latchkey /)
    }
  })
  it('refuses a bad store URL with one typed line, and no stack', async () => {
    const r = await runCli(['db', 'status', '--store', 'oracle://scott:tiger@db/x'])
    expect(r.code).toBe(1)
    expect(r.stderr).toBe("latchkey: invalid_input: Invalid input: url: expected 'sqlite:…', 'postgres://…' or 'mysql://…'\n")
    expect(r.stdout).toBe('')
    const json = await runCli(['db', 'status', '--store', 'oracle://scott:tiger@db/x', '--json'])
    expect(JSON.parse(json.stdout)).toMatchObject({ error: { code: 'invalid_input', issues: [{ path: ['url'] }] } })
  })
  it('says which store is unreachable without its password', async () => {
    const r = await runCli(['db', 'status', '--store', 'postgres://app:s3cret-pw-17@127.0.0.1:1/app'])
    expect(r.code).toBe(1)
    expect(r.stderr).toMatch(/^latchkey: store_unavailable: .+\n$/)
    expect(r.stderr).not.toContain('s3cret-pw-17')
    const missing = await runCli(['db', 'status', '--store', 'sqlite:/nonexistent-dir-16/x.db'])
    expect(missing.stderr).toMatch(/^latchkey: store_unavailable: .+\n$/)
  })
  it('needs a store, and says so as a usage error', async () => {
    const r = await runCli(['db', 'status'])
    expect(r.code).toBe(2)
    expect(r.stderr).toBe('latchkey: store_required: no store given: pass --store URL or set LATCHKEY_STORE_URL\n')
  })
  it('answers an unknown option or a missing one with exit 2', async () => {
    expect((await runCli(['users', 'get', 'x', '--bogus'])).code).toBe(2)
    const r = await runCli(['users', 'get', 'x', '--store', 'sqlite::memory:'])
    expect(r.code).toBe(2)
    expect(r.stderr).toContain("latchkey: usage: required option '--connection <name>' not specified")
  })
  it('reads a bad config file as a typed error naming the field', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'latchkey-cli-'))
    writeFileSync(join(dir, 'bad.json'), JSON.stringify({ passwordPolicy: { level: 'superb' } }))
    const url = `sqlite:${join(dir, 's.db')}`
    await runCli(['db', 'migrate', '--store', url])
    const r = await runCli(['users', 'get', 'a@example.com', '--connection', 'c', '--store', url, '--config', join(dir, 'bad.json')])
    expect(r.code).toBe(1)
    expect(r.stderr).toMatch(/^latchkey: invalid_input: Invalid input: config\.passwordPolicy\.level: .+\n$/)
    const none = await runCli(['users', 'get', 'a@example.com', '--connection', 'c', '--store', url, '--config', join(dir, 'nope.json')])
    expect(none.stderr).toBe(`latchkey: file_unreadable: cannot read the config file ${join(dir, 'nope.json')}: no such file\n`)
  })
})

for (const dialect of DIALECTS) {
  describe(`latchkey db and users on ${dialect}`, () => {
    let url: string
    let store: OpenedStore
    const name = uniqueName('cli')
    beforeAll(async () => {
      url = await freshDatabaseUrl(dialect)
    })
    afterAll(async () => {
      await store?.close()
    })

    it('db status lists the pending migration; other commands refuse an unmigrated store', async () => {
      const status = await runCli(['db', 'status', '--store', url])
      expect(status.code).toBe(0)
      const lines = status.stdout.trim().split('\n')
      expect(lines[0]).toBe('migration: 0001-initial-schema pending')
      expect(lines.slice(0, -1).every((l) => /^migration: \d{4}-[a-z0-9-]+ pending$/.test(l))).toBe(true)
      expect(lines.at(-1)).toBe(`pending: ${lines.length - 1}`)
      const refused = await runCli(['users', 'get', 'ada@example.com', '--connection', name, '--store', url])
      expect(refused.code).toBe(1)
      expect(refused.stderr).toMatch(/^latchkey: schema_outdated: .*0001-initial-schema.*latchkey db migrate/)
    })
    it('db migrate applies it once; status then shows it applied, as JSON too', async () => {
      const first = await runCli(['db', 'migrate'], { LATCHKEY_STORE_URL: url })
      expect(first.code).toBe(0)
      expect(first.stdout).toMatch(/^applied: 0001-initial-schema\n/)
      const again = await runCli(['db', 'migrate', '--store', url, '--json'])
      const { applied, migrations } = JSON.parse(again.stdout) as {
        applied: string[]
        migrations: { name: string; executedAt: string | null }[]
      }
      expect(applied).toEqual([])
      expect(migrations[0]).toEqual({ name: '0001-initial-schema', executedAt: expect.any(String) })
      expect(migrations.every((m) => typeof m.executedAt === 'string')).toBe(true)
      const status = await runCli(['db', 'status', '--store', url, '--json'])
      expect(JSON.parse(status.stdout)).toMatchObject({ pending: 0 })
      expect(JSON.stringify(JSON.parse(status.stdout))).not.toContain('latchkey:latchkey@')
    })
    it('users get prints a profile, never a hash; an unknown user exits 1', async () => {
      store = await openStore(url)
      const users = new BuiltinConnection({ name, store, ...TEST_COST })
      const ada = await users.signup({ email: 'ada@example.com', password: PASSWORD, username: 'ada' }, ctx)
      const r = await runCli(['users', 'get', 'ada', '--connection', name, '--store', url])
      expect(r.code).toBe(0)
      expect(r.stdout).toContain(`user_id: ${ada.user_id}\nemail: ada@example.com\nemail_verified: false\nusername: ada\n`)
      expect(r.stdout).not.toMatch(/\$2[aby]\$/)
      const byId = await runCli(['users', 'get', ada.user_id, '--connection', name, '--store', url, '--json'])
      expect(JSON.parse(byId.stdout)).toMatchObject({ user_id: ada.user_id, email: 'ada@example.com', blocked: false })
      const unknown = await runCli(['users', 'get', 'nobody@example.com', '--connection', name, '--store', url])
      expect(unknown).toMatchObject({
        code: 1,
        stdout: '',
        stderr: `latchkey: user_not_found: no user nobody@example.com on connection ${name}\n`,
      })
    })
    it('users block refuses logins; users unblock lifts it and the attack-protection block', async () => {
      const users = new BuiltinConnection({ name, store, ...TEST_COST })
      expect((await runCli(['users', 'block', 'ada@example.com', '--connection', name, '--store', url])).code).toBe(0)
      await expect(users.login({ identifier: 'ada@example.com', password: PASSWORD }, ctx)).rejects.toMatchObject({ code: 'unauthorized' })
      for (let i = 0; i < 10; i++)
        await users.login({ identifier: 'ada@example.com', password: 'not-the-password-1' }, ctx).catch(() => undefined)
      await expect(users.login({ identifier: 'ada@example.com', password: PASSWORD }, ctx)).rejects.toMatchObject({
        code: 'too_many_attempts',
      })
      const r = await runCli(['users', 'unblock', 'ada', '--connection', name, '--store', url, '--json'])
      expect(r.code).toBe(0)
      expect(JSON.parse(r.stdout)).toMatchObject({ user: { email: 'ada@example.com', blocked: false } })
      await expect(users.login({ identifier: 'ada@example.com', password: PASSWORD }, ctx)).resolves.toMatchObject({
        email: 'ada@example.com',
      })
    })
  })
}
