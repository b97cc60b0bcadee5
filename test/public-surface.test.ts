// @latchkey/core's public index: lean, with internal helpers behind @latchkey/core/internal,
// a zod schema for every public input, and documented DatabaseConnection methods.
import { readFileSync } from 'node:fs'
import ts from 'typescript'
import { describe, expect, it } from 'vitest'
import * as core from '@latchkey/core'
import * as internal from '@latchkey/core/internal'

const INTERNAL = [
  'bcryptHash',
  'bcryptCompare',
  'bcryptCost',
  'hashPoolStats',
  'canonicalIp',
  'normalizeClientIp',
  'normalizeEmail',
  'normalizeUsername',
  'parseInput',
]

describe('@latchkey/core', () => {
  it('keeps internal helpers out of its index, in @latchkey/core/internal', () => {
    for (const name of INTERNAL) {
      expect(Object.keys(core), name).not.toContain(name)
      expect(typeof (internal as Record<string, unknown>)[name], name).toBe('function')
    }
  })

  it('exports the zod schema of every public input', () => {
    const schemas = [
      'signupInputSchema',
      'loginInputSchema',
      'requestContextSchema',
      'userPatchSchema',
      'ticketOptionsSchema',
      'changeEmailOptionsSchema',
      'passwordSchema',
      'identifierSchema',
      'userIdSchema',
      'ticketTokenSchema',
      'emailSchema',
      'builtinConnectionOptionsSchema',
      'customScriptConnectionOptionsSchema',
      'customScriptsSchema',
      'passwordPolicyOptionsSchema',
      'attackProtectionSchema',
      'breachedPasswordsSchema',
      'ticketSettingsSchema',
      'egressSchema',
      'importRecordSchema',
      'importOptionsSchema',
      'customPasswordHashSchema',
      'importCapsSchema',
    ]
    const exported = core as unknown as Record<string, { safeParse?: unknown }>
    for (const name of schemas) expect(typeof exported[name]?.safeParse, name).toBe('function')
  })

  it('documents every DatabaseConnection method with JSDoc and an example', () => {
    const path = new URL('../packages/core/src/connection/database-connection.ts', import.meta.url)
    const source = ts.createSourceFile('database-connection.ts', readFileSync(path, 'utf8'), ts.ScriptTarget.Latest, true)
    let methods = 0
    source.forEachChild((node) => {
      if (!ts.isInterfaceDeclaration(node) || node.name.text !== 'DatabaseConnection') return
      for (const member of node.members) {
        if (!ts.isMethodSignature(member)) continue
        methods += 1
        const tags = ts.getJSDocTags(member).map((t) => t.tagName.text)
        expect(tags, `${member.name.getText()} needs an @example`).toContain('example')
      }
    })
    expect(methods).toBeGreaterThanOrEqual(13)
  })
})
