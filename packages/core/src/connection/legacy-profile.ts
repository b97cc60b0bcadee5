import { metadataSchema } from '../input/text.js'
import { emailSchema, normalizeEmail } from '../profile/email.js'
import type { UserProfile } from '../profile/profile-schema.js'
import { normalizeUsername, usernameIssues } from '../profile/username.js'
import type { LegacyIdentifier, NewStoredUser } from '../store/user-store.js'

/** Why a legacy profile cannot become a target user as it is. */
export type LegacyProfileProblem = 'no_identifier' | 'invalid_email' | 'metadata_limits'

/** A legacy profile turned into a target user, or the problem that stops it. */
export type MappedLegacyProfile =
  | { ok: true; user: NewStoredUser; legacyIdentifiers: LegacyIdentifier[]; usernameDropped: boolean }
  | { ok: false; problem: LegacyProfileProblem }

/**
 * The documented rules for legacy data that does not fit the target (README: Migrating):
 * - the `user_id` is kept as it is, so the user is the same user forever;
 * - the email is normalised (trimmed, lower-cased); a malformed one is a conflict;
 * - a username that breaks the built-in rules is not kept as a username (the user logs in
 *   by email), and neither an email nor a valid username is a conflict;
 * - metadata over the size or depth limits is a conflict, never a silent truncation;
 * - the profile (names, picture, metadata, `email_verified`, `blocked`) is written in the
 *   same transaction as the credentials.
 */
export function mapLegacyProfile(
  profile: UserProfile,
  target: { connection: string; usernameMaxLength: number },
  credentials: { password_hash: string | null; legacy_hash: string | null },
  origin: string,
  at: Date,
): MappedLegacyProfile {
  let email: string | null = null
  if (profile.email !== undefined) {
    const parsed = emailSchema.safeParse(profile.email)
    if (!parsed.success) return { ok: false, problem: 'invalid_email' }
    email = parsed.data
  }
  const rawUsername = profile.username?.trim()
  const usernameFits = rawUsername !== undefined && rawUsername !== '' && usernameIssues(rawUsername, target.usernameMaxLength).length === 0
  const username = usernameFits ? normalizeUsername(rawUsername) : null
  if (email === null && username === null) return { ok: false, problem: 'no_identifier' }
  const userMetadata = metadataSchema.safeParse(profile.user_metadata ?? {})
  const appMetadata = metadataSchema.safeParse(profile.app_metadata ?? {})
  if (!userMetadata.success || !appMetadata.success) return { ok: false, problem: 'metadata_limits' }
  const legacyIdentifiers: LegacyIdentifier[] = [{ kind: 'id', value: profile.user_id }]
  if (email !== null) legacyIdentifiers.push({ kind: 'email', value: normalizeEmail(email) })
  if (rawUsername) legacyIdentifiers.push({ kind: 'username', value: rawUsername.toLowerCase() })
  return {
    ok: true,
    usernameDropped: rawUsername !== undefined && rawUsername !== '' && !usernameFits,
    legacyIdentifiers,
    user: {
      connection: target.connection,
      user_id: profile.user_id,
      email,
      email_normalized: email === null ? null : normalizeEmail(email),
      email_verified: profile.email_verified ?? false,
      username,
      ...credentials,
      name: profile.name ?? null,
      given_name: profile.given_name ?? null,
      family_name: profile.family_name ?? null,
      nickname: profile.nickname ?? null,
      picture: profile.picture ?? null,
      user_metadata: userMetadata.data,
      app_metadata: appMetadata.data,
      blocked: profile.blocked ?? false,
      created_at: profile.created_at ?? at,
      updated_at: at,
      origin,
    },
  }
}

/** The legacy identifier a typed identifier would be kept as. */
export function legacyIdentifierOf(identifier: string, isEmailAddress: boolean): LegacyIdentifier {
  return isEmailAddress
    ? { kind: 'email', value: normalizeEmail(identifier) }
    : { kind: 'username', value: identifier.trim().toLowerCase() }
}
