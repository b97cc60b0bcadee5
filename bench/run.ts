// Runs the benchmarks: `pnpm bench` for all, `pnpm bench login` for one. Exits 1 if any
// target is missed. Never part of the test command: these are timings on a noisy machine,
// so each target is a ratio against a baseline taken in the same run.
import { mkdirSync } from 'node:fs'
import { benchCaps } from './caps.js'
import { benchEnumeration } from './enumeration.js'
import { benchHttp } from './http.js'
import { benchImport } from './import.js'
import { benchLoad } from './load.js'
import { benchLogin } from './login.js'
import { benchMigration } from './migration.js'
import { benchSandbox } from './sandbox.js'

const benches: Record<string, () => Promise<boolean>> = {
  login: benchLogin,
  sandbox: benchSandbox,
  import: benchImport,
  enumeration: benchEnumeration,
  caps: benchCaps,
  load: benchLoad,
  http: benchHttp,
  migration: benchMigration,
}
const chosen = process.argv.slice(2)
mkdirSync('.tmp', { recursive: true })

let ok = true
for (const [name, run] of Object.entries(benches)) {
  if (chosen.length > 0 && !chosen.includes(name)) continue
  ok = (await run()) && ok
}
console.log(ok ? '\nall targets met' : '\nsome targets missed')
process.exitCode = ok ? 0 : 1
