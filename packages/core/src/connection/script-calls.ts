import { NotSupportedError, WrongUsernameOrPasswordError } from '../errors/errors.js'
import type { ConnectionEvents } from '../events/connection-events.js'
import { isEmail } from '../profile/email.js'
import type { UserProfile } from '../profile/profile-schema.js'
import { parseScriptProfile } from './script-profile.js'

/** The scripts a custom-script connection may have. */
export type ScriptName = 'login' | 'create' | 'verify' | 'change_password' | 'get_user' | 'delete' | 'change_email'

/** Runs one script with a connection's global, reach, limits and secrets; script errors go to `events`. */
export type RunScript = (script: ScriptName, args: unknown[], secrets: string[], events: ConnectionEvents) => Promise<unknown>

/**
 * A custom-script connection's scripts as plain calls: the script-credentials verifier
 * (`verify`, the login script) and the other operations, each parsing what its script
 * answers. It emits nothing but `script_error`, and counts nothing, so the connection
 * that uses it (the custom-script one, or a migrating one) owns its events and attack
 * protection.
 */
export class ScriptCalls {
  constructor(
    private readonly run: RunScript,
    private readonly present: (script: ScriptName) => boolean,
    private readonly events: ConnectionEvents,
  ) {}

  has(script: ScriptName): boolean {
    return this.present(script)
  }

  /**
   * The script-credentials verifier: the login script's profile, or null for its "no" (a
   * WrongUsernameOrPasswordError or an empty answer), which does not say whether the user
   * exists. Any other failure is thrown.
   */
  async verify(identifier: string, password: string): Promise<UserProfile | null> {
    try {
      const value = await this.call('login', [identifier, password], [password])
      return value === undefined || value === null ? null : parseScriptProfile(value, 'login')
    } catch (error) {
      if (error instanceof WrongUsernameOrPasswordError) return null
      throw error
    }
  }

  /** `get_user`: the profile, or null when the script answers with nothing. */
  async getUser(identifier: string): Promise<UserProfile | null> {
    const value = await this.call('get_user', [identifier], [])
    return value === undefined || value === null ? null : parseScriptProfile(value, 'get_user')
  }

  /** An identifier's email: itself if it is one, otherwise what `get_user` says. */
  async emailOf(identifier: string): Promise<string | null> {
    if (isEmail(identifier)) return identifier.trim()
    if (!this.has('get_user')) throw new NotSupportedError('A username needs a get_user script to find its email')
    return (await this.getUser(identifier))?.email ?? null
  }

  /** `create(user)`. */
  async create(user: {
    email: string
    password: string
    username?: string
    user_metadata?: Record<string, unknown>
    connection: string
  }): Promise<void> {
    await this.call('create', [user], [user.password])
  }

  /** `change_password(email, newPassword)`: false when the script says no such user. */
  async changePassword(email: string, newPassword: string): Promise<boolean> {
    return Boolean(await this.call('change_password', [email, newPassword], [newPassword]))
  }

  /** `verify(email)`: false when the script says no such user. */
  async verifyEmail(email: string): Promise<boolean> {
    return Boolean(await this.call('verify', [email], []))
  }

  /** `change_email(email, newEmail, verified)`: false when the script says no such user. */
  async changeEmail(email: string, newEmail: string, verified: boolean): Promise<boolean> {
    return Boolean(await this.call('change_email', [email, newEmail, verified], []))
  }

  /** `delete(id)`. */
  async remove(userId: string): Promise<void> {
    await this.call('delete', [userId], [])
  }

  private async call(script: ScriptName, args: unknown[], secrets: string[]): Promise<unknown> {
    if (!this.has(script)) throw new NotSupportedError(`This connection has no ${script} script`)
    return this.run(script, args, secrets, this.events)
  }
}
