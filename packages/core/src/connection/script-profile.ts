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
    throw new ScriptError(`The ${scriptName} script returned a profile whose ${field} is invalid: ${issue.message}`, { scriptName })
  }
  return parsed.data
}
