import { createReadStream, statSync } from 'node:fs'
import { Command, InvalidArgumentError, Option } from 'commander'
import { importUsers, type ImportFailure, type ImportProgress, type ImportResult } from '@latchkey/core'
import type { OpenedStore } from '@latchkey/adapters'
import { builtinConnection, connectionOption } from '../builtin-target.js'
import { CommandError, EXIT, unreadable } from '../command-error.js'
import { configOption } from '../connection-config.js'
import { example } from '../help.js'
import { FailureReport } from '../import/failure-report.js'
import { ProgressDisplay } from '../import/progress-display.js'
import { namesLegacyScripts, withMigrating } from '../migrating-target.js'
import type { Output } from '../output.js'
import { runCommand } from '../run-command.js'
import { storeOption, withStore } from '../store-option.js'

interface ImportOptions {
  store?: string
  config?: string
  connection: string
  json?: boolean
  upsert?: boolean
  report?: string
  batchSize: number
  progressInterval: number
}

const SHOWN_FAILURES = 10

/** `latchkey import FILE.ndjson --connection NAME`: bulk import with progress, a failure report, and resume. */
export function importCommand(): Command {
  return new Command('import')
    .description('import users from an NDJSON export (one user per line, legacy password hashes welcome)')
    .argument('<file>', 'the NDJSON file')
    .addOption(storeOption())
    .addOption(connectionOption())
    .addOption(configOption())
    .option('--upsert', 'replace users who exist already (default: insert-only, existing users are never touched)')
    .option('--report <file>', 'write every failed record to this NDJSON file, with its line number and reason')
    .addOption(new Option('--batch-size <n>', 'records per write').default(1000).argParser(integer(1, 5000)))
    .addOption(
      new Option('--progress-interval <seconds>', 'seconds between progress lines when not on a terminal')
        .default(5)
        .argParser(integer(0, 3600)),
    )
    .option('--json', 'print one JSON document')
    .addHelpText(
      'after',
      `
Ctrl-C stops at the next batch boundary and says how far it got. Running the same command
again continues: records an earlier run imported count as skipped, not failed.
${example('latchkey import users.ndjson --connection users --store sqlite:users.db --report failures.ndjson')}`,
    )
    .action((file: string, opts: ImportOptions) =>
      runCommand(opts, (out) =>
        withStore(opts.store, async (store) => {
          let size: number
          try {
            size = statSync(file).size
          } catch (error) {
            throw unreadable('import file', file, error)
          }
          const migrating = await migrationState(store, opts.connection, opts.config)
          if (opts.upsert && migrating) throw upsertRefused(opts.connection, migrating)
          if (migrating === 'store') throw legacyScriptsRequired(opts.connection)
          const report = opts.report === undefined ? null : new FailureReport(opts.report)
          const input = createReadStream(file)
          const display = new ProgressDisplay(size, !opts.json && process.stderr.isTTY === true, opts.progressInterval * 1000)
          const stop = new AbortController()
          const onSigint = () => {
            if (stop.signal.aborted) process.exit(EXIT.interrupted) // a second Ctrl-C: the batch in flight rolls back
            stop.abort()
            process.stderr.write('\nStopping after the batch being written (Ctrl-C again to quit at once)…\n')
          }
          process.on('SIGINT', onSigint)
          const options = {
            ...(opts.upsert ? { upsert: true } : {}),
            skipExisting: true,
            batchSize: opts.batchSize,
            signal: stop.signal,
            onProgress: (progress: ImportProgress) => display.update({ progress, bytesRead: input.bytesRead }),
            onFailure: (failure: ImportFailure) => report?.write(failure),
          }
          let result: ImportResult
          try {
            // A connection being migrated takes its bulk import through the migrating connection: insert-only,
            // tombstoned users refused, every user logged as moved over by `bulk`. The plain path knows none of that.
            result =
              migrating === 'config'
                ? await withMigrating(opts.connection, opts.config, store, (users) => importUsers(users, input, options))
                : await importUsers(builtinConnection(opts.connection, store, opts.config), input, options)
          } finally {
            process.off('SIGINT', onSigint)
            display.stop()
            input.destroy()
            report?.close()
          }
          const seconds = display.elapsed()
          summarize(out, file, result, seconds, display.rate(result.processed), opts.report)
          return result.stopped ? EXIT.interrupted : result.failed > 0 ? EXIT.someFailed : EXIT.ok
        }),
      ),
    )
}

/**
 * Whether the connection is being migrated: its config names legacy scripts ('config'), or its store shows users
 * moved over at login or reset, or deleted with a tombstone ('store').
 */
async function migrationState(store: OpenedStore, name: string, configPath: string | undefined): Promise<'config' | 'store' | null> {
  if (namesLegacyScripts(configPath)) return 'config'
  const { byFlow, tombstones } = await store.migrationStats(name)
  const moved = Object.entries(byFlow)
    .filter(([flow]) => flow !== 'bulk')
    .reduce((sum, [, n]) => sum + n, 0)
  return moved > 0 || tombstones > 0 ? 'store' : null
}

/** Without the legacy scripts there is no migrating connection to import through, and the plain path would bring a deleted user back. */
function legacyScriptsRequired(name: string): CommandError {
  return new CommandError(
    'migration_config_required',
    `${name} is being migrated (its store shows users moved over or deleted): pass --config with its legacy scripts, ` +
      'so the import goes through the migrating connection and never brings a deleted user back.',
    { exitCode: 2 },
  )
}

/** `--upsert` would overwrite users who moved over at login or reset and changed their password since. */
function upsertRefused(name: string, why: 'config' | 'store'): CommandError {
  return new CommandError(
    'migration_in_progress',
    `--upsert is refused on ${name}: it is being migrated (${why === 'config' ? 'its config names legacy scripts' : 'its store shows users moved over'}), ` +
      'and upsert would overwrite users who changed their password since. Import without --upsert: existing users are kept.',
  )
}

function summarize(out: Output, file: string, r: ImportResult, seconds: number, rate: number, report: string | undefined): void {
  const n = (x: number) => (out.human ? x.toLocaleString('en-US') : String(x))
  const json = {
    file,
    processed: r.processed,
    imported: r.imported,
    updated: r.updated,
    skipped: r.skipped,
    failed: r.failed,
    line: r.line ?? 0,
    stopped: r.stopped,
    seconds: Math.round(seconds * 1000) / 1000,
    rate,
    ...(report ? { report } : {}),
    failures: r.failures.map(({ line, email, code, message }) => ({ line, ...(email === undefined ? {} : { email }), code, message })),
  }
  out.result(json, (s) => {
    const lines: string[] = []
    if (out.human) {
      lines.push(
        r.stopped
          ? s.warn(`Stopped at line ${n(r.line ?? 0)} of ${file}: everything up to there is written.`)
          : s.good(`Imported ${file}.`),
      )
      lines.push(
        ...out.fields([
          ['records', n(r.processed)],
          ['imported', n(r.imported)],
          ['updated', n(r.updated)],
          ['skipped', `${n(r.skipped)}${r.skipped > 0 ? s.dim(' (already there)') : ''}`],
          ['failed', r.failed > 0 ? s.bad(n(r.failed)) : '0'],
          ['time', `${seconds.toFixed(1)} s (${n(rate)} records/s)`],
          ['report', report],
        ]),
      )
    } else {
      lines.push(
        ...out.fields([
          ['records', r.processed],
          ['imported', r.imported],
          ['updated', r.updated],
          ['skipped', r.skipped],
          ['failed', r.failed],
          ['line', r.line ?? 0],
          ['seconds', seconds.toFixed(3)],
          ['rate', rate],
          ['stopped', r.stopped],
          ['report', report],
        ]),
      )
    }
    lines.push(...r.failures.slice(0, SHOWN_FAILURES).map((f) => failureLine(out, f)))
    if (r.failed > SHOWN_FAILURES)
      lines.push(`… and ${n(r.failed - SHOWN_FAILURES)} more${report ? ` in ${report}` : ' (--report FILE keeps them all)'}`)
    if (r.stopped)
      lines.push(
        out.human
          ? 'Run the same command again to continue; records already imported count as skipped.'
          : 'resume: run the same command again',
      )
    return lines
  })
}

function failureLine(out: Output, f: ImportFailure): string {
  return out.human ? `  ${out.style.bad(`line ${f.line}`)}  ${f.code}: ${f.message}` : `failure: line ${f.line} ${f.code}: ${f.message}`
}

function integer(min: number, max: number): (value: string) => number {
  return (value) => {
    const n = Number(value)
    if (!Number.isInteger(n) || n < min || n > max) throw new InvalidArgumentError(`expected a whole number from ${min} to ${max}`)
    return n
  }
}
