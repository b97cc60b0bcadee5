// What a latchkey custom-database script sees (SPEC §3), for editors and `// @ts-check`.
// A script is a source string run in QuickJS, not a Node module: no import, no export,
// no Node globals beyond these. Start each script file with
//
//   // @ts-check
//   /// <reference types="@latchkey/sandbox/script-globals" />
//
// and type its entry function with the callback of its script, for example
// `/** @param {string} identifier @param {string} password @param {LoginCallback} callback */`.

// ---- configuration and global ------------------------------------------------------------

/** The connection's `configuration`: frozen string values, redacted from every log and error. */
declare const configuration: Readonly<Record<string, string>>

/**
 * One JSON object per connection, copied into each run and written back when the run
 * succeeds. A cache, not a database: re-check what you find in it.
 */
declare var global: Record<string, unknown>

// ---- what scripts receive and answer -------------------------------------------------------

/** A profile a script returns; validated by the host. `id` is an alias of `user_id`; null fields are dropped. */
interface LatchkeyScriptProfile {
  user_id?: string | number
  id?: string | number
  email?: string | null
  email_verified?: boolean | null
  username?: string | null
  name?: string | null
  given_name?: string | null
  family_name?: string | null
  nickname?: string | null
  picture?: string | null
  user_metadata?: Record<string, unknown> | null
  app_metadata?: Record<string, unknown> | null
  blocked?: boolean | null
  created_at?: string | number | null
  updated_at?: string | number | null
  last_login?: string | number | null
  logins_count?: number | null
}

/** The user `create` receives. */
interface LatchkeyNewUser {
  email: string
  password: string
  username?: string
  user_metadata?: Record<string, unknown>
  /** The connection's name. */
  connection: string
}

/** What a script may fail with: the classes below map to SDK errors, anything else is a ScriptError. */
type LatchkeyScriptFailure = Error | null | undefined

/** `login(identifier, password, callback)`: a profile, or `callback()` / WrongUsernameOrPasswordError for "no". */
type LoginCallback = (error?: LatchkeyScriptFailure, profile?: LatchkeyScriptProfile | null) => void
/** `create(user, callback)`: `callback(null)`, or `new ValidationError('user_exists')` for a duplicate. */
type CreateCallback = (error?: LatchkeyScriptFailure) => void
/** `verify(email, callback)`: `callback(null, true)`. */
type VerifyCallback = (error?: LatchkeyScriptFailure, verified?: boolean) => void
/** `changePassword(email, newPassword, callback)`: true when changed, false when there is no such user. */
type ChangePasswordCallback = (error?: LatchkeyScriptFailure, changed?: boolean) => void
/** `getUser(identifier, callback)`: a profile, or `callback(null)` when not found. */
type GetUserCallback = (error?: LatchkeyScriptFailure, profile?: LatchkeyScriptProfile | null) => void
/** `remove(id, callback)`: `callback(null)`. */
type DeleteCallback = (error?: LatchkeyScriptFailure) => void
/** `changeEmail(email, newEmail, verified, callback)`: true when changed, false when there is no such user. */
type ChangeEmailCallback = (error?: LatchkeyScriptFailure, changed?: boolean) => void

// ---- error classes -----------------------------------------------------------------------------

/** "No" from `login`: an unknown user or a wrong password. Becomes WrongUsernameOrPasswordError. */
declare class WrongUsernameOrPasswordError extends Error {
  constructor(identifier?: string | null, message?: string)
  readonly identifier: string | null
}
/** A refusal with a code: `'user_exists'` becomes UserExistsError, any other code a ValidationError with it. */
declare class ValidationError extends Error {
  constructor(code: string, message?: string)
  readonly code: string
}
/** A refusal whose message may be shown to the end user. Becomes UnauthorizedError. */
declare class UnauthorizedError extends Error {
  constructor(message?: string)
}

// ---- utilities ---------------------------------------------------------------------------------

/** Captured per run and returned to the host, never printed; passwords and configuration values are redacted. */
declare const console: {
  log(...args: unknown[]): void
  info(...args: unknown[]): void
  warn(...args: unknown[]): void
  error(...args: unknown[]): void
  debug(...args: unknown[]): void
}
/** At most 100 timers per run; the delay is capped by the run's deadline. */
declare function setTimeout<A extends unknown[]>(fn: (...args: A) => void, ms?: number, ...args: A): number
declare function clearTimeout(id: number | undefined): void

type LatchkeyBufferEncoding =
  | 'utf8'
  | 'utf-8'
  | 'hex'
  | 'base64'
  | 'base64url'
  | 'latin1'
  | 'binary'
  | 'ascii'
  | 'utf16le'
  | 'utf-16le'
  | 'ucs2'
  | 'ucs-2'

/** Node's Buffer, for base64, hex and UTF-8 work. */
interface Buffer extends Uint8Array<ArrayBuffer> {
  toString(encoding?: LatchkeyBufferEncoding, start?: number, end?: number): string
  slice(start?: number, end?: number): Buffer
  equals(other: Uint8Array): boolean
  toJSON(): { type: 'Buffer'; data: number[] }
}
declare const Buffer: {
  readonly prototype: Buffer
  from(value: string, encoding?: LatchkeyBufferEncoding): Buffer
  from(value: ArrayLike<number> | ArrayBuffer | Uint8Array): Buffer
  alloc(size: number, fill?: number): Buffer
  isBuffer(value: unknown): value is Buffer
  byteLength(value: string | Uint8Array, encoding?: LatchkeyBufferEncoding): number
  concat(list: readonly Uint8Array[], totalLength?: number): Buffer
}

interface LatchkeyHeaders {
  get(name: string): string | null
  has(name: string): boolean
  entries(): [string, string][]
}
interface LatchkeyResponse {
  readonly ok: boolean
  readonly status: number
  readonly statusText: string
  readonly url: string
  readonly headers: LatchkeyHeaders
  text(): Promise<string>
  json(): Promise<any>
  arrayBuffer(): Promise<ArrayBuffer>
}
interface LatchkeyRequestInit {
  method?: string
  headers?: Record<string, string> | [string, string][]
  body?: string | Uint8Array
  /** 'follow' (default) re-checks egress at every hop. */
  redirect?: 'follow' | 'manual'
}
/** WHATWG-shaped fetch on the host's undici; only hosts on the connection's egress list are reachable. */
declare function fetch(input: string | { url: string }, init?: LatchkeyRequestInit): Promise<LatchkeyResponse>

// ---- require -----------------------------------------------------------------------------------

type NodeStyleCallback<T> = (error: Error | null, value: T) => void

interface LatchkeyBcrypt {
  hash(password: string, saltOrRounds: string | number): Promise<string>
  hash(password: string, saltOrRounds: string | number, callback: NodeStyleCallback<string>): void
  compare(password: string, hash: string): Promise<boolean>
  compare(password: string, hash: string, callback: NodeStyleCallback<boolean>): void
  genSalt(rounds?: number): Promise<string>
  genSalt(rounds: number, callback: NodeStyleCallback<string>): void
  genSalt(callback: NodeStyleCallback<string>): void
  getRounds(hash: string): number
}

type LatchkeyHashAlgorithm = 'md5' | 'sha1' | 'sha256' | 'sha512'
interface LatchkeyHash {
  update(data: string | Uint8Array, encoding?: LatchkeyBufferEncoding): LatchkeyHash
  digest(): Buffer
  digest(encoding: LatchkeyBufferEncoding): string
}
interface LatchkeyCrypto {
  createHash(algorithm: LatchkeyHashAlgorithm): LatchkeyHash
  createHmac(algorithm: LatchkeyHashAlgorithm, key: string | Uint8Array): LatchkeyHash
  pbkdf2(
    password: string | Uint8Array,
    salt: string | Uint8Array,
    iterations: number,
    keylen: number,
    digest: LatchkeyHashAlgorithm,
    callback: NodeStyleCallback<Buffer>,
  ): void
  pbkdf2Sync(
    password: string | Uint8Array,
    salt: string | Uint8Array,
    iterations: number,
    keylen: number,
    digest: LatchkeyHashAlgorithm,
  ): Buffer
  randomBytes(size: number): Buffer
  randomBytes(size: number, callback: NodeStyleCallback<Buffer>): void
  randomUUID(): string
  timingSafeEqual(a: Uint8Array, b: Uint8Array): boolean
}

interface LatchkeyRequestOptions {
  url: string
  method?: string
  headers?: Record<string, string>
  json?: unknown
  /** Query-string parameters appended to `url`. */
  qs?: Record<string, string | number | boolean>
  form?: Record<string, string>
  body?: string
  auth?: { user?: string; username?: string; pass?: string; password?: string; bearer?: string }
  followRedirect?: boolean
}
interface LatchkeyRequestResponse {
  statusCode: number
  statusMessage: string
  headers: Record<string, string>
  body: any
}
type LatchkeyRequestCallback = (error: Error | null, response: LatchkeyRequestResponse, body: any) => void
interface LatchkeyRequest {
  (options: LatchkeyRequestOptions | string, callback?: LatchkeyRequestCallback): void
  get(options: LatchkeyRequestOptions | string, callback?: LatchkeyRequestCallback): void
  post(options: LatchkeyRequestOptions, callback?: LatchkeyRequestCallback): void
  put(options: LatchkeyRequestOptions, callback?: LatchkeyRequestCallback): void
  patch(options: LatchkeyRequestOptions, callback?: LatchkeyRequestCallback): void
  del(options: LatchkeyRequestOptions | string, callback?: LatchkeyRequestCallback): void
  delete(options: LatchkeyRequestOptions | string, callback?: LatchkeyRequestCallback): void
}

interface LatchkeyMysqlConfig {
  host?: string
  port?: string | number
  user?: string
  password?: string
  database?: string
  ssl?: boolean | object
}
type LatchkeyMysqlCallback = (error: Error | null, results: any, fields?: unknown[]) => void
interface LatchkeyMysqlConnection {
  connect(callback?: (error: Error | null) => void): void
  query(sql: string | { sql: string; values?: unknown[] }, callback?: LatchkeyMysqlCallback): Promise<any>
  query(sql: string, values: unknown, callback?: LatchkeyMysqlCallback): Promise<any>
  end(callback?: (error: Error | null) => void): void
  destroy(): void
  release(): void
}
interface LatchkeyMysql {
  createConnection(config: LatchkeyMysqlConfig | string): LatchkeyMysqlConnection
  createPool(config: LatchkeyMysqlConfig | string): {
    query: LatchkeyMysqlConnection['query']
    getConnection(callback: (error: Error | null, connection: LatchkeyMysqlConnection) => void): void
    end(callback?: (error: Error | null) => void): void
  }
  escape(value: unknown): string
}

interface LatchkeyPgResult {
  rows: any[]
  rowCount: number
}
type LatchkeyPgConfig =
  | string
  | {
      connectionString?: string
      host?: string
      port?: number | string
      user?: string
      password?: string
      database?: string
      ssl?: boolean | object
    }
type LatchkeyPgQueryCallback = (error: Error | null, result: LatchkeyPgResult) => void
declare class LatchkeyPgClient {
  constructor(config?: LatchkeyPgConfig)
  connect(): Promise<void>
  connect(callback: (error: Error | null) => void): void
  query(text: string | { text: string; values?: unknown[] }, values?: unknown[]): Promise<LatchkeyPgResult>
  query(text: string | { text: string; values?: unknown[] }, callback: LatchkeyPgQueryCallback): void
  query(text: string, values: unknown[], callback: LatchkeyPgQueryCallback): void
  end(): Promise<void>
  end(callback: (error: Error | null) => void): void
}
interface LatchkeyPg {
  Client: typeof LatchkeyPgClient
  Pool: typeof LatchkeyPgClient
  connect(config: LatchkeyPgConfig, callback: (error: Error | null, client: LatchkeyPgClient, done: () => void) => void): void
}

interface LatchkeyClientCredentialsOptions {
  tokenUrl: string
  clientId: string
  clientSecret: string
  /** The API's resource indicator (RFC 8707), sent as `audienceParam` (default `resource`). */
  audience?: string
  scope?: string
  audienceParam?: string
  /** Skip the cached token, after the API refused it. */
  forceRefresh?: boolean
}
/** A grant the token endpoint refused: `code` is its `error` (`invalid_client`, `invalid_target`, …). */
declare class LatchkeyClientCredentialsError extends Error {
  readonly code: string
  readonly status: number
}
interface LatchkeyClientCredentials {
  getAccessToken(options: LatchkeyClientCredentialsOptions): Promise<string>
  getAccessToken(options: LatchkeyClientCredentialsOptions, callback: NodeStyleCallback<string>): void
  ClientCredentialsError: typeof LatchkeyClientCredentialsError
}

/** A stored hash whose string does not say how it was made: the `custom_password_hash` shape of bulk import. */
interface LatchkeyCustomPasswordHash {
  /** md4, md5, sha1, sha256, sha512, hmac, pbkdf2, scrypt, argon2, ldap, phpass, drupal7, django, aspnet-identity, … */
  algorithm: string
  hash: {
    value: string
    encoding?: 'hex' | 'base64' | 'base64url' | 'utf8' | 'latin1'
    /** hmac: the digest (md5, sha1, sha256, sha512). */
    digest?: string
    /** hmac: the key. */
    key?: { value: string; encoding?: 'hex' | 'base64' | 'base64url' | 'utf8' | 'latin1' }
  }
  salt?: { value: string; encoding?: 'hex' | 'base64' | 'base64url' | 'utf8' | 'latin1'; position?: 'prefix' | 'suffix' }
  password?: { encoding: 'utf8' | 'utf16le' | 'latin1' | 'ascii' }
  keylen?: number
  cost?: number
  blockSize?: number
  parallelization?: number
  firebase?: { signerKey: string; saltSeparator: string; rounds: number; memCost: number }
}
/** A hash the host would not verify. The message never holds the password or the hash. */
declare class LatchkeyPasswordHashError extends Error {
  readonly code: 'malformed_hash' | 'over_cap' | 'unsupported_algorithm' | 'invalid_argument'
}
interface LatchkeyPasswordHash {
  /**
   * Whether `password` matches a stored hash, for every format bulk import accepts: a
   * self-describing string (bcrypt `$2b$…`, phpass `$P$…`/`$H$…`, Drupal 7 `$S$…`, PHC
   * `$pbkdf2-…`/`$scrypt$…`/`$argon2id$…`, Django `pbkdf2_sha256$…`, LDAP `{SSHA}…`) or a
   * {@link LatchkeyCustomPasswordHash} (a salted SHA-1: `{ algorithm: 'sha1', hash: { value },
   * salt: { value, position: 'suffix' } }`). One host call on the hash pool; a malformed hash
   * or one over the cost caps rejects with a {@link LatchkeyPasswordHashError}.
   */
  verify(password: string, hash: string | LatchkeyCustomPasswordHash): Promise<boolean>
  verify(password: string, hash: string | LatchkeyCustomPasswordHash, callback: NodeStyleCallback<boolean>): void
  PasswordHashError: typeof LatchkeyPasswordHashError
}

// `const mysql = require('mysql')` in a checked script file resolves through these modules; a
// name with no module here is a compile error, as it is a ScriptError at run time. Check
// scripts with a tsconfig of their own (`"types": []`), apart from the host's Node code.
declare module 'mysql' {
  const mysql: LatchkeyMysql
  export = mysql
}
declare module 'pg' {
  const pg: LatchkeyPg
  export = pg
}
declare module 'request' {
  const request: LatchkeyRequest
  export = request
}
declare module 'bcrypt' {
  const bcrypt: LatchkeyBcrypt
  export = bcrypt
}
declare module 'bcryptjs' {
  const bcrypt: LatchkeyBcrypt
  export = bcrypt
}
declare module 'crypto' {
  const crypto: LatchkeyCrypto
  export = crypto
}
declare module 'node:crypto' {
  const crypto: LatchkeyCrypto
  export = crypto
}
declare module '@latchkey/client-credentials' {
  const clientCredentials: LatchkeyClientCredentials
  export = clientCredentials
}
declare module '@latchkey/password-hash' {
  const passwordHash: LatchkeyPasswordHash
  export = passwordHash
}

/** Loads a compatibility module whose work runs in the host. Any other name is a ScriptError naming it. */
declare function require(name: 'mysql'): LatchkeyMysql
declare function require(name: 'pg'): LatchkeyPg
declare function require(name: 'request'): LatchkeyRequest
declare function require(name: 'bcrypt' | 'bcryptjs'): LatchkeyBcrypt
declare function require(name: 'crypto' | 'node:crypto'): LatchkeyCrypto
declare function require(name: '@latchkey/client-credentials'): LatchkeyClientCredentials
declare function require(name: '@latchkey/password-hash'): LatchkeyPasswordHash
