import { ScriptError } from '../errors/errors.js'
import { userProfileSchema, type UserProfile } from '../profile/profile-schema.js'

/**
 * Parses what a script returned as a profile. The value came out of the sandbox as JSON,
 * so it holds no getters or prototypes; zod keeps only the schema's fields. `id` is
 * accepted as an alias of `user_id`, and a numeric id becomes a string.
 */
export function parseScriptProfile(value: unknown, scriptName: string): UserProfile {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw new ScriptError(
      `The ${scriptName} script returned ${value === null ? 'null' : Array.isArray(value) ? 'an array' : typeof value} where a profile object was expected`,
      { scriptName },
    )
  }
  // Legacy stores are full of NULLs: a null field is an absent one.
  const raw = Object.fromEntries(Object.entries(value).filter(([, v]) => v !== null)) as Record<string, unknown>
  const candidate = raw['user_id'] === undefined && raw['id'] !== undefined ? { ...raw, user_id: raw['id'] } : raw
  const parsed = userProfileSchema.safeParse(candidate)
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!
    const field = issue.path.join('.') || 'profile'
    const message = `The ${scriptName} script returned a profile whose ${field} is invalid: ${issue.message}`
    if (issue.path[0] === 'user_metadata' || issue.path[0] === 'app_metadata') {
      const id = userProfileSchema.shape.user_id.safeParse(candidate['user_id'])
      throw new ProfileMetadataError(message, scriptName, id.success ? id.data : null)
    }
    throw new ScriptError(message, { scriptName })
  }
  return parsed.data
}

/**
 * A script's profile whose metadata breaks the size or depth limits: a ScriptError to a
 * custom-script connection, and to a migrating one the `metadata_limits` conflict of that
 * legacy user (an admin's case, not a user who can never log in for a reason nobody sees).
 */
export class ProfileMetadataError extends ScriptError {
  constructor(
    message: string,
    scriptName: string,
    /** The profile's user_id, when it had a valid one. */
    readonly userId: string | null,
  ) {
    super(message, { scriptName })
  }
}
