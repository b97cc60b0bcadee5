// The server of bench/http, in its own process (as an attacker's target would be), so the
// client's timing is not mixed with the work the server does after each answer. Prints its URL.
import http from 'node:http'
import type { AddressInfo } from 'node:net'
import { CustomScriptConnection } from '@latchkey/core'
import { openStore } from '@latchkey/adapters'
import { QuickJsRunner } from '@latchkey/sandbox'
import { createHandler, toNodeHandler } from '@latchkey/http'

/** A legacy lookup that takes 20 ms for a known email and answers an unknown one at once. */
export const GET_USER = `function getByEmail(email, callback) {
  if (email.indexOf('known') === 0) setTimeout(function () { callback(null, { user_id: email, email: email }); }, 20);
  else callback(null, null);
}`

export async function legacyConnection(tag: string) {
  const store = await openStore(`sqlite:.tmp/bench-http-${tag}-${Date.now()}.db`)
  const runner = new QuickJsRunner()
  const connection = new CustomScriptConnection({
    name: `bench-http-${tag}`,
    runner,
    store,
    attackProtection: false,
    scripts: {
      login: 'function login(email, password, callback) { callback(); }',
      get_user: GET_USER,
      change_password: 'function changePassword(email, password, callback) { callback(null, true); }',
    },
  })
  return {
    connection,
    close: async () => {
      await runner.close()
      await store.close()
    },
  }
}

if (process.argv[2] === 'serve') {
  const { connection } = await legacyConnection('server')
  const handler = createHandler({ connection, forgotLimit: { requests: 1_000_000, perSeconds: 60 }, onMail: () => undefined })
  const server = http.createServer(toNodeHandler(handler))
  server.listen(0, '127.0.0.1', () => console.log(`http://127.0.0.1:${(server.address() as AddressInfo).port}`))
}
