// Users move from the legacy store into latchkey as they log in: a migrating connection
// whose legacy half reaches the old store only through the identity API.
import { BuiltinConnection, MigratingConnection, type LatchkeyEvent, type UserStore } from '@latchkey/core'
import { legacyApiConnection, type LegacyApiConnectionOptions } from './legacy-connection.js'

export interface MigratingUsersOptions extends Omit<LegacyApiConnectionOptions, 'store' | 'onEvent'> {
  /** latchkey's own store: the target users, counters, tickets and migration progress. */
  store: UserStore
  /** bcrypt cost of the target (10 or more, unless `unsafeLowCostForTests`). */
  bcryptCost?: number
  unsafeLowCostForTests?: boolean
  onEvent?: (event: LatchkeyEvent) => void
}

/**
 * A MigratingConnection: the target is a BuiltinConnection on `store`, the legacy store is
 * the identity API. A user's first login runs the `login` script (through the API) and
 * imports them; from then on the API is never asked about them again.
 */
export function migratingUsers(o: MigratingUsersOptions): MigratingConnection {
  const { store, bcryptCost, unsafeLowCostForTests, onEvent, ...api } = o
  const target = new BuiltinConnection({
    name: o.name,
    store,
    ...(bcryptCost === undefined ? {} : { bcryptCost }),
    ...(unsafeLowCostForTests ? { unsafeLowCostForTests } : {}),
  })
  const legacy = legacyApiConnection({ ...api, name: `${o.name}-legacy` })
  return new MigratingConnection({ name: o.name, target, legacy, ...(onEvent ? { onEvent } : {}) })
}
