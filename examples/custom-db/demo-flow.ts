import { LatchkeyError, type CustomScriptConnection } from '@latchkey/core'

/** Runs one demo step and prints its result, or the code and message of the LatchkeyError it threw. */
export async function step(label: string, work: () => Promise<unknown>): Promise<void> {
  try {
    const result = await work()
    console.log(`  ${label}: ${result === undefined ? 'ok' : JSON.stringify(result)}`)
  } catch (error) {
    if (!(error instanceof LatchkeyError)) throw error
    console.log(`  ${label}: ${error.code} (${error.message})`)
  }
}

/** Walks a custom-script connection through every method, printing each step. */
export async function demoFlow(users: CustomScriptConnection): Promise<void> {
  const ctx = { ip: '203.0.113.9' }
  await step('signup ada@example.com', () => users.signup({ email: 'ada@example.com', password: 'first-password', username: 'ada' }, ctx))
  await step('signup again', () => users.signup({ email: 'ada@example.com', password: 'first-password' }, ctx))
  await step('login by email', () => users.login({ identifier: 'ada@example.com', password: 'first-password' }, ctx))
  await step('login by username', () => users.login({ identifier: 'ada', password: 'first-password' }, ctx))
  await step('login with a wrong password', () => users.login({ identifier: 'ada@example.com', password: 'nope' }, ctx))
  await step('getUser', () => users.getUser('ada@example.com'))
  await step('changePassword (by username)', () => users.changePassword('ada', 'second-password', ctx))
  await step('login with the new password', () => users.login({ identifier: 'ada@example.com', password: 'second-password' }, ctx))
  await step('verifyEmail', () => users.verifyEmail('ada@example.com'))
  await step('changeEmail', () => users.changeEmail('ada@example.com', 'ada@analytical.example', { verified: true }))
  const user = await users.getUser('ada@analytical.example')
  await step('getUser after the change', async () => user)
  await step('deleteUser', () => users.deleteUser(user!.user_id))
  await step('getUser after delete', () => users.getUser('ada@analytical.example'))
}
