import type { UserProfile } from '../profile/profile-schema.js'
import type { StoredUser } from '../store/user-store.js'

/** The public profile of a stored user: no hash, no internal columns, no nulls. */
export function toUserProfile(user: StoredUser): UserProfile {
  const profile: UserProfile = {
    user_id: user.user_id,
    email_verified: user.email_verified,
    user_metadata: user.user_metadata,
    app_metadata: user.app_metadata,
    created_at: user.created_at,
    updated_at: user.updated_at,
    logins_count: user.logins_count,
    blocked: user.blocked,
  }
  if (user.email !== null) profile.email = user.email
  if (user.username !== null) profile.username = user.username
  if (user.name !== null) profile.name = user.name
  if (user.given_name !== null) profile.given_name = user.given_name
  if (user.family_name !== null) profile.family_name = user.family_name
  if (user.nickname !== null) profile.nickname = user.nickname
  if (user.picture !== null) profile.picture = user.picture
  if (user.last_login !== null) profile.last_login = user.last_login
  if (user.last_password_reset !== null) profile.last_password_reset = user.last_password_reset
  return profile
}
