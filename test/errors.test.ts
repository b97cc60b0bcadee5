import { copyFileSync, mkdtempSync } from 'node:fs'
import { createRequire } from 'node:module'
import { tmpdir } from 'node:os'
import { dirname, join } from 'node:path'
import { pathToFileURL } from 'node:url'
import { describe, expect, it } from 'vitest'
import * as core from '@latchkey/core'

const CODES: Record<string, string> = {
  WrongUsernameOrPasswordError: 'invalid_user_password',
  UserExistsError: 'user_exists',
  UserNotFoundError: 'user_not_found',
  PasswordPolicyError: 'invalid_password',
  PasswordLeakedError: 'password_leaked',
  InvalidInputError: 'invalid_input',
  UnauthorizedError: 'unauthorized',
  TooManyAttemptsError: 'too_many_attempts',
  InvalidTicketError: 'invalid_ticket',
  NotSupportedError: 'not_supported',
  ScriptError: 'script_error',
  ScriptTimeoutError: 'script_timeout',
  ScriptRunnerBusyError: 'runner_busy',
  EgressDeniedError: 'egress_denied',
  StoreUnavailableError: 'store_unavailable',
  MigrationConflictError: 'migration_conflict',
}

function make(module: Record<string, unknown>, name: string): Error {
  const Cls = module[name] as new (...args: unknown[]) => Error
  if (name === 'PasswordPolicyError') return new Cls([])
  if (name === 'InvalidInputError') return new Cls([{ path: [], code: 'custom', message: 'x' }])
  if (name === 'ValidationError') return new Cls('bad_code', 'msg')
  return new Cls('message')
}

describe('errors', () => {
  it('every class of SPEC §7 has its stable code, a name, and extends LatchkeyError', () => {
    for (const [name, code] of Object.entries(CODES)) {
      const error = make(core as never, name) as core.LatchkeyError
      expect(error.code).toBe(code)
      expect(error.name).toBe(name)
      expect(error).toBeInstanceOf(core.LatchkeyError)
      expect(error).toBeInstanceOf(Error)
    }
    const validation = new core.ValidationError('weak_password', 'too weak')
    expect(validation.code).toBe('weak_password')
    expect(validation).toBeInstanceOf(core.LatchkeyError)
  })

  it('instanceof tells the classes apart', () => {
    const exists = new core.UserExistsError()
    expect(exists).not.toBeInstanceOf(core.WrongUsernameOrPasswordError)
    expect(new Error('plain')).not.toBeInstanceOf(core.LatchkeyError)
    expect({ code: 'user_exists' }).not.toBeInstanceOf(core.UserExistsError)
    expect(null).not.toBeInstanceOf(core.LatchkeyError)
  })

  it('instanceof works across two loaded copies of the package', async () => {
    // A real second copy: the compiled module file, loaded from another path.
    const original = join(dirname(createRequire(import.meta.url).resolve('@latchkey/core')), 'errors', 'errors.js')
    const copy = join(mkdtempSync(join(tmpdir(), 'latchkey-copy-')), 'errors.js')
    copyFileSync(original, copy)
    copyFileSync(`${original}.map`, `${copy}.map`)
    const other = (await import(pathToFileURL(copy).href)) as Record<string, unknown>
    expect(other['UserExistsError']).not.toBe(core.UserExistsError)
    for (const name of Object.keys(CODES)) {
      const fromCopy = make(other, name)
      expect(fromCopy).toBeInstanceOf(core[name as keyof typeof core] as never)
      expect(fromCopy).toBeInstanceOf(core.LatchkeyError)
      expect(make(core as never, name)).toBeInstanceOf(other[name] as never)
    }
    expect(make(other, 'UserExistsError')).not.toBeInstanceOf(core.InvalidInputError)
  })

  it('TooManyAttemptsError carries retryAfter; InvalidInputError carries zod-shaped issues', () => {
    expect(new core.TooManyAttemptsError('slow down', 30).retryAfter).toBe(30)
    const invalid = new core.InvalidInputError([{ path: ['email'], code: 'invalid_format', message: 'must be a valid email address' }])
    expect(invalid.message).toBe('Invalid input: email: must be a valid email address')
  })
})
