import http from 'node:http'
import net from 'node:net'
import express from 'express'
import Fastify from 'fastify'
import { Hono } from 'hono'
import { serve } from '@hono/node-server'
import { toNodeHandler, type LatchkeyHandler } from '@latchkey/http'
import { latchkeyFastify } from '@latchkey/http/fastify'
import { latchkeyHono } from '@latchkey/http/hono'

export const HTTP_ADAPTERS = ['node', 'express', 'fastify', 'hono'] as const
export type HttpAdapter = (typeof HTTP_ADAPTERS)[number]

/** What every app answers on a path of its own, to show that other routes fall through. */
export const APP_PATH = '/app/hello'

export interface RunningApp {
  url: string
  close(): Promise<void>
}

/**
 * The handler mounted in a real server of `adapter` on 127.0.0.1, next to one route of
 * the app's own (except bare node:http, where the handler is the whole server).
 */
export async function serveHandler(adapter: HttpAdapter, handler: LatchkeyHandler): Promise<RunningApp> {
  switch (adapter) {
    case 'node':
      return listen(http.createServer(toNodeHandler(handler)))
    case 'express': {
      const app = express()
      app.use(toNodeHandler(handler))
      app.get(APP_PATH, (_req, res) => {
        res.send('app')
      })
      return listen(http.createServer(app))
    }
    case 'fastify': {
      const app = Fastify()
      await app.register(latchkeyFastify, { handler })
      app.get(APP_PATH, async () => 'app')
      await app.listen({ port: 0, host: '127.0.0.1' })
      const { port } = app.server.address() as net.AddressInfo
      return { url: `http://127.0.0.1:${port}`, close: () => app.close() }
    }
    case 'hono': {
      const app = new Hono()
      app.use(latchkeyHono(handler))
      app.get(APP_PATH, (c) => c.text('app'))
      const server = await new Promise<http.Server>((resolve) => {
        const s = serve({ fetch: app.fetch, port: 0, hostname: '127.0.0.1' }, () => resolve(s as http.Server))
      })
      return closable(server)
    }
  }
}

async function listen(server: http.Server): Promise<RunningApp> {
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  return closable(server)
}

function closable(server: http.Server): RunningApp {
  const { port } = server.address() as net.AddressInfo
  return {
    url: `http://127.0.0.1:${port}`,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections()
        server.close(() => resolve())
      }),
  }
}

/**
 * A TCP relay to a database server that can be cut: the store behind it then meets a
 * refused connection, as when its server is down.
 */
export async function tcpRelay(targetPort: number) {
  const sockets = new Set<net.Socket>()
  const server = net.createServer((client) => {
    const upstream = net.connect(targetPort, '127.0.0.1')
    for (const s of [client, upstream]) {
      sockets.add(s)
      s.on('close', () => sockets.delete(s))
      s.on('error', () => s.destroy()) // a cut relay resets both ends; the store sees it as a failure
    }
    client.pipe(upstream).pipe(client)
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  return {
    port: (server.address() as net.AddressInfo).port,
    async cut() {
      await new Promise<void>((resolve) => {
        server.close(() => resolve())
        for (const s of sockets) s.destroy()
      })
    },
  }
}
