// Type tests, checked by `pnpm typecheck` (tsc -p test): each @ts-expect-error line must
// fail to compile, or the typecheck fails. Never run; only compiled.
import type {
  DatabaseConnection,
  InputIssue,
  InputIssueCode,
  LatchkeyError,
  LatchkeyErrorCode,
  ScriptRunner,
  UserStore,
} from '@latchkey/core'
import { BuiltinConnection, CustomScriptConnection, MigratingConnection, UserExistsError, ValidationError } from '@latchkey/core'

declare const users: BuiltinConnection
declare const legacy: CustomScriptConnection
declare const contract: DatabaseConnection
declare const error: LatchkeyError
const login = { identifier: 'ada@example.com', password: 'Tr0ub4dor-horse-42' }
const signup = { email: 'ada@example.com', password: 'Tr0ub4dor-horse-42' }

export async function ipIsRequiredOnTheClasses(): Promise<void> {
  // @ts-expect-error login needs the end user's IP
  await users.login(login)
  // @ts-expect-error a context without an IP is no better
  await users.login(login, { userAgent: 'curl' })
  // @ts-expect-error signup needs it too
  await users.signup(signup)
  // @ts-expect-error and on a custom-script connection
  await legacy.login(login, {})
  // @ts-expect-error
  await legacy.signup(signup)
  await users.login(login, { ip: '192.0.2.1' })
  await legacy.signup(signup, { ip: '192.0.2.1', userAgent: 'curl' })
  // The DatabaseConnection contract keeps ctx optional.
  await contract.login(login)
}

export async function aMigratingConnectionFollowsItsTarget(
  target: BuiltinConnection,
  legacyOff: CustomScriptConnection<false>,
): Promise<void> {
  const migrating = new MigratingConnection({ name: target.name, target, legacy: legacyOff })
  // @ts-expect-error the target's attack protection needs the IP
  await migrating.login(login)
  // @ts-expect-error
  await migrating.signup(signup)
  await migrating.login(login, { ip: '192.0.2.1' })
}

export async function ipIsOptionalWithoutAttackProtection(store: UserStore, runner: ScriptRunner): Promise<void> {
  const off = new BuiltinConnection({ name: 'off', store, attackProtection: false })
  await off.login(login)
  const relaxed = new BuiltinConnection({ name: 'relaxed', store, attackProtection: { allowMissingIp: true } })
  await relaxed.signup(signup)
  const legacyOff = new CustomScriptConnection({
    name: 'legacy',
    runner,
    scripts: { login: 'function login() {}' },
    attackProtection: false,
  })
  await legacyOff.login(login)
  const strict = new BuiltinConnection({ name: 'strict', store, attackProtection: { bruteForce: { threshold: 3 } } })
  // @ts-expect-error attack protection is on: the IP is required
  await strict.login(login)
  // @ts-expect-error the options are still checked for typos
  void new BuiltinConnection({ name: 'typo', store, bcryptCots: 4 })
  // Either kind is still a BuiltinConnection and a DatabaseConnection.
  const connections: DatabaseConnection[] = [off, relaxed, strict, legacyOff]
  const builtins: BuiltinConnection[] = [off, relaxed, strict]
  void [connections, builtins]
}

export function codesAreALiteralUnion(): void {
  // @ts-expect-error a misspelt code does not compile
  if (error.code === 'usr_exists') return
  if (error.code === 'user_exists') return
  const exists: 'user_exists' = new UserExistsError().code
  // @ts-expect-error each class's code is its own literal
  const other: 'invalid_input' = new UserExistsError().code
  const statics: 'user_exists' = UserExistsError.code
  // A script's ValidationError keeps its own code.
  const script: string = new ValidationError('weak_pin').code
  const known: LatchkeyErrorCode[] = [
    'invalid_user_password',
    'user_exists',
    'user_not_found',
    'invalid_password',
    'password_leaked',
    'invalid_input',
    'unauthorized',
    'too_many_attempts',
    'invalid_ticket',
    'not_supported',
    'script_error',
    'script_timeout',
    'egress_denied',
    'store_unavailable',
    'migration_conflict',
  ]
  // @ts-expect-error a code of no class
  const unknown: LatchkeyErrorCode = 'no_such_code'
  void [exists, other, statics, script, known, unknown]
}

export function issueCodesAreZods(issue: InputIssue): void {
  const zods: InputIssueCode[] = ['invalid_type', 'too_big', 'too_small', 'invalid_format', 'invalid_value', 'unrecognized_keys', 'custom']
  // @ts-expect-error invented codes are gone
  const invented: InputIssueCode = 'invalid_string'
  // @ts-expect-error
  if (issue.code === 'too_long') return
  void [zods, invented]
}
