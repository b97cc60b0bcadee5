// @latchkey/core: the public API. What is not exported here is private; what latchkey's own
// packages share with core is in ./internal.ts (`@latchkey/core/internal`), with no compatibility promise.

export {
  LatchkeyError,
  WrongUsernameOrPasswordError,
  UserExistsError,
  UserNotFoundError,
  PasswordPolicyError,
  PasswordLeakedError,
  InvalidInputError,
  ValidationError,
  UnauthorizedError,
  TooManyAttemptsError,
  InvalidTicketError,
  NotSupportedError,
  ScriptError,
  ScriptTimeoutError,
  ScriptRunnerBusyError,
  EgressDeniedError,
  StoreUnavailableError,
  MigrationConflictError,
  PasswordChangeRequiredError,
} from './errors/errors.js'
export type { InputIssue, InputIssueCode, LatchkeyErrorCode, PolicyRuleResult } from './errors/errors.js'

export type {
  DatabaseConnection,
  IpContextArgs,
  RequestContext,
  RequestContextWithIp,
  SignupInput,
  LoginInput,
  UserPatch,
  TicketOptions,
  IssuedTicket,
  ChangeOwnPasswordInput,
} from './connection/database-connection.js'
export { BuiltinConnection, builtinConnectionOptionsSchema } from './connection/builtin-connection.js'
export type { BuiltinConnectionOptions } from './connection/builtin-connection.js'
export { CustomScriptConnection, customScriptConnectionOptionsSchema, customScriptsSchema } from './connection/custom-script-connection.js'
export type { CustomScriptConnectionOptions, CustomScripts, CustomScriptStore } from './connection/custom-script-connection.js'
export { MigratingConnection, migratingConnectionOptionsSchema } from './connection/migrating-connection.js'
export type { MigratingConnectionOptions, MigrationStatus } from './connection/migrating-connection.js'
export { ticketSettingsSchema } from './tickets/ticket-issuer.js'
export type { TicketSettings } from './tickets/ticket-issuer.js'

export { userProfileSchema } from './profile/profile-schema.js'
export type { UserProfile } from './profile/profile-schema.js'
export { emailSchema } from './profile/email.js'
export {
  signupInputSchema,
  loginInputSchema,
  requestContextSchema,
  userPatchSchema,
  ticketOptionsSchema,
  changeEmailOptionsSchema,
  passwordSchema,
  identifierSchema,
  userIdSchema,
  ticketTokenSchema,
  changeOwnPasswordInputSchema,
} from './input/schemas.js'
export { metadataSchema, MAX_METADATA_BYTES, MAX_METADATA_DEPTH } from './input/text.js'

export { PasswordPolicy, passwordPolicyOptionsSchema, passwordPolicyLevels, MIN_BLOCKLIST_ENTRIES } from './password/policy.js'
export type { PasswordPolicyOptions, PasswordPolicyLevel, PersonalInfo } from './password/policy.js'
export { closeHashPool } from './password/hash-pool.js'

export { latchkeyEventTypes } from './events/events.js'
export type { LatchkeyEvent, LatchkeyEventType, EventListener } from './events/events.js'

export type {
  UserStore,
  UserRecordStore,
  TicketStore,
  AttackCounterStore,
  SettingStore,
  StoredUser,
  NewStoredUser,
  StoredUserPatch,
  UserLookup,
  InsertUserResult,
  InsertUsersOutcome,
  LoginRecord,
  CounterSpec,
  PasswordChange,
  EmailChange,
  TicketPurpose,
  TicketRecord,
  LegacyIdentifier,
  MigrationImport,
  BulkMigration,
  MigrationStats,
} from './store/user-store.js'
export type { ScriptRunner, ScriptRunOptions, ScriptRunResult } from './script/script-runner.js'
export { egressSchema } from './script/egress-allow.js'

export { importUsers, importRecordSchema, importOptionsSchema } from './import/import-users.js'
export type { ImportRecord, ImportOptions, ImportResult, ImportFailure, ImportProgress } from './import/import-users.js'
export { customPasswordHashSchema } from './password/legacy/parse-custom-hash.js'
export type { CustomPasswordHash } from './password/legacy/parse-custom-hash.js'
export { importCapsSchema, DEFAULT_IMPORT_CAPS } from './password/legacy/legacy-hash.js'
export type { ImportCaps } from './password/legacy/legacy-hash.js'
export { attackProtectionSchema } from './attack/attack-protection.js'
export type { AttackProtectionOptions } from './attack/attack-protection.js'
export { breachedPasswordsSchema } from './attack/breached-passwords.js'
export {
  pwnedPasswordsRangeApi,
  pwnedPasswordsRangeApiOptionsSchema,
  PWNED_PASSWORDS_RANGE_URL,
} from './attack/pwned-passwords-range-api.js'
export type { PwnedPasswordsRangeApiOptions } from './attack/pwned-passwords-range-api.js'
export type { BreachedPasswordOptions } from './attack/breached-passwords.js'
