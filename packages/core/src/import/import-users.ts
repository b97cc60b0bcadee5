import { createInterface } from 'node:readline'
import type { Readable } from 'node:stream'
import { z } from 'zod'
import type { BuiltinConnection } from '../connection/builtin-connection.js'
import type { ImportClash } from '../connection/import-clash.js'
import { MigratingConnection } from '../connection/migrating-connection.js'
import { NotSupportedError } from '../errors/errors.js'
import { parseInput } from '../input/parse-input.js'
import { metadataSchema, text } from '../input/text.js'
import { checkBcrypt, customPasswordHashSchema, HashRefusal, parseCustomHash, resolveCaps } from '../password/legacy/parse-custom-hash.js'
import { importCapsSchema } from '../password/legacy/legacy-hash.js'
import { emailSchema, normalizeEmail } from '../profile/email.js'
import { normalizeUsername, usernameIssues } from '../profile/username.js'
import type { BulkMigration, NewStoredUser, StoredUser } from '../store/user-store.js'
import { newUserId } from '../connection/new-user-id.js'

/** One user of a bulk import. Give `password_hash` (bcrypt) or `custom_password_hash`, or neither (the user must reset). */
export const importRecordSchema = z
  .strictObject({
    user_id: text(255).optional(),
    email: emailSchema,
    email_verified: z.boolean().optional(),
    username: text(128).optional(),
    name: text(1024).optional(),
    given_name: text(1024).optional(),
    family_name: text(1024).optional(),
    nickname: text(1024).optional(),
    picture: text(4096).optional(),
    user_metadata: metadataSchema.optional(),
    app_metadata: metadataSchema.optional(),
    blocked: z.boolean().optional(),
    password_hash: z.string().max(128).optional(),
    custom_password_hash: customPasswordHashSchema.optional(),
  })
  .refine(
    (r) => r.password_hash === undefined || r.custom_password_hash === undefined,
    'give password_hash or custom_password_hash, not both',
  )
export type ImportRecord = z.input<typeof importRecordSchema>

export interface ImportProgress {
  processed: number
  imported: number
  updated: number
  /** Records already there from an earlier run (with `skipExisting`). */
  skipped: number
  failed: number
  /** The last line of an NDJSON source read and written so far (1-based). */
  line?: number
}
/** A record that was not imported: its 0-based `index` among the records and, from NDJSON, its 1-based `line`. */
export interface ImportFailure {
  index: number
  line?: number
  email?: string
  code: string
  message: string
}
export interface ImportResult {
  imported: number
  updated: number
  skipped: number
  failed: number
  failures: ImportFailure[]
  /** Records read (every one was imported, updated, skipped or failed). */
  processed: number
  /** True when `signal` stopped the import before the end of the records. */
  stopped: boolean
  /** The last line of an NDJSON source that was read (1-based). */
  line?: number
}

/** Options of {@link importUsers}. */
export const importOptionsSchema = z.strictObject({
  /** Replace users that already exist (by user_id or email). Default false: insert-only. Refused on a migrating connection. */
  upsert: z.boolean().optional(),
  /** Records written per store round trip. Default 1000. */
  batchSize: z.number().int().min(1).max(5000).optional(),
  /** Called after every batch. */
  onProgress: z.custom<(p: ImportProgress) => void>((v) => typeof v === 'function').optional(),
  /** Called for every failed record (the result keeps only the first 1,000). */
  onFailure: z.custom<(f: ImportFailure) => void>((v) => typeof v === 'function').optional(),
  /** Key-derivation caps; see the README for the defaults. */
  caps: importCapsSchema.optional(),
  /**
   * Count a record that an earlier run imported already as `skipped` instead of failing it:
   * the store holds an imported user with its email (and its user_id, if the record has one).
   * For running an interrupted import again. A duplicate within one file also counts as skipped.
   */
  skipExisting: z.boolean().optional(),
  /** Stops the import at the next batch boundary: the records read so far are written, the rest are not read. */
  signal: z.custom<AbortSignal>((v) => v instanceof AbortSignal, 'must be an AbortSignal').optional(),
})
export type ImportOptions = z.input<typeof importOptionsSchema>

const KEPT_FAILURES = 1000

/**
 * Bulk-imports users into a built-in connection's store. Records stream in (an iterable,
 * an async iterable, or an NDJSON byte stream), are validated one by one, and are written
 * in batches, so a million records fit in modest memory and one bad record never sinks
 * the batch. Insert-only unless `upsert`: a user who exists already is a `user_exists`
 * failure and is never overwritten.
 *
 * Into a {@link MigratingConnection} (the bulk import that finishes a migration) the import
 * is insert-only, always: `upsert` is refused, every record needs its legacy `user_id`, a
 * user already imported (at login, reset, or by an earlier run) is `skipped` and kept as it
 * is, a deleted user's id or email is refused (`tombstoned`), the migration's conflict rules
 * apply (`user_id_taken`, `email_taken`, `email_case_clash`, each recorded for
 * `migrationStatus()` with a `migration_conflict` event), and each user goes in with its
 * migration-log row (flow `bulk`) and legacy identifiers, in one transaction per batch.
 *
 * @example
 * const result = await importUsers(users, createReadStream('export.ndjson'), { onProgress: console.log })
 * console.log(result.imported, result.failed, result.failures.slice(0, 10))
 */
export async function importUsers(
  into: BuiltinConnection | MigratingConnection,
  records: AsyncIterable<unknown> | Iterable<unknown> | NodeJS.ReadableStream,
  options: ImportOptions = {},
): Promise<ImportResult> {
  const o = parseInput(importOptionsSchema, options)
  const migration = into instanceof MigratingConnection ? into.bulkImport() : null
  if (migration && o.upsert) {
    throw new NotSupportedError(
      'upsert is refused on a migrating connection: it would overwrite users who changed their password or email since they moved over. ' +
        'Import without upsert: users already there are skipped and kept as they are.',
    )
  }
  const connection = migration ? migration.target : (into as BuiltinConnection)
  const caps = resolveCaps(o.caps ?? {})
  const batchSize = o.batchSize ?? 1000
  const result: ImportResult = { imported: 0, updated: 0, skipped: 0, failed: 0, failures: [], processed: 0, stopped: false }
  let processed = 0
  let line: number | undefined
  const fail = (failure: ImportFailure) => {
    result.failed += 1
    if (result.failures.length < KEPT_FAILURES) result.failures.push(failure)
    o.onFailure?.(failure)
  }

  let batch: BatchEntry[] = []
  const flush = async () => {
    const wrote = batch.length > 0
    if (wrote && migration) {
      await writeMigrating(migration, batch, (entry, outcome) => {
        if (outcome === 'imported') result.imported += 1
        else if (outcome === 'skipped') result.skipped += 1
        else fail({ index: entry.index, ...lineOf(entry.line), ...emailOf(entry.user), ...outcome })
      })
      batch = []
    } else if (wrote) {
      const outcomes = await connection.store.insertUsers(batch.map((b) => b.user))
      // A resumed import clashes on every record it wrote before: look them all up at once, not one round trip each.
      const before =
        !o.upsert && o.skipExisting
          ? await Promise.all(
              outcomes.map((outcome, i) => outcome !== 'inserted' && importedBefore(connection, batch[i]!.user, batch[i]!.givenId)),
            )
          : []
      for (const [i, outcome] of outcomes.entries()) {
        const { index, line: at, user } = batch[i]!
        if (outcome === 'inserted') result.imported += 1
        else if (o.upsert && outcome !== 'username' && (await overwrite(connection, user))) result.updated += 1
        else if (before[i]) result.skipped += 1
        else
          fail({
            index,
            ...lineOf(at),
            ...(user.email ? { email: user.email } : {}),
            code: 'user_exists',
            message: `a user with this ${outcome === 'user_id' ? 'user_id' : outcome} exists already`,
          })
      }
      batch = []
    }
    result.processed = processed
    if (line !== undefined) result.line = line
    if (wrote)
      o.onProgress?.({
        processed,
        imported: result.imported,
        updated: result.updated,
        skipped: result.skipped,
        failed: result.failed,
        ...lineOf(line),
      })
  }

  for await (const item of recordsOf(records)) {
    if (o.signal?.aborted) {
      result.stopped = true
      break
    }
    const index = processed++
    line = item.line
    if (item.kind === 'bad_json') {
      fail({ index, ...lineOf(item.line), code: 'invalid_json', message: 'the line is not valid JSON' })
    } else {
      const prepared = toStoredUser(connection, item.record, caps, migration ? 'migration:bulk' : 'import')
      const givenId = hasUserId(item.record)
      if ('code' in prepared) fail({ index, ...lineOf(item.line), ...prepared })
      // The legacy id is what keeps a user one user across a lazy login and the bulk import.
      else if (migration && !givenId) fail({ index, ...lineOf(item.line), ...emailOf(prepared), ...LEGACY_ID_REQUIRED })
      else batch.push({ index, line: item.line, user: prepared, givenId })
    }
    if (batch.length >= batchSize) await flush()
  }
  await flush()
  return result
}

const lineOf = (line: number | undefined) => (line === undefined ? {} : { line })
const emailOf = (user: NewStoredUser) => (user.email ? { email: user.email } : {})
const LEGACY_ID_REQUIRED = {
  code: 'invalid_record',
  message: 'user_id: required when importing into a migrating connection (the legacy id keeps the user one user)',
}

type BatchEntry = { index: number; line: number | undefined; user: NewStoredUser; givenId: boolean }
type Failed = { code: string; message: string }

/** @internal How a migrating connection takes a bulk import: its target, and its rules for a record that clashed. */
export interface MigrationInto {
  target: BuiltinConnection
  /** The log rows' flow and time, for one batch. */
  migration(): BulkMigration
  /** Settles a clash by the migration's rules; a conflict (and a removed squatter) is recorded, with its event. */
  settle(user: NewStoredUser, clash: 'user_id' | 'email' | 'username'): Promise<ImportClash>
  /** A user went in: its `migrated` event, and the conflict of a username dropped because it was taken. */
  imported(user: NewStoredUser, usernameDropped: boolean): Promise<void>
}

/**
 * One batch into a migrating connection: inserted with the migration's log rows and legacy
 * identifiers; a clash is settled by the migration's rules (the lazy import's, shared), and
 * a record that may go in after all (a dropped username, a removed squatter) is retried.
 */
async function writeMigrating(
  into: MigrationInto,
  batch: BatchEntry[],
  done: (entry: BatchEntry, outcome: 'imported' | 'skipped' | Failed) => void,
): Promise<void> {
  let pending = batch.map((entry) => ({ entry, user: entry.user }))
  for (let round = 0; round < 3 && pending.length > 0; round++) {
    const outcomes = await into.target.store.insertUsers(
      pending.map((p) => p.user),
      into.migration(),
    )
    // Clashes are settled at once (a lookup each); outcomes are reported in the order read.
    const settled = await Promise.all(
      outcomes.map(async (outcome, i) => {
        const { user } = pending[i]!
        if (outcome === 'inserted' || outcome === 'tombstone') return outcome
        return into.settle(user, outcome)
      }),
    )
    const retry: typeof pending = []
    for (const [i, next] of settled.entries()) {
      const { entry, user } = pending[i]!
      if (next === 'inserted') {
        await into.imported(user, user.username === null && entry.user.username !== null)
        done(entry, 'imported')
      } else if (next === 'tombstone') done(entry, { code: 'tombstoned', message: 'this user was deleted; it is never imported again' })
      else if (next.kind === 'imported') done(entry, 'skipped')
      else if (next.kind === 'conflict') done(entry, { code: next.reason, message: `not imported: ${CONFLICT_MESSAGES[next.reason]}` })
      else retry.push({ entry, user: next.user })
    }
    pending = retry
  }
  for (const { entry } of pending)
    done(entry, { code: 'migration_conflict', message: 'the target kept changing under this record; import it again' })
}

const CONFLICT_MESSAGES = {
  user_id_taken: 'a user who signed up in the target has this user_id',
  email_taken: 'another target user has this email',
  email_case_clash: 'another legacy user has this email (differing at most in case)',
} as const
const hasUserId = (record: unknown) =>
  typeof record === 'object' && record !== null && (record as { user_id?: unknown }).user_id !== undefined

type Item = { kind: 'record'; record: unknown; line?: number } | { kind: 'bad_json'; line?: number }

async function* recordsOf(records: AsyncIterable<unknown> | Iterable<unknown> | NodeJS.ReadableStream): AsyncGenerator<Item> {
  if (typeof (records as Readable).pipe === 'function') {
    const lines = createInterface({ input: records as Readable, crlfDelay: Infinity })
    let line = 0
    for await (const text of lines) {
      line += 1
      if (text.trim() === '') continue
      let record: unknown
      try {
        record = JSON.parse(text)
      } catch {
        yield { kind: 'bad_json', line }
        continue
      }
      yield { kind: 'record', record, line }
    }
    return
  }
  for await (const record of records as AsyncIterable<unknown>) yield { kind: 'record', record }
}

function toStoredUser(
  connection: BuiltinConnection,
  record: unknown,
  caps: ReturnType<typeof resolveCaps>,
  origin: string,
): NewStoredUser | Omit<ImportFailure, 'index'> {
  const parsed = importRecordSchema.safeParse(record)
  const email =
    typeof (record as { email?: unknown } | null)?.email === 'string' ? { email: (record as { email: string }).email.slice(0, 320) } : {}
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!
    return { ...email, code: 'invalid_record', message: `${issue.path.join('.') || 'record'}: ${issue.message}` }
  }
  const r = parsed.data
  let username: string | null = null
  if (r.username !== undefined) {
    const issues = usernameIssues(r.username, connection.usernameMaxLength)
    if (issues.length > 0) return { ...email, code: 'invalid_username', message: `username ${issues[0]!.message}` }
    username = normalizeUsername(r.username)
  }
  let passwordHash: string | null = null
  let legacyHash: string | null = null
  try {
    if (r.password_hash !== undefined) passwordHash = checkBcrypt(r.password_hash, caps.bcryptCost)
    if (r.custom_password_hash !== undefined) {
      const hash = parseCustomHash(r.custom_password_hash, caps)
      if ('password_hash' in hash) passwordHash = hash.password_hash
      else legacyHash = JSON.stringify(hash.legacy)
    }
  } catch (error) {
    if (error instanceof HashRefusal) return { ...email, code: error.code, message: error.message }
    throw error
  }
  const at = new Date()
  return {
    connection: connection.name,
    user_id: r.user_id ?? newUserId(),
    email: r.email,
    email_normalized: normalizeEmail(r.email),
    email_verified: r.email_verified ?? false,
    username,
    password_hash: passwordHash,
    legacy_hash: legacyHash,
    name: r.name ?? null,
    given_name: r.given_name ?? null,
    family_name: r.family_name ?? null,
    nickname: r.nickname ?? null,
    picture: r.picture ?? null,
    user_metadata: r.user_metadata ?? {},
    app_metadata: r.app_metadata ?? {},
    blocked: r.blocked ?? false,
    created_at: at,
    updated_at: at,
    origin,
  }
}

/** Whether the store holds this record's user from an earlier import: same email, and same user_id if the record gave one. */
async function importedBefore(connection: BuiltinConnection, user: NewStoredUser, givenId: boolean): Promise<boolean> {
  const existing = givenId
    ? await connection.store.findUser(connection.name, { userId: user.user_id })
    : await connection.store.findUser(connection.name, { emailNormalized: user.email_normalized! })
  return existing !== null && existing.origin === 'import' && existing.email_normalized === user.email_normalized
}

/**
 * Upsert: replace the user that holds this user_id, or else this email. A record whose
 * user_id and email belong to two different users names no single user, so it replaces
 * neither (reported as `user_exists`), whichever clash the database reported first.
 */
async function overwrite(connection: BuiltinConnection, user: NewStoredUser): Promise<boolean> {
  const [byId, byEmail] = await Promise.all([
    connection.store.findUser(connection.name, { userId: user.user_id }),
    user.email_normalized === null ? null : connection.store.findUser(connection.name, { emailNormalized: user.email_normalized }),
  ])
  if (byId && byEmail && byId.user_id !== byEmail.user_id) return false
  const existing: StoredUser | null = byId ?? byEmail
  return existing !== null && connection.store.overwriteUser(connection.name, existing.user_id, user)
}
