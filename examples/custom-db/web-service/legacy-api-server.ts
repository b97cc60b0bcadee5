// A stand-in for a legacy user API with Basic Auth, for the web-service templates' demo
// and tests. Users live in memory; passwords are bcrypt hashes. Listens on 127.0.0.1.
import http from 'node:http'
import type { AddressInfo } from 'node:net'
import bcrypt from 'bcryptjs'

interface LegacyUser {
  id: number
  email: string
  username: string | null
  password: string
  email_verified: boolean
}

export async function startLegacyApi(opts: { user: string; password: string; bcryptCost?: number }) {
  const users = new Map<number, LegacyUser>()
  let nextId = 1
  const cost = opts.bcryptCost ?? 10
  const expected = `Basic ${Buffer.from(`${opts.user}:${opts.password}`).toString('base64')}`
  const find = (identifier: string) => [...users.values()].find((u) => u.email === identifier || u.username === identifier)
  const profile = (u: LegacyUser) => ({ id: u.id, email: u.email, username: u.username, email_verified: u.email_verified })

  const server = http.createServer(async (req, res) => {
    const send = (status: number, body?: unknown) => {
      res.writeHead(status, { 'content-type': 'application/json' })
      res.end(body === undefined ? '' : JSON.stringify(body))
    }
    if (req.headers.authorization !== expected) return send(401, { error: 'unauthorized' })
    let raw = ''
    for await (const chunk of req) raw += chunk
    const body = raw ? (JSON.parse(raw) as Record<string, string>) : {}
    const url = new URL(req.url ?? '/', 'http://legacy')
    const route = `${req.method} ${url.pathname}`
    if (route === 'POST /login') {
      const user = find(body['identifier']!)
      if (!user || !(await bcrypt.compare(body['password']!, user.password))) return send(401, { error: 'invalid credentials' })
      return send(200, profile(user))
    }
    if (route === 'GET /users') {
      const user = find(url.searchParams.get('identifier') ?? '')
      return user ? send(200, profile(user)) : send(404, { error: 'not found' })
    }
    if (route === 'POST /users') {
      if (find(body['email']!) || (body['username'] && find(body['username']))) return send(409, { error: 'user exists' })
      const user = {
        id: nextId++,
        email: body['email']!,
        username: body['username'] ?? null,
        password: await bcrypt.hash(body['password']!, cost),
        email_verified: false,
      }
      users.set(user.id, user)
      return send(201, profile(user))
    }
    const byEmail = find(body['email'] ?? '')
    if (route === 'POST /users/verify') {
      if (!byEmail) return send(404, { error: 'not found' })
      byEmail.email_verified = true
      return send(204)
    }
    if (route === 'POST /users/password') {
      if (!byEmail) return send(404, { error: 'not found' })
      byEmail.password = await bcrypt.hash(body['password']!, cost)
      return send(204)
    }
    if (route === 'POST /users/email') {
      if (!byEmail) return send(404, { error: 'not found' })
      byEmail.email = body['new_email']!
      byEmail.email_verified = Boolean(body['verified'])
      return send(204)
    }
    const remove = /^DELETE \/users\/(\d+)$/.exec(route)
    if (remove) {
      users.delete(Number(remove[1]))
      return send(204)
    }
    return send(404, { error: 'no such route' })
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const port = (server.address() as AddressInfo).port
  return {
    url: `http://127.0.0.1:${port}`,
    port,
    users,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  }
}
