import { Command } from 'commander'
import { migrateSchema, schemaMigrations } from '@latchkey/adapters'
import { runCommand } from '../run-command.js'
import { describeStore, storeOption, withStore } from '../store-option.js'
import { example } from '../help.js'

interface DbOptions {
  store?: string
  json?: boolean
}

/** `latchkey db migrate` and `latchkey db status`: the store's schema migrations. */
export function dbCommand(): Command {
  const db = new Command('db').description("apply or list the store's schema migrations")

  db.command('migrate')
    .description('apply every pending schema migration (safe to run from several places at once)')
    .addOption(storeOption())
    .option('--json', 'print one JSON document')
    .addHelpText('after', example('latchkey db migrate --store sqlite:users.db'))
    .action((opts: DbOptions) =>
      runCommand(opts, (out) =>
        withStore(
          opts.store,
          async (store) => {
            const applied = await migrateSchema(store)
            const migrations = await schemaMigrations(store)
            out.result({ store: describeStore(opts.store!), applied, migrations }, (s) => [
              ...(applied.length === 0
                ? [out.human ? s.good('The schema is up to date.') : 'up to date']
                : applied.map((name) => (out.human ? `${s.good('applied')}  ${name}` : `applied: ${name}`))),
              ...out.fields([
                ['store', describeStore(opts.store!)],
                ['migrations', migrations.length],
              ]),
            ])
          },
          'any',
        ),
      ),
    )

  db.command('status')
    .description('list the schema migrations this version ships and which are applied')
    .addOption(storeOption())
    .option('--json', 'print one JSON document')
    .addHelpText('after', example('latchkey db status --store postgres://app@db.internal/app'))
    .action((opts: DbOptions) =>
      runCommand(opts, (out) =>
        withStore(
          opts.store,
          async (store) => {
            const migrations = await schemaMigrations(store)
            const pending = migrations.filter((m) => m.executedAt === null).length
            out.result({ store: describeStore(opts.store!), pending, migrations }, (s) => [
              ...migrations.map((m) =>
                out.human
                  ? `  ${m.executedAt ? s.good('applied') : s.warn('pending')}  ${m.name}${m.executedAt ? s.dim(`  ${m.executedAt.toISOString()}`) : ''}`
                  : `migration: ${m.name} ${m.executedAt ? `applied ${m.executedAt.toISOString()}` : 'pending'}`,
              ),
              ...out.fields([['pending', pending]]),
            ])
          },
          'any',
        ),
      ),
    )
  return db
}
