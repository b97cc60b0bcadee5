import { createInterface } from 'node:readline/promises'
import { Command } from 'commander'
import type { MigrationStatus } from '@latchkey/core'
import { connectionOption } from '../builtin-target.js'
import { CommandError } from '../command-error.js'
import { configOption } from '../connection-config.js'
import { withMigrating } from '../migrating-target.js'
import { example } from '../help.js'
import type { Output } from '../output.js'
import { runCommand } from '../run-command.js'
import { storeOption, withStore } from '../store-option.js'

interface MigrationOptions {
  store?: string
  config?: string
  connection: string
  json?: boolean
  yes?: boolean
}

const CHART_WIDTH = 40
const CHART_DAYS = 14
const SHOWN_CONFLICTS = 5

/** `latchkey migration status|finish --connection NAME`: a migrating connection's progress, and its end. */
export function migrationCommand(): Command {
  const migration = new Command('migration').description('watch a migrating connection and finish it')
  const common = (c: Command) =>
    c.addOption(storeOption()).addOption(connectionOption()).addOption(configOption()).option('--json', 'print one JSON document')

  common(migration.command('status'))
    .description('users moved over, by flow and per day, conflicts and tombstones')
    .addHelpText(
      'after',
      `
--config is the migrating connection's: its policy and the legacy scripts (login, get_user).
${example('latchkey migration status --connection users --config migrating.json --store postgres://app@db.internal/app')}`,
    )
    .action((opts: MigrationOptions) =>
      runCommand(opts, (out) =>
        withStore(opts.store, (store) =>
          withMigrating(opts.connection, opts.config, store, async (users) => {
            const status = await users.migrationStatus()
            out.result(status, () => statusLines(out, opts.connection, status))
          }),
        ),
      ),
    )

  common(migration.command('finish'))
    .option('--yes', 'do not ask for confirmation')
    .description('switch the legacy store off for good, in the database: every process stops asking it at once')
    .addHelpText(
      'after',
      `
Bulk-import the users not moved yet first (latchkey import, insert-only): after this, they are unknown.
${example('latchkey migration finish --connection users --config migrating.json --yes')}`,
    )
    .action((opts: MigrationOptions) =>
      runCommand(opts, (out) =>
        withStore(opts.store, (store) =>
          withMigrating(opts.connection, opts.config, store, async (users) => {
            const before = await users.migrationStatus()
            if (before.finishedAt === null && !opts.yes) await confirm(out, opts.connection, before)
            await users.finishMigration()
            const { finishedAt } = await users.migrationStatus()
            out.result({ connection: opts.connection, finishedAt, alreadyFinished: before.finishedAt !== null }, (s) => [
              out.human
                ? s.good(
                    `${before.finishedAt ? 'Already finished' : 'Finished'}: ${opts.connection} no longer asks the legacy store (since ${finishedAt?.toISOString()}).`,
                  )
                : `finished: ${finishedAt?.toISOString()}`,
            ])
          }),
        ),
      ),
    )
  return migration
}

async function confirm(out: Output, connection: string, status: MigrationStatus): Promise<void> {
  if (!process.stdin.isTTY || out.json) {
    throw new CommandError('confirmation_required', 'finishing a migration cannot be undone: confirm at a terminal, or pass --yes', {
      exitCode: 2,
    })
  }
  const rl = createInterface({ input: process.stdin, output: process.stderr })
  try {
    const answer = await rl.question(
      `${status.imported} users moved over so far. After this, ${connection} never asks the legacy store again ` +
        `and users not imported are unknown.\nType the connection name (${connection}) to finish: `,
    )
    if (answer.trim() !== connection) throw new CommandError('not_confirmed', 'not finished: the answer was not the connection name')
  } finally {
    rl.close()
  }
}

function statusLines(out: Output, connection: string, status: MigrationStatus): string[] {
  const s = out.style
  const lines: string[] = []
  const flows = Object.entries(status.byFlow).sort(([a], [b]) => a.localeCompare(b))
  const days = status.byDay.slice(-CHART_DAYS)
  if (out.human) {
    lines.push(
      s.bold(`Migration of ${connection}`) +
        (status.finishedAt ? s.dim(`  finished ${status.finishedAt.toISOString()}`) : s.dim('  in progress')),
    )
    lines.push(
      ...out.fields([
        ['imported', status.imported],
        ...flows.map(([f, n]): [string, number] => [`  by ${f}`, n]),
        ['tombstones', status.tombstones],
        ['conflicts', status.conflictCount],
      ]),
    )
    const max = Math.max(1, ...days.map((d) => d.count))
    if (days.length > 0) lines.push('', s.dim(`per day (last ${days.length})`))
    for (const d of days)
      lines.push(`  ${d.day}  ${s.good('█'.repeat(Math.max(d.count > 0 ? 1 : 0, Math.round((d.count / max) * CHART_WIDTH))))} ${d.count}`)
    if (status.conflicts.length > 0) lines.push('', s.dim('newest conflicts'))
    for (const c of status.conflicts.slice(0, SHOWN_CONFLICTS))
      lines.push(`  ${s.warn(c.reason)}  legacy id ${c.legacyId}  ${s.dim(c.at.toISOString())}`)
  } else {
    lines.push(
      ...out.fields([
        ['imported', status.imported],
        ...flows.map(([f, n]): [string, number] => [`flow ${f}`, n]),
        ['tombstones', status.tombstones],
        ['conflicts', status.conflictCount],
        ['finished', status.finishedAt?.toISOString() ?? 'no'],
      ]),
    )
    for (const d of status.byDay) lines.push(`day: ${d.day} ${d.count}`)
    for (const c of status.conflicts.slice(0, SHOWN_CONFLICTS)) lines.push(`conflict: ${c.legacyId} ${c.reason} ${c.at.toISOString()}`)
  }
  return lines
}
