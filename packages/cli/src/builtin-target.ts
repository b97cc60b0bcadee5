import { Option } from 'commander'
import { BuiltinConnection, type UserProfile } from '@latchkey/core'
import type { OpenedStore } from '@latchkey/adapters'
import { builtinOptions, loadConfig } from './connection-config.js'

/** `--connection NAME`: the connection whose users a command reads or writes. */
export function connectionOption(): Option {
  return new Option('--connection <name>', 'the connection whose users to work on').makeOptionMandatory()
}

/** The built-in connection a command works on: its name, the store, and the settings of `--config`. */
export function builtinConnection(name: string, store: OpenedStore, configPath: string | undefined): BuiltinConnection {
  return new BuiltinConnection({ ...builtinOptions(loadConfig(configPath)), name, store })
}

/** A user named by email, username or user_id, or null. */
export async function findUser(connection: BuiltinConnection, identifier: string): Promise<UserProfile | null> {
  return (await connection.getUser(identifier)) ?? (await connection.getUserById(identifier))
}
