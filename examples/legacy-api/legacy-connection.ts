// The custom-script connection whose scripts reach the legacy store only through the
// identity API, with a client-credentials token: no database port is open to them.
import { readFileSync } from 'node:fs'
import { CustomScriptConnection, type LatchkeyEvent, type ScriptRunner, type UserStore } from '@latchkey/core'

const read = (name: string) => readFileSync(new URL(`./${name}.js`, import.meta.url), 'utf8')

/**
 * The `login`, `get_user` and `change_password` scripts: each is its entry function
 * followed by the shared `callLegacyApi` (scripts cannot import one another).
 */
export function legacyApiScripts(): { login: string; get_user: string; change_password: string } {
  const helper = read('call-legacy-api')
  return {
    login: `${read('login')}\n${helper}`,
    get_user: `${read('get_user')}\n${helper}`,
    change_password: `${read('change_password')}\n${helper}`,
  }
}

export interface LegacyApiConnectionOptions {
  name: string
  runner: ScriptRunner
  /**
   * Where its attack-protection counters live. Leave it out for the legacy half of a
   * migrating connection, which counts attempts itself (attack protection is then off here).
   */
  store?: UserStore
  /** The authorization server's token endpoint and the client latchkey's scripts use. */
  tokenUrl: string
  clientId: string
  clientSecret: string
  /** The identity API: its base URL and its audience (resource indicator). */
  apiUrl: string
  apiAudience: string
  onEvent?: (event: LatchkeyEvent) => void
}

/** host:port of a URL, as an egress entry. */
function egressEntry(url: string): string {
  const u = new URL(url)
  return `${u.hostname}:${u.port || (u.protocol === 'https:' ? '443' : '80')}`
}

export function legacyApiConnection(o: LegacyApiConnectionOptions): CustomScriptConnection {
  return new CustomScriptConnection({
    name: o.name,
    runner: o.runner,
    ...(o.store ? { store: o.store } : { attackProtection: false as const }),
    scripts: legacyApiScripts(),
    configuration: {
      TOKEN_URL: o.tokenUrl,
      CLIENT_ID: o.clientId,
      CLIENT_SECRET: o.clientSecret,
      API_URL: o.apiUrl,
      API_AUDIENCE: o.apiAudience,
    },
    // The token endpoint and the API, nothing else: least privilege for the scripts too.
    egress: { allow: [egressEntry(o.tokenUrl), egressEntry(o.apiUrl)] },
    ...(o.onEvent ? { onEvent: o.onEvent } : {}),
  })
}
