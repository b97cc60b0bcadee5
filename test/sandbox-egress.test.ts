// fetch and request against a real HTTP server on 127.0.0.1, behind the egress allow-list.
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { closeHashPool, EgressDeniedError, ScriptError, ScriptTimeoutError } from '@latchkey/core'
import { QuickJsRunner } from '@latchkey/sandbox'
import { eventually, httpServer, tcpCounter } from './support/servers.js'

const runner = new QuickJsRunner({ timeoutMs: 1500, workers: 2 })
let api: Awaited<ReturnType<typeof httpServer>>
let allow: { egress: { allow: string[] } }

beforeAll(async () => {
  api = await httpServer((req, res) => {
    let body = ''
    req.on('data', (c) => {
      body += c
    })
    req.on('end', () => {
      if (req.url === '/to-metadata') {
        res.writeHead(302, { location: 'http://169.254.169.254/latest/meta-data/' })
        res.end()
        return
      }
      if (req.url === '/to-self') {
        res.writeHead(307, { location: '/echo' })
        res.end()
        return
      }
      if (req.url === '/slow') {
        res.write('')
        return
      } // headers never finish: a slow loris
      if (req.url === '/huge') {
        res.writeHead(200, { 'content-type': 'application/octet-stream' })
        const chunk = Buffer.alloc(1024 * 1024, 120)
        let sent = 0
        const pump = () => {
          while (sent < 100 && res.write(chunk)) sent++
          if (sent >= 100) res.end()
          else
            res.once('drain', () => {
              sent++
              pump()
            })
        }
        pump()
        return
      }
      res.setHeader('content-type', 'application/json')
      res.end(
        JSON.stringify({
          method: req.method,
          url: req.url,
          auth: req.headers.authorization ?? null,
          type: req.headers['content-type'] ?? null,
          body,
        }),
      )
    })
  })
  allow = { egress: { allow: [`127.0.0.1:${api.port}`] } }
  // A fresh runner's first run also starts its workers and loads undici: not what the
  // 1.5 s deadlines below are about, so it runs first with a generous one.
  await runner.run('async function f(base) { return (await fetch(base + "/echo")).status }', [api.url], { ...allow, timeoutMs: 30_000 })
})
afterAll(async () => {
  await runner.close()
  await api.close()
  await closeHashPool()
})

// Scripts written the way custom-DB scripts are: require at the top, callback style.
const REQUEST_LOGIN = `const request = require('request')
function login(email, password, callback) {
  request.post({ url: configuration.API + '/login', json: { email: email }, auth: { user: email, pass: password } }, function (err, response, body) {
    if (err) return callback(err)
    if (response.statusCode === 401) return callback(new WrongUsernameOrPasswordError(email))
    callback(null, { user_id: 'u1', email: email, echoed: body })
  })
}`

describe('request and fetch reach an allowed host', () => {
  it('request.post with json and auth', async () => {
    const { value } = await runner.run(REQUEST_LOGIN, ['ada@example.com', 'pw'], { ...allow, configuration: { API: api.url } })
    expect(value).toMatchObject({
      user_id: 'u1',
      echoed: {
        method: 'POST',
        url: '/login',
        auth: `Basic ${Buffer.from('ada@example.com:pw').toString('base64')}`,
        type: 'application/json',
        body: '{"email":"ada@example.com"}',
      },
    })
  })
  it('request.get with form, qs and headers', async () => {
    const source = `const request = require('request')
    function getUser(email, callback) {
      request({ url: configuration.API + '/users', method: 'POST', form: { email: email, a: 'b c' }, headers: { 'X-Key': 'k' } }, function (err, res, body) {
        if (err) return callback(err)
        request.get({ url: configuration.API + '/q', qs: { email: email }, json: true }, function (err2, res2, body2) {
          callback(err2, { form: JSON.parse(body), query: body2.url, status: res2.statusCode })
        })
      })
    }`
    const { value } = await runner.run(source, ['ada@example.com'], { ...allow, configuration: { API: api.url } })
    expect(value).toEqual({
      form: {
        method: 'POST',
        url: '/users',
        auth: null,
        type: 'application/x-www-form-urlencoded',
        body: 'email=ada%40example.com&a=b%20c',
      },
      query: '/q?email=ada%40example.com',
      status: 200,
    })
  })
  it('fetch, WHATWG-shaped, following an allowed redirect', async () => {
    const source = `async function getUser(base) {
      const res = await fetch(base + '/to-self', { method: 'POST', body: JSON.stringify({ a: 1 }), headers: { 'content-type': 'application/json' } })
      return { ok: res.ok, status: res.status, type: res.headers.get('content-type'), data: await res.json() }
    }`
    const { value } = await runner.run(source, [api.url], allow)
    expect(value).toEqual({
      ok: true,
      status: 200,
      type: 'application/json',
      data: { method: 'POST', url: '/echo', auth: null, type: 'application/json', body: '{"a":1}' },
    })
  })
})

describe('egress denials', () => {
  const denied = async (source: string, args: unknown[], egress = allow) => {
    const error = await runner.run(source, args, egress).then(
      () => null,
      (e: unknown) => e,
    )
    expect(error).toBeInstanceOf(EgressDeniedError)
    expect((error as EgressDeniedError).code).toBe('egress_denied')
    return error as EgressDeniedError
  }
  const FETCH = 'async function f(url) { const r = await fetch(url); return r.status }'

  it('refuses an unlisted host, without even a DNS lookup', async () => {
    const error = await denied(FETCH, ['http://unlisted.example.invalid/'])
    expect(error.message).toContain('unlisted.example.invalid')
    expect(error.message).not.toMatch(/ENOTFOUND|resolve/)
  })
  it('refuses a listed hostname that resolves to a loopback address, before any TCP connect', async () => {
    const counter = await tcpCounter()
    await denied(FETCH, [`http://localhost:${counter.port}/`], { egress: { allow: [`localhost:${counter.port}`] } })
    expect(counter.connections).toBe(0)
    await counter.close()
  })
  it('refuses the metadata address, also in its IPv4-mapped IPv6 form', async () => {
    await denied(FETCH, ['http://169.254.169.254/latest/meta-data/'])
    await denied(FETCH, ['http://[::ffff:169.254.169.254]/latest/meta-data/'])
    await denied(FETCH, ['http://[::ffff:a9fe:a9fe]/'])
  })
  it('refuses an unlisted port on 127.0.0.1, before any TCP connect', async () => {
    const counter = await tcpCounter()
    await denied(FETCH, [`http://127.0.0.1:${counter.port}/`])
    expect(counter.connections).toBe(0)
    await counter.close()
  })
  it('re-checks every redirect hop', async () => {
    await denied(FETCH, [`${api.url}/to-metadata`])
  })
  it('allows nothing by default', async () => {
    await denied(FETCH, [`${api.url}/echo`], { egress: { allow: [] } })
    await expect(runner.run(FETCH, [`${api.url}/echo`])).rejects.toBeInstanceOf(EgressDeniedError)
  })
  it('applies to request too', async () => {
    await denied(
      "const request = require('request'); function f(url, cb) { request(url, function (err, res) { cb(err, res && res.statusCode) }) }",
      ['http://169.254.169.254/'],
    )
  })
})

describe('hostile servers', () => {
  it('a slow-loris server ends in a timeout at the deadline, and its socket is closed', async () => {
    const started = Date.now()
    const before = api.connections
    const error = await runner.run(FETCH_SLOW, [api.url], { ...allow, timeoutMs: 800 }).catch((e: unknown) => e)
    expect(Date.now() - started).toBeLessThan(800 + 1000)
    expect(error).toBeInstanceOf(ScriptTimeoutError)
    expect((error as Error).message).toMatch(/while awaiting http\.send/)
    expect(api.connections).toBeGreaterThan(before)
    await eventually(() => api.openSockets === 0)
  })
  it('a 100 MB response is cut off at the size cap', async () => {
    const started = Date.now()
    const error = await runner
      .run('async function f(base) { const r = await fetch(base + "/huge"); return (await r.text()).length }', [api.url], allow)
      .catch((e: unknown) => e)
    expect(error).toBeInstanceOf(ScriptError)
    expect((error as Error).message).toMatch(/larger than 10485760 bytes/)
    expect(Date.now() - started).toBeLessThan(2500)
  })
  it('keep-alive sockets a run leaves open are closed when it ends', async () => {
    await runner.run('async function f(base) { await (await fetch(base + "/echo")).text(); return 1 }', [api.url], allow)
    await eventually(() => api.openSockets === 0)
  })
})

const FETCH_SLOW = 'async function f(base) { const r = await fetch(base + "/slow"); return r.status }'
