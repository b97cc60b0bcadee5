import { STATUS_CODES } from 'node:http'
import type { Agent } from 'undici'

// undici takes a third of a second to load on a busy machine, a time in which the worker's
// other runs would wait: only workers whose scripts use the network pay for it, once.
let undici: Promise<typeof import('undici')> | null = null
const loadUndici = () => (undici ??= import('undici'))
import type { EgressPolicy } from '../egress/egress-policy.js'
import type { RunResources } from './run-resources.js'

/** Largest response body a script may receive. */
export const MAX_RESPONSE_BYTES = 10 * 1024 * 1024
const MAX_REDIRECTS = 5

export interface HttpRequestArgs {
  url: string
  method?: string
  headers?: Record<string, string>
  /** Base64 of the request body. */
  body?: string
  /** Follow redirects (each hop is checked against the allow-list again). */
  follow?: boolean
}

export interface HttpResponse {
  status: number
  statusText: string
  url: string
  headers: [string, string][]
  /** Base64 of the response body. */
  body: string
}

/**
 * HTTP for scripts, on undici: every hop is checked against the run's egress policy
 * before any connection, connections go to the very address that was checked, headers
 * and body must arrive before the run's deadline, and bodies are size-capped.
 */
export class HttpBridge {
  private agent: Agent | null = null
  /** hostname -> the address the policy approved for it, used by the agent's lookup. */
  private readonly pinned = new Map<string, string>()

  constructor(
    private readonly policy: EgressPolicy,
    private readonly resources: RunResources,
    private readonly deadline: number,
  ) {}

  async send(args: HttpRequestArgs): Promise<HttpResponse> {
    const { Agent: AgentClass, request } = await loadUndici()
    let url = parseUrl(args.url)
    let method = (args.method ?? 'GET').toUpperCase()
    let body = args.body === undefined ? undefined : Buffer.from(args.body, 'base64')
    for (let hop = 0; ; hop++) {
      const port = Number(url.port || (url.protocol === 'https:' ? 443 : 80))
      const address = await this.policy.resolve(url.hostname, port)
      this.pinned.set(url.hostname.replace(/^\[|\]$/g, '').toLowerCase(), address)
      // A little past the run's deadline: the run's own timeout fires first, with its clear
      // message, and ending the run destroys the agent and whatever it still waits for.
      const remaining = Math.max(1, this.deadline - Date.now()) + 250
      const response = await request(url, {
        method: method as 'GET',
        headers: args.headers ?? {},
        ...(body === undefined ? {} : { body }),
        dispatcher: this.dispatcher(AgentClass),
        headersTimeout: remaining,
        bodyTimeout: remaining,
      })
      const location = response.headers['location']
      if (args.follow !== false && [301, 302, 303, 307, 308].includes(response.statusCode) && typeof location === 'string') {
        await response.body.dump()
        if (hop >= MAX_REDIRECTS) throw new Error(`too many redirects (more than ${MAX_REDIRECTS})`)
        url = parseUrl(new URL(location, url).toString())
        if (response.statusCode === 303 || ((response.statusCode === 301 || response.statusCode === 302) && method === 'POST')) {
          method = 'GET'
          body = undefined
        }
        continue
      }
      const chunks: Buffer[] = []
      let size = 0
      for await (const chunk of response.body) {
        size += (chunk as Buffer).length
        if (size > MAX_RESPONSE_BYTES) {
          response.body.destroy()
          throw new Error(`response body larger than ${MAX_RESPONSE_BYTES} bytes`)
        }
        chunks.push(chunk as Buffer)
      }
      const headers: [string, string][] = []
      for (const [name, value] of Object.entries(response.headers)) {
        for (const v of Array.isArray(value) ? value : [value]) if (v !== undefined) headers.push([name, String(v)])
      }
      return {
        status: response.statusCode,
        statusText: STATUS_CODES[response.statusCode] ?? '',
        url: url.toString(),
        headers,
        body: Buffer.concat(chunks).toString('base64'),
      }
    }
  }

  private dispatcher(AgentClass: typeof Agent): Agent {
    if (this.agent) return this.agent
    const agent = new AgentClass({
      connections: 4,
      connect: {
        // Connect only to the address the policy approved for this name: a DNS answer
        // that changed since the check (rebinding) is never used.
        lookup: (hostname, options, callback) => {
          const address = this.pinned.get(hostname.toLowerCase())
          if (!address) {
            callback(new Error(`no approved address for ${hostname}`), '', 4)
            return
          }
          const family = address.includes(':') ? 6 : 4
          if ((options as { all?: boolean }).all)
            (callback as unknown as (e: null, a: { address: string; family: number }[]) => void)(null, [{ address, family }])
          else callback(null, address, family)
        },
      },
    })
    this.agent = agent
    this.resources.add({ close: () => agent.destroy() })
    return agent
  }
}

function parseUrl(text: string): URL {
  let url: URL
  try {
    url = new URL(text)
  } catch {
    throw new TypeError(`invalid URL: ${text.slice(0, 200)}`)
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:')
    throw new TypeError(`only http and https URLs are allowed, not ${url.protocol}`)
  return url
}
