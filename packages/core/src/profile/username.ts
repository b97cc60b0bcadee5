import type { InputIssue } from '../errors/errors.js'
import { isEmail } from './email.js'

export const DEFAULT_USERNAME_MAX_LENGTH = 15
export const USERNAME_MAX_LENGTH_LIMIT = 128

// ASCII letters and digits, plus @ ^ $ . ! ` - # + ' ~ _
const USERNAME_CHARS = /^[A-Za-z0-9@^$.!`\-#+'~_]+$/

/** Usernames are stored and compared lower-cased. */
export function normalizeUsername(username: string): string {
  return username.toLowerCase()
}

/** Returns the problems with a username under the connection's maximum length, if any. */
export function usernameIssues(username: string, maxLength: number): InputIssue[] {
  const issues: InputIssue[] = []
  const path = ['username']
  if (username.length < 1 || username.length > maxLength) {
    issues.push({ path, code: username.length < 1 ? 'too_small' : 'too_big', message: `must be 1 to ${maxLength} characters` })
  }
  if (!USERNAME_CHARS.test(username)) {
    issues.push({ path, code: 'invalid_format', message: "may contain only ASCII letters, digits and @ ^ $ . ! ` - # + ' ~ _" })
  }
  if (isEmail(username)) {
    issues.push({ path, code: 'invalid_format', message: 'must not be an email address' })
  }
  return issues
}

/** Whether `value` could be a username at all; used to route login identifiers. */
export function isUsername(value: string, maxLength: number): boolean {
  return usernameIssues(value, maxLength).length === 0
}
