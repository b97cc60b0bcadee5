import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import type { CustomScripts } from '@latchkey/core'

const NAMES = ['login', 'create', 'verify', 'change_password', 'get_user', 'delete', 'change_email'] as const

/** Reads a template folder's seven scripts (`login.js`, `create.js`, …) into a `scripts` option. */
export function loadScripts(dir: string): CustomScripts {
  const read = (name: string) => readFileSync(join(dir, `${name}.js`), 'utf8')
  const scripts = Object.fromEntries(NAMES.map((n) => [n, read(n)]))
  return scripts as unknown as CustomScripts
}
