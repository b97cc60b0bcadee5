import type { FastifyPluginAsync } from 'fastify'
import type { LatchkeyHandler } from '../index.js'
import { toWebRequest } from './node.js'

/** Options of the Fastify plugin. */
export interface LatchkeyFastifyOptions {
  handler: LatchkeyHandler
}

/**
 * A Fastify plugin that serves the handler's routes; every other path stays Fastify's.
 * The body is left unparsed for the handler, which reads and caps it itself.
 *
 * ```ts
 * await app.register(latchkeyFastify, { handler: createHandler({ connection: users }) })
 * ```
 */
export const latchkeyFastify: FastifyPluginAsync<LatchkeyFastifyOptions> = async (fastify, { handler }) => {
  // Scoped to this plugin: leave the payload stream unread for the handler.
  fastify.removeAllContentTypeParsers()
  fastify.addContentTypeParser('*', (_request, _payload, done) => done(null))
  for (const url of handler.paths) {
    fastify.all(url, async (request, reply) => {
      const response = await handler(toWebRequest(request.raw, request.raw.url ?? url), {
        remoteAddress: request.raw.socket.remoteAddress,
        raw: { request, reply },
      })
      reply.code(response.status)
      response.headers.forEach((value, name) => {
        if (name !== 'set-cookie') void reply.header(name, value)
      })
      const cookies = response.headers.getSetCookie()
      if (cookies.length > 0) void reply.header('set-cookie', cookies)
      return reply.send(Buffer.from(await response.arrayBuffer()))
    })
  }
}
