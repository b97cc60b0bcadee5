import type { NewStoredUser, StoredUser, UserStore } from '../store/user-store.js'

/** What a legacy user's import that clashed with a target user comes to. */
export type ImportClash =
  /** The same id, not a signup: another request (or an earlier bulk run) imported this user already. */
  | { kind: 'imported'; existing: StoredUser }
  /** Insert `user` again: its username dropped (taken), an unverified squatter removed, or the holder gone meanwhile. */
  | { kind: 'retry'; user: NewStoredUser; removedSquatter?: string }
  /** A conflict for an admin: the id is a signup's, or the email is another user's. */
  | { kind: 'conflict'; reason: 'user_id_taken' | 'email_taken' | 'email_case_clash' }

/**
 * The documented rules for a legacy user whose insert clashed on `clash`, shared by the
 * lazy import (login, reset, password change) and the bulk import of a migrating connection:
 * - the same id held by a user who came from the legacy store is that user, imported already;
 *   it is never overwritten;
 * - the same id held by a signup is `user_id_taken`;
 * - a username taken by another user is dropped (the user logs in by email);
 * - an email held by an unverified signup: the squatter is removed and the legacy owner wins
 *   (pre-account hijacking); held by anyone else it is `email_taken`, or `email_case_clash`
 *   when the holder is another legacy user.
 */
export async function settleImportClash(
  store: UserStore,
  user: NewStoredUser,
  clash: 'user_id' | 'email' | 'username',
): Promise<ImportClash> {
  // Whichever unique key a dialect reports first, the same id already there decides.
  const existing = await store.findUser(user.connection, { userId: user.user_id })
  if (existing && existing.origin !== 'signup') return { kind: 'imported', existing }
  if (existing) return { kind: 'conflict', reason: 'user_id_taken' }
  if (clash === 'username') return { kind: 'retry', user: { ...user, username: null } }
  if (clash === 'user_id') return { kind: 'retry', user } // deleted since
  const holder = user.email_normalized === null ? null : await store.findUser(user.connection, { emailNormalized: user.email_normalized })
  if (!holder) return { kind: 'retry', user }
  if (holder.origin === 'signup' && !holder.email_verified) {
    await store.deleteUser(user.connection, holder.user_id)
    return { kind: 'retry', user, removedSquatter: holder.user_id }
  }
  return { kind: 'conflict', reason: holder.origin.startsWith('migration') ? 'email_case_clash' : 'email_taken' }
}
