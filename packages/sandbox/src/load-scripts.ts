import { readdirSync, readFileSync } from 'node:fs'
import { join } from 'node:path'
import { customScriptsSchema, InvalidInputError, type CustomScripts } from '@latchkey/core'
import { parseInput } from '@latchkey/core/internal'
import { z } from 'zod'

const SCRIPT_NAMES = Object.keys(customScriptsSchema.shape) as (keyof CustomScripts)[]

/**
 * Reads a folder of custom-database scripts (`login.js`, `create.js`, `verify.js`,
 * `change_password.js`, `get_user.js`, `delete.js`, `change_email.js`) into the `scripts`
 * option of a CustomScriptConnection. Scripts are source strings: this reads their text and
 * nothing more; they run only in the sandbox. Absent files are left out; `login.js` is required.
 *
 * @example
 * const legacy = new CustomScriptConnection({ name: 'legacy', runner, store, scripts: loadScripts('./scripts') })
 */
export function loadScripts(dir: string): CustomScripts {
  const folder = parseInput(z.string().min(1).max(4096), dir)
  let files: string[]
  try {
    files = readdirSync(folder)
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code ?? 'error'
    throw new InvalidInputError([{ path: ['dir'], code: 'custom', message: `cannot be read (${code})` }])
  }
  const scripts = Object.fromEntries(
    SCRIPT_NAMES.filter((name) => files.includes(`${name}.js`)).map((name) => [name, readFileSync(join(folder, `${name}.js`), 'utf8')]),
  )
  return parseInput(customScriptsSchema, scripts)
}
