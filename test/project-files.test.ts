// What a clone of the repository must carry on its own: a license that matches the
// packages, and every file the tests read.
import { execFileSync, spawnSync } from 'node:child_process'
import { readdirSync, readFileSync } from 'node:fs'
import { fileURLToPath } from 'node:url'
import { describe, expect, it } from 'vitest'

const root = fileURLToPath(new URL('..', import.meta.url))
const read = (path: string) => readFileSync(new URL(`../${path}`, import.meta.url), 'utf8')
const packages = readdirSync(new URL('../packages/', import.meta.url))

describe('the repository', () => {
  it('has a LICENSE matching the license field of every package', () => {
    expect(read('LICENSE')).toMatch(/^MIT License\n/)
    expect(packages.length).toBeGreaterThanOrEqual(3)
    for (const name of packages) expect(JSON.parse(read(`packages/${name}/package.json`)).license, name).toBe('MIT')
  })

  it('reads nothing outside itself: no tracked file refers to the shared folder beside it', () => {
    const files = execFileSync('git', ['ls-files', '-z'], { cwd: root, encoding: 'utf8' }).split('\0').filter(Boolean)
    // Built from pieces, so this file (and a grep for the same words) does not match itself.
    const folder = ['sha', 'red'].join('')
    const outside = new RegExp(`\\.\\./${folder}/|/work/${folder}`)
    const offenders = files
      .filter((f) => /\.(ts|js|mjs|cjs|json|sh|ya?ml)$/.test(f) || f.startsWith('.ci/'))
      .filter((f) => outside.test(readFileSync(`${root}/${f}`, 'utf8')))
    expect(offenders).toEqual([])
  })

  it('passes its linter (Biome, configured once in biome.jsonc), as .ci/run checks', () => {
    expect(readFileSync(`${root}/.ci/run`, 'utf8')).toContain('pnpm@10 lint')
    const lint = spawnSync(`${root}/node_modules/.bin/biome`, ['lint', '--error-on-warnings', '.'], { cwd: root, encoding: 'utf8' })
    expect(lint.status, lint.stderr + lint.stdout).toBe(0)
    expect(lint.stderr + lint.stdout).toMatch(/Checked \d+ files/)
  })
})
