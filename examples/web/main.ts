// latchkey web example: `npx -y pnpm@10 demo:web`, then open the URL it prints.
import { mkdirSync } from 'node:fs'
import type { AddressInfo } from 'node:net'
import { closeHashPool } from '@latchkey/core'
import { createWebApp } from './app.js'

mkdirSync('.tmp', { recursive: true })
const web = await createWebApp({ storeUrl: process.env['WEB_STORE_URL'] ?? 'sqlite:.tmp/web-example.db' })
const server = web.app.listen(Number(process.env['PORT'] ?? 3000), '127.0.0.1', () => {
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`
  web.setBaseUrl(url)
  console.log(`latchkey web example on ${url} (mail goes to ${url}/outbox; Ctrl-C stops it)`)
})
process.once('SIGINT', () => {
  server.close()
  server.closeAllConnections()
  void web.close().then(() => closeHashPool())
})
