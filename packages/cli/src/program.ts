import { createRequire } from 'node:module'
import { Command, CommanderError } from 'commander'
import { closeHashPool } from '@latchkey/core'
import { EXIT } from './command-error.js'
import { dbCommand } from './commands/db.js'
import { importCommand } from './commands/import.js'
import { migrationCommand } from './commands/migration.js'
import { tryCommand } from './commands/try.js'
import { usersCommand } from './commands/users.js'
import { example } from './help.js'

const { version } = createRequire(import.meta.url)('../package.json') as { version: string }

/** The `latchkey` command and its subcommands, in the order `--help` lists them. */
export function buildProgram(): Command {
  const program = new Command('latchkey')
    .description(
      'latchkey from the terminal: migrate the store, try a custom script, import users, watch and finish a migration, manage users',
    )
    .version(version)
    .addCommand(dbCommand())
    .addCommand(tryCommand())
    .addCommand(importCommand())
    .addCommand(migrationCommand())
    .addCommand(usersCommand())
    .addHelpText(
      'after',
      `
The store comes from --store URL or $LATCHKEY_STORE_URL; a connection's settings from --config FILE.
Output is for people on a terminal, plain lines on a pipe, one JSON document with --json.
Exit status: 0 done, 1 failed (one line: code and message), 2 bad command line,
3 import finished with failed records, 130 stopped by Ctrl-C.
${example('latchkey db migrate --store sqlite:users.db', 'latchkey users get ada@example.com --connection users --store sqlite:users.db')}`,
    )
  forEachCommand(program, (c) =>
    c
      .exitOverride()
      .showHelpAfterError('(add --help for usage)')
      .configureOutput({
        outputError: (text, write) => write(`latchkey: usage: ${text.replace(/^error: /, '')}`),
      }),
  )
  return program
}

function forEachCommand(command: Command, apply: (c: Command) => void): void {
  apply(command)
  for (const sub of command.commands) forEachCommand(sub, apply)
}

/** Runs the command line and returns when every resource it opened is closed. */
export async function main(argv: string[]): Promise<void> {
  try {
    await buildProgram().parseAsync(argv)
  } catch (error) {
    if (!(error instanceof CommanderError)) throw error
    // Help and version are "errors" only to Commander.
    process.exitCode = error.exitCode === 0 ? EXIT.ok : EXIT.usage
  } finally {
    await closeHashPool()
  }
}
