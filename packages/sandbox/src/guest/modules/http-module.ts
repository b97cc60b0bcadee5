/* eslint-disable */
import type { GuestLib } from './guest-lib.js'

/**
 * `fetch` (WHATWG-shaped) and `require('request')` for scripts. Both send through one host
 * call, where the egress allow-list, the deadline and the size cap apply to every hop.
 * Evaluated inside the sandbox on first use; self-contained.
 */
function httpModule(lib: GuestLib) {
  const { call, invoke, Buffer } = lib

  const lowerHeaders = (headers: unknown): Record<string, string> => {
    const out: Record<string, string> = {}
    if (headers && typeof headers === 'object') {
      const entries = typeof (headers as any).entries === 'function' ? Array.from((headers as any).entries()) : Object.entries(headers)
      for (const [k, v] of entries as [string, unknown][]) out[String(k).toLowerCase()] = String(v)
    }
    return out
  }
  const send = (args: { url: string; method?: string; headers?: Record<string, string>; body?: unknown; follow?: boolean }) =>
    call('http', 'send', {
      ...args,
      body: args.body === undefined || args.body === null ? undefined : Buffer.from(args.body as string).toString('base64'),
    })

  class Headers {
    private map: Record<string, string[]> = {}
    constructor(pairs: [string, string][] = []) {
      for (const [k, v] of pairs) (this.map[k.toLowerCase()] ??= []).push(v)
    }
    get(name: string) {
      const v = this.map[String(name).toLowerCase()]
      return v ? v.join(', ') : null
    }
    has(name: string) {
      return String(name).toLowerCase() in this.map
    }
    forEach(fn: (value: string, key: string) => void) {
      for (const k of Object.keys(this.map)) fn(this.get(k)!, k)
    }
    entries() {
      return Object.keys(this.map).map((k) => [k, this.get(k)!])
    }
  }
  class Response {
    readonly ok: boolean
    readonly headers: Headers
    private used = false
    constructor(
      readonly status: number,
      readonly statusText: string,
      readonly url: string,
      pairs: [string, string][],
      private readonly bytes: any,
    ) {
      this.ok = status >= 200 && status < 300
      this.headers = new Headers(pairs)
    }
    private consume() {
      if (this.used) return Promise.reject(new TypeError('Body has already been consumed'))
      this.used = true
      return Promise.resolve(this.bytes)
    }
    text() {
      return this.consume().then((b: any) => b.toString('utf8'))
    }
    json() {
      return this.text().then((t: string) => JSON.parse(t))
    }
    arrayBuffer() {
      return this.consume().then((b: any) => b.buffer.slice(b.byteOffset, b.byteOffset + b.length))
    }
  }

  function fetch(input: unknown, init: any = {}) {
    const url = typeof input === 'string' ? input : String((input as any)?.url ?? input)
    let body = init.body
    if (body !== undefined && body !== null && typeof body !== 'string' && !(body instanceof Uint8Array)) body = String(body)
    return send({ url, method: init.method ?? 'GET', headers: lowerHeaders(init.headers), body, follow: init.redirect !== 'manual' }).then(
      (r: any) => new Response(r.status, r.statusText, r.url, r.headers, Buffer.from(r.body, 'base64')),
    )
  }

  /** The `request` package's common surface: options or a URL, and `(err, response, body)`. */
  function request(options: unknown, callback?: unknown): void {
    const o: any = typeof options === 'string' ? { url: options } : { ...(options as object) }
    const headers = lowerHeaders(o.headers)
    let body: unknown = o.body
    if (o.auth) {
      if (o.auth.bearer) headers['authorization'] = `Bearer ${o.auth.bearer}`
      else
        headers['authorization'] =
          `Basic ${Buffer.from(`${o.auth.user ?? o.auth.username ?? ''}:${o.auth.pass ?? o.auth.password ?? ''}`).toString('base64')}`
    }
    if (o.form !== undefined) {
      body =
        typeof o.form === 'string'
          ? o.form
          : Object.entries(o.form)
              .map(([k, v]) => `${encodeURIComponent(k)}=${encodeURIComponent(String(v))}`)
              .join('&')
      headers['content-type'] ??= 'application/x-www-form-urlencoded'
    } else if (o.json !== undefined && o.json !== true && o.json !== false) {
      body = JSON.stringify(o.json)
      headers['content-type'] ??= 'application/json'
    }
    if (o.json) headers['accept'] ??= 'application/json'
    let url = String(o.url ?? o.uri)
    if (o.qs && typeof o.qs === 'object') {
      const query = Object.entries(o.qs)
        .map(([k, v]) => `${encodeURIComponent(k)}=${encodeURIComponent(String(v))}`)
        .join('&')
      if (query) url += (url.includes('?') ? '&' : '?') + query
    }
    const method = String(o.method ?? 'GET').toUpperCase()
    const promise = send({ url, method, headers, body, follow: o.followRedirect ?? method === 'GET' }).then((r: any) => {
      let text: unknown = Buffer.from(r.body, 'base64').toString('utf8')
      if (o.json) {
        try {
          text = JSON.parse(text as string)
        } catch {
          /* not JSON: the body stays text, as request does */
        }
      }
      const responseHeaders: Record<string, string> = {}
      for (const [k, v] of r.headers as [string, string][])
        responseHeaders[k] = responseHeaders[k] === undefined ? v : `${responseHeaders[k]}, ${v}`
      return [{ statusCode: r.status, statusMessage: r.statusText, headers: responseHeaders, body: text }, text]
    })
    if (typeof callback === 'function')
      promise.then(
        ([res, b]: any) => invoke(callback, null, res, b),
        (e: unknown) => invoke(callback, e),
      )
  }
  request.get = (o: any, cb?: unknown) => request(typeof o === 'string' ? { url: o, method: 'GET' } : { ...o, method: 'GET' }, cb)
  request.post = (o: any, cb?: unknown) => request(typeof o === 'string' ? { url: o, method: 'POST' } : { ...o, method: 'POST' }, cb)
  request.put = (o: any, cb?: unknown) => request(typeof o === 'string' ? { url: o, method: 'PUT' } : { ...o, method: 'PUT' }, cb)
  request.patch = (o: any, cb?: unknown) => request(typeof o === 'string' ? { url: o, method: 'PATCH' } : { ...o, method: 'PATCH' }, cb)
  request.del = request.delete = (o: any, cb?: unknown) =>
    request(typeof o === 'string' ? { url: o, method: 'DELETE' } : { ...o, method: 'DELETE' }, cb)
  return { fetch, request, Headers, Response }
}

export const HTTP_MODULE_SOURCE = `(${httpModule.toString()})`
