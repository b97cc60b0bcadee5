import { afterAll, beforeAll } from 'vitest'
import type { DialectName, OpenedStore } from '@latchkey/adapters'
import { openTestStore } from './dialects.js'

/**
 * Opens a fresh store of `dialect` before the enclosing describe's tests, hands it to
 * `use`, and closes it after them: the setup and teardown every per-dialect suite repeats.
 *
 * @example
 * for (const dialect of DIALECTS) describe(`… on ${dialect}`, () => {
 *   let store: OpenedStore
 *   withTestStore(dialect, (s) => (store = s))
 * })
 */
export function withTestStore(dialect: DialectName, use: (store: OpenedStore) => void): void {
  let opened: OpenedStore | undefined
  beforeAll(async () => {
    opened = await openTestStore(dialect)
    use(opened)
  })
  afterAll(async () => {
    await opened?.close()
  })
}
