import { randomBytes } from 'node:crypto'
import { bcryptCompare, bcryptCost, bcryptHash, legacyVerify } from '../password/hash-pool.js'
import { legacyHashSchema, type LegacyHash } from '../password/legacy/legacy-hash.js'
import { fitsBcrypt, normalizePassword } from '../password/password-text.js'
import type { ConnectionEvents } from '../events/connection-events.js'
import { isEmail, normalizeEmail } from '../profile/email.js'
import type { UserProfile } from '../profile/profile-schema.js'
import { isUsername, normalizeUsername, USERNAME_MAX_LENGTH_LIMIT } from '../profile/username.js'
import type { RequestContext } from './database-connection.js'
import type { StoredUser, UserLookup, UserRecordStore } from '../store/user-record-store.js'
import { toUserProfile } from './user-profile.js'

/** What a password check against a stored user found. */
export type StoredVerdict = { matches: false; known: boolean } | { matches: true; legacy: LegacyHash | null }

/** What recording a successful login did. */
export interface RecordedLogin {
  profile: UserProfile
  /** The hash was replaced: a bcrypt hash of a lower cost, or an imported legacy hash. */
  rehashed: boolean
  /** The imported legacy format the password matched, if any. */
  legacyFormat: LegacyHash['format'] | null
  /** The legacy hash stays, because the password is over bcrypt's 72 bytes after NFKC. */
  rehashSkipped: boolean
}

/**
 * The credentials a connection keeps in its own store: finds a user by email or
 * username, verifies a password against its bcrypt hash or imported legacy hash, and
 * records a successful login (re-hashing as needed). It emits nothing and counts
 * nothing; the connection that owns it does both.
 */
export class StoredCredentials {
  private readonly dummyHashes = new Map<number, Promise<string>>()

  constructor(
    private readonly connection: string,
    private readonly store: UserRecordStore,
    private readonly cost: number,
    private readonly now: () => Date,
  ) {}

  /** An identifier that parses as an email is an email; otherwise it may be a username. */
  find(identifier: string): Promise<StoredUser | null> {
    let lookup: UserLookup | null = null
    if (isEmail(identifier)) lookup = { emailNormalized: normalizeEmail(identifier) }
    else if (isUsername(identifier, USERNAME_MAX_LENGTH_LIMIT)) lookup = { username: normalizeUsername(identifier) }
    return lookup ? this.store.findUser(this.connection, lookup) : Promise.resolve(null)
  }

  /**
   * Checks a password. A bcrypt hash gets the NFKC-normalised password; an imported
   * legacy hash gets it exactly as typed. Every outcome that is not a match costs at
   * least one bcrypt compare at the configured cost, an unknown user (null) included.
   */
  async verify(user: StoredUser | null, password: string): Promise<StoredVerdict> {
    const normalized = normalizePassword(password)
    if (user && user.password_hash === null && user.legacy_hash !== null) {
      // A record import would refuse today (stored by an older version) fails as a wrong
      // password does: an error here would give the attempt's counter slot back.
      const parsed = legacyHashSchema.safeParse(parseJson(user.legacy_hash))
      if (parsed.success && (await legacyVerify(password, parsed.data))) return { matches: true, legacy: parsed.data }
      await this.payDummyCompare(normalized)
      return { matches: false, known: true }
    }
    if (!user || user.password_hash === null) {
      await this.payDummyCompare(normalized)
      return { matches: false, known: false }
    }
    // An over-long password can never be one we set; comparing it against the real hash
    // would let bcrypt truncate it into a match, so it pays a dummy compare and fails.
    if (!fitsBcrypt(normalized)) {
      await this.payDummyCompare(normalized)
      return { matches: false, known: true }
    }
    if (await bcryptCompare(normalized, user.password_hash)) return { matches: true, legacy: null }
    await this.payCostDifference(normalized, bcryptCost(user.password_hash))
    return { matches: false, known: true }
  }

  /**
   * Records a successful login. A bcrypt hash of a lower cost is re-hashed; an imported
   * legacy hash is replaced by bcrypt when the password fits bcrypt's 72 bytes after
   * NFKC. Both writes are compare-and-set, so a concurrent password change is kept.
   */
  async record(user: StoredUser, password: string, verdict: StoredVerdict & { matches: true }): Promise<RecordedLogin> {
    const at = this.now()
    const normalized = normalizePassword(password)
    let rehashed = false
    let rehashSkipped = false
    if (verdict.legacy) {
      rehashed = fitsBcrypt(normalized)
      rehashSkipped = !rehashed
      const upgrade = rehashed ? { upgradeLegacy: { from: user.legacy_hash!, to: await bcryptHash(normalized, this.cost) } } : {}
      await this.store.recordLogin(this.connection, user.user_id, { at, ...upgrade })
    } else {
      // Only ever up: a hash stronger than the configured cost (another process, an import) is kept as it is.
      rehashed = (bcryptCost(user.password_hash!) ?? 0) < this.cost
      const rehash = rehashed ? { rehash: { from: user.password_hash!, to: await bcryptHash(normalized, this.cost) } } : {}
      await this.store.recordLogin(this.connection, user.user_id, { at, ...rehash })
    }
    return {
      profile: toUserProfile({ ...user, logins_count: user.logins_count + 1, last_login: at }),
      rehashed,
      legacyFormat: verdict.legacy?.format ?? null,
      rehashSkipped,
    }
  }

  /** One bcrypt compare at the configured cost, so an unknown user costs what a known one does. */
  async payDummyCompare(normalized: string): Promise<void> {
    await bcryptCompare(normalized, await this.dummyHashAt(this.cost))
  }

  /**
   * A wrong password on a bcrypt hash cheaper than the configured cost (an imported one, or
   * one from before `bcryptCost` was raised) is topped up to the cost of one compare at the
   * configured cost, so timing cannot tell such users apart: compares at costs c … C−1
   * take 2^c + … + 2^(C−1) = 2^C − 2^c rounds, the difference.
   */
  private async payCostDifference(normalized: string, storedCost: number | null): Promise<void> {
    if (storedCost === null) return
    for (let cost = storedCost; cost < this.cost; cost++) await bcryptCompare(normalized, await this.dummyHashAt(cost))
  }

  private dummyHashAt(cost: number): Promise<string> {
    let hash = this.dummyHashes.get(cost)
    if (!hash) {
      hash = bcryptHash(randomBytes(16).toString('hex'), cost)
      this.dummyHashes.set(cost, hash)
    }
    return hash
  }
}

function parseJson(text: string): unknown {
  try {
    return JSON.parse(text)
  } catch {
    return null
  }
}

/** The events of a successful login on stored credentials: `s`, after `rehash_skipped` when the legacy hash had to stay. */
export function emitRecordedLogin(events: ConnectionEvents, userId: string, login: RecordedLogin, context: RequestContext): void {
  if (login.rehashSkipped) {
    events.emit('rehash_skipped', {
      ...context,
      user_id: userId,
      details: { format: login.legacyFormat, reason: 'password over 72 bytes after NFKC' },
    })
  }
  const details = login.legacyFormat ? { legacy: login.legacyFormat, rehashed: login.rehashed } : login.rehashed ? { rehashed: true } : null
  events.emit('s', { ...context, user_id: userId, ...(details ? { details } : {}) })
}
