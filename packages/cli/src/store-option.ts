import { Option } from 'commander'
import { openStore, schemaMigrations, type OpenedStore } from '@latchkey/adapters'
import { CommandError } from './command-error.js'

/** `--store URL`, or LATCHKEY_STORE_URL. */
export function storeOption(): Option {
  return new Option('--store <url>', 'the store: sqlite:FILE, postgres://… or mysql://…').env('LATCHKEY_STORE_URL')
}

/**
 * Opens the store, hands it to `use` and always closes it. The schema is never changed
 * behind the user's back: unless `schema` is 'any', a store with pending migrations is
 * refused with a pointer to `latchkey db migrate`.
 */
export async function withStore<T>(
  url: string | undefined,
  use: (store: OpenedStore) => Promise<T>,
  schema: 'current' | 'any' = 'current',
): Promise<T> {
  if (url === undefined || url === '') {
    throw new CommandError('store_required', 'no store given: pass --store URL or set LATCHKEY_STORE_URL', { exitCode: 2 })
  }
  const store = await openStore(url, { migrate: false })
  try {
    if (schema === 'current') {
      const pending = (await schemaMigrations(store)).filter((m) => m.executedAt === null)
      if (pending.length > 0) {
        throw new CommandError(
          'schema_outdated',
          `the store's schema is behind by ${pending.length} migration(s) (${pending.map((m) => m.name).join(', ')}); ` +
            'run `latchkey db migrate` first',
        )
      }
    }
    return await use(store)
  } finally {
    await store.close()
  }
}

/** The store's URL without credentials or query, for output. */
export function describeStore(url: string): string {
  if (url.startsWith('sqlite:')) return url
  try {
    const u = new URL(url)
    return `${u.protocol}//${u.host}${u.pathname}`
  } catch {
    return url.split(':')[0] ?? 'store'
  }
}
