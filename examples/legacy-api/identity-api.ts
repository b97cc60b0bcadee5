// The least-privilege legacy identity API (SPEC §5): three endpoints over the legacy
// database, behind an IP allow-list and an access-token check. Listens on 127.0.0.1.
import http from 'node:http'
import type { AddressInfo, Socket } from 'node:net'
import bcrypt from 'bcryptjs'
import { createLegacyIdentityRouter, ipAllowList, requireAccessToken, type LegacyUser, type Middleware } from '@latchkey/legacy-api'
import type { LegacyDatabase, LegacyRow } from './legacy-database.js'

export interface IdentityApiOptions {
  db: LegacyDatabase
  /** The authorization server whose tokens are accepted, and this API's audience. */
  issuer: string
  audience: string
  /** The only clients whose tokens are accepted: the one latchkey's scripts use. */
  allowedClients: string[]
  /** Addresses that may call at all; never the only protection. */
  allow: string[]
  onError?: (error: Error) => void
}

/** The profile the API answers: the row's identity fields, never its `password` column. */
function profile(row: LegacyRow): LegacyUser {
  return {
    user_id: row.id,
    email: row.email,
    email_verified: row.email_verified === 1,
    ...(row.username ? { username: row.username } : {}),
    ...(row.nickname ? { nickname: row.nickname } : {}),
  }
}

export async function startIdentityApi(opts: IdentityApiOptions) {
  const { db } = opts
  const chain: Middleware[] = [
    ipAllowList(opts.allow),
    requireAccessToken({ issuer: opts.issuer, audience: opts.audience, allowedClients: opts.allowedClients }),
    createLegacyIdentityRouter({
      verifyPassword: async ({ identifier, password }) => {
        const row = await db.findUser(identifier)
        return row && (await bcrypt.compare(password, row.password)) ? profile(row) : null
      },
      getUser: async ({ identifier }) => {
        const row = await db.findUser(identifier)
        return row && profile(row)
      },
      changePassword: ({ identifier, newPassword }) => db.setPassword(identifier, newPassword),
      ...(opts.onError ? { onError: opts.onError } : {}),
    }),
  ]
  const counts = { requests: 0 }
  const server = http.createServer((req, res) => {
    counts.requests += 1
    const step = (i: number) => () => chain[i]?.(req, res, step(i + 1))
    step(0)()
  })
  const sockets = new Set<Socket>()
  server.on('connection', (s) => {
    sockets.add(s)
    s.on('close', () => sockets.delete(s))
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const port = (server.address() as AddressInfo).port
  return {
    port,
    url: `http://127.0.0.1:${port}`,
    get requests() {
      return counts.requests
    },
    async close() {
      for (const s of sockets) s.destroy()
      await new Promise<void>((resolve) => server.close(() => resolve()))
    },
  }
}
