// Runs the web-service templates against a local legacy API with Basic Auth:
//   npx -y pnpm@10 demo:web-service
import { fileURLToPath } from 'node:url'
import { closeHashPool, CustomScriptConnection } from '@latchkey/core'
import { openStore } from '@latchkey/adapters'
import { loadScripts, QuickJsRunner } from '@latchkey/sandbox'
import { demoFlow } from '../demo-flow.js'
import { startLegacyApi } from './legacy-api-server.js'

const api = await startLegacyApi({ user: 'latchkey', password: 'api-secret' })
const runner = new QuickJsRunner()
const store = await openStore('sqlite::memory:') // attack-protection counters and tickets
const users = new CustomScriptConnection({
  name: 'legacy-api',
  runner,
  store,
  scripts: loadScripts(fileURLToPath(new URL('.', import.meta.url))),
  configuration: { API_URL: api.url, API_USER: 'latchkey', API_PASSWORD: 'api-secret' },
  egress: { allow: [`127.0.0.1:${api.port}`] },
})
try {
  console.log(`Web-service templates against ${api.url}:`)
  await demoFlow(users)
} finally {
  await runner.close()
  await store.close()
  await api.close()
  await closeHashPool()
}
