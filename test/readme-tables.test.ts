// The README's tables of error codes and event types against the code: every class that
// @latchkey/core exports and every event type it emits must be listed, and nothing else.
import { readFileSync } from 'node:fs'
import { describe, expect, it } from 'vitest'
import * as core from '@latchkey/core'

const readme = readFileSync(new URL('../README.md', import.meta.url), 'utf8')

/** The rows of the table under `## heading`, as arrays of cells with backticks removed. */
function table(heading: string): string[][] {
  const section = readme.split(new RegExp(`^## ${heading}$`, 'm'))[1]?.split(/^## /m)[0]
  if (section === undefined) throw new Error(`README.md has no "## ${heading}" section`)
  return section
    .split('\n')
    .filter((line) => line.startsWith('|'))
    .slice(2)
    .map((line) =>
      line
        .slice(1, -1)
        .split('|')
        .map((cell) => cell.trim().replace(/`/g, '')),
    )
}

/** Every LatchkeyError class the package exports, by name. */
const errorClasses = Object.entries(core).filter(
  ([, value]) =>
    typeof value === 'function' &&
    value !== core.LatchkeyError &&
    value.prototype instanceof Error &&
    Object.prototype.isPrototypeOf.call(core.LatchkeyError, value),
) as [string, { code?: string; httpStatus?: number }][]

describe('README: Errors', () => {
  const rows = table('Errors')

  it('lists every exported error class once, and no other', () => {
    expect(errorClasses.length).toBeGreaterThanOrEqual(16)
    expect(rows.map((r) => r[1]).sort()).toEqual(errorClasses.map(([name]) => name).sort())
  })

  it("gives each class its code and HTTP status, as the class's statics say", () => {
    for (const [name, cls] of errorClasses) {
      const row = rows.find((r) => r[1] === name)!
      expect(row[3], `${name}: the "when" column`).toBeTruthy()
      expect(Number(row[2]), `${name}: HTTP status`).toBe(cls.httpStatus)
      if (cls === core.ValidationError) expect(row[0]).toMatch(/script/)
      else expect(row[0], `${name}: code`).toBe(cls.code)
    }
  })

  it("a class's instances carry the static code", () => {
    expect(new core.UserExistsError().code).toBe(core.UserExistsError.code)
    expect(new core.StoreUnavailableError().code).toBe(core.StoreUnavailableError.code)
  })
})

describe('README: Events', () => {
  it('lists every event type latchkey emits, once, and no other', () => {
    const types = table('Events').map((r) => r[0])
    expect(types.sort()).toEqual(Object.keys(core.latchkeyEventTypes).sort())
  })
})
