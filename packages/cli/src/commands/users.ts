import { Command } from 'commander'
import { UserNotFoundError, type BuiltinConnection, type UserProfile } from '@latchkey/core'
import { builtinConnection, connectionOption, findUser } from '../builtin-target.js'
import { configOption } from '../connection-config.js'
import { example } from '../help.js'
import type { Output } from '../output.js'
import { runCommand } from '../run-command.js'
import { storeOption, withStore } from '../store-option.js'

interface UsersOptions {
  store?: string
  config?: string
  connection: string
  json?: boolean
}

/** `latchkey users get|block|unblock IDENTIFIER`. */
export function usersCommand(): Command {
  const users = new Command('users').description('read a user, block or unblock one')
  const common = (c: Command) =>
    c.addOption(storeOption()).addOption(connectionOption()).addOption(configOption()).option('--json', 'print one JSON document')

  common(users.command('get').argument('<identifier>', 'email, username or user_id'))
    .description("print a user's profile (never a password or hash)")
    .addHelpText('after', example('latchkey users get ada@example.com --connection users --store sqlite:users.db'))
    .action((identifier: string, opts: UsersOptions) =>
      runCommand(opts, (out) =>
        withStore(opts.store, async (store) => {
          const profile = await existingUser(builtinConnection(opts.connection, store, opts.config), identifier)
          out.result(profile, () => profileLines(out, profile))
        }),
      ),
    )

  common(users.command('block').argument('<identifier>', 'email, username or user_id'))
    .description('block a user: every login is refused until unblocked')
    .addHelpText('after', example('latchkey users block ada@example.com --connection users'))
    .action((identifier: string, opts: UsersOptions) =>
      runCommand(opts, (out) =>
        withStore(opts.store, async (store) => {
          const connection = builtinConnection(opts.connection, store, opts.config)
          const profile = await existingUser(connection, identifier)
          const updated = await connection.updateUser(profile.user_id, { blocked: true })
          out.result(updated, (s) => [out.human ? `${s.bad('blocked')} ${identifier} (${updated.user_id})` : `blocked: ${updated.user_id}`])
        }),
      ),
    )

  common(users.command('unblock').argument('<identifier>', 'email, username or user_id'))
    .description("lift a user's block and the attack-protection blocks of that identifier (every IP, and the account lock)")
    .addHelpText('after', example('latchkey users unblock ada@example.com --connection users'))
    .action((identifier: string, opts: UsersOptions) =>
      runCommand(opts, (out) =>
        withStore(opts.store, async (store) => {
          const connection = builtinConnection(opts.connection, store, opts.config)
          const profile = await findUser(connection, identifier)
          const updated = profile ? await connection.updateUser(profile.user_id, { blocked: false }) : null
          // Attack protection counts identifiers as typed, user or not: clear each name the user goes by.
          const names = new Set([identifier, ...(profile?.email ? [profile.email] : []), ...(profile?.username ? [profile.username] : [])])
          for (const name of names) await connection.unblock(name)
          out.result({ user: updated, attackProtectionCleared: [...names] }, (s) => [
            updated
              ? out.human
                ? `${s.good('unblocked')} ${identifier} (${updated.user_id})`
                : `unblocked: ${updated.user_id}`
              : out.human
                ? `${s.warn('no such user')}; attack-protection blocks of ${identifier} cleared`
                : `no user; cleared: ${identifier}`,
          ])
        }),
      ),
    )
  return users
}

async function existingUser(connection: BuiltinConnection, identifier: string): Promise<UserProfile> {
  const profile = await findUser(connection, identifier)
  if (!profile) throw new UserNotFoundError(`no user ${identifier} on connection ${connection.name}`)
  return profile
}

function profileLines(out: Output, profile: UserProfile): string[] {
  const json = (v: unknown) => (v === undefined ? undefined : JSON.stringify(v))
  const date = (d: Date | undefined) => d?.toISOString()
  return out.fields([
    ['user_id', profile.user_id],
    ['email', profile.email],
    ['email_verified', profile.email_verified],
    ['username', profile.username],
    ['name', profile.name],
    ['given_name', profile.given_name],
    ['family_name', profile.family_name],
    ['nickname', profile.nickname],
    ['picture', profile.picture],
    ['blocked', profile.blocked],
    ['logins_count', profile.logins_count],
    ['last_login', date(profile.last_login)],
    ['last_password_reset', date(profile.last_password_reset)],
    ['created_at', date(profile.created_at)],
    ['updated_at', date(profile.updated_at)],
    ['user_metadata', json(profile.user_metadata)],
    ['app_metadata', json(profile.app_metadata)],
  ])
}
