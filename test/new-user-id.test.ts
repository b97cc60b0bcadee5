import { afterAll, describe, expect, it } from 'vitest'
import { BuiltinConnection, closeHashPool, importUsers } from '@latchkey/core'
import { bcryptHash, newUserId } from '@latchkey/core/internal'
import { openStore } from '@latchkey/adapters'
import { TEST_COST } from './support/test-cost.js'

afterAll(async () => {
  await closeHashPool()
})

describe('new user ids', () => {
  it('are UUIDv7 in 32 hex digits: version 7, RFC 9562 variant, the creation millisecond first', () => {
    const at = Date.UTC(2026, 10, 29, 12, 0, 0, 123)
    const id = newUserId(at)
    expect(id).toMatch(/^[0-9a-f]{12}7[0-9a-f]{3}[89ab][0-9a-f]{15}$/)
    expect(Number.parseInt(id.slice(0, 12), 16)).toBe(at)
  })

  it('sort by creation time and never repeat (74 random bits)', () => {
    const ids = Array.from({ length: 20_000 }, (_, i) => newUserId(1_700_000_000_000 + Math.floor(i / 100)))
    expect(new Set(ids).size).toBe(ids.length)
    for (let i = 100; i < ids.length; i += 100) expect(ids[i - 1]! < ids[i]!).toBe(true) // each new millisecond sorts after the last
  })

  it('signup and bulk import both hand them out, in the order users were created', async () => {
    const store = await openStore('sqlite::memory:')
    const clock = { now: new Date('2026-05-01T00:00:00Z') }
    const connection = new BuiltinConnection({ name: 'ids', store, ...TEST_COST, now: () => clock.now })
    const first = await connection.signup({ email: 'first@example.com', password: 'Tr0ub4dor-horse-42' }, { ip: '192.0.2.1' })
    clock.now = new Date('2026-05-01T00:00:01Z')
    const second = await connection.signup({ email: 'second@example.com', password: 'Tr0ub4dor-horse-42' }, { ip: '192.0.2.1' })
    expect(Number.parseInt(first.user_id.slice(0, 12), 16)).toBe(Date.parse('2026-05-01T00:00:00Z'))
    expect(first.user_id < second.user_id).toBe(true)
    const before = Date.now()
    await importUsers(connection, [{ email: 'imported@example.com', password_hash: await bcryptHash('Tr0ub4dor-horse-42', 4) }])
    const imported = await connection.getUser('imported@example.com')
    expect(imported!.user_id).toMatch(/^[0-9a-f]{12}7[0-9a-f]{3}[89ab][0-9a-f]{15}$/)
    expect(Number.parseInt(imported!.user_id.slice(0, 12), 16)).toBeGreaterThanOrEqual(before)
    await store.close()
  })
})
