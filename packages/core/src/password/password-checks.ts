import { z } from 'zod'
import { BreachedPasswords, breachedPasswordsSchema } from '../attack/breached-passwords.js'
import { PasswordLeakedError, PasswordPolicyError, type PolicyRuleResult } from '../errors/errors.js'
import { PasswordPolicy, type PasswordPolicyOptions, type PersonalInfo } from './policy.js'

/** The `breachedPasswords` option of every connection. */
export const breachedPasswordsOptionSchema = z.union([z.boolean(), breachedPasswordsSchema])
export type BreachedPasswordsOption = z.input<typeof breachedPasswordsOptionSchema>

/**
 * What every pathway that sets a password checks, in one place, so signup, change and reset enforce the same
 * controls on every kind of connection: the policy's rules, then the breached list.
 */
export class PasswordChecks {
  readonly policy: PasswordPolicy
  private readonly breached: BreachedPasswords

  constructor(policy: PasswordPolicyOptions | undefined, breached: BreachedPasswordsOption | undefined) {
    this.policy = new PasswordPolicy(policy)
    // Secure by default: the breached list is on unless the connection turns it off.
    this.breached = new BreachedPasswords(breached ?? true)
  }

  /**
   * Refuses a NFKC-normalised candidate with PasswordPolicyError (every rule listed, `extra` included) or
   * PasswordLeakedError; `onRefusal` hears the reason code first, for the connection's failure event.
   */
  async enforce(
    normalized: string,
    info: PersonalInfo,
    onRefusal: (reason: 'invalid_password' | 'password_leaked') => void,
    extra: PolicyRuleResult[] = [],
  ): Promise<void> {
    const rules = [...this.policy.evaluate(normalized, info), ...extra]
    if (rules.some((r) => !r.verified)) {
      onRefusal('invalid_password')
      throw new PasswordPolicyError(rules)
    }
    if (await this.breached.isLeaked(normalized)) {
      onRefusal('password_leaked')
      throw new PasswordLeakedError()
    }
  }
}
