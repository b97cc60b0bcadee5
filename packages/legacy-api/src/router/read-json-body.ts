import type { IncomingMessage } from 'node:http'

/** Largest request body the router reads: its bodies are an identifier and a password or two. */
export const MAX_BODY_BYTES = 16 * 1024

export class BodyError extends Error {
  constructor(
    readonly status: 400 | 413 | 415,
    readonly error: string,
    message: string,
  ) {
    super(message)
    this.name = 'BodyError'
  }
}

/**
 * The request's JSON body. A body an upstream parser already read (Express's `json()`)
 * is taken as it is; otherwise the stream is read here, up to {@link MAX_BODY_BYTES}.
 */
export async function readJsonBody(req: IncomingMessage): Promise<unknown> {
  const parsed = (req as IncomingMessage & { body?: unknown }).body
  if (parsed !== undefined && typeof parsed === 'object' && !Buffer.isBuffer(parsed)) return parsed
  const type = String(req.headers['content-type'] ?? '')
    .split(';')[0]!
    .trim()
    .toLowerCase()
  if (type !== 'application/json') throw new BodyError(415, 'unsupported_media_type', 'Send the body as application/json')
  const chunks: Buffer[] = []
  let size = 0
  for await (const chunk of req) {
    size += (chunk as Buffer).length
    if (size > MAX_BODY_BYTES) throw new BodyError(413, 'payload_too_large', `The body is over ${MAX_BODY_BYTES} bytes`)
    chunks.push(chunk as Buffer)
  }
  try {
    return JSON.parse(Buffer.concat(chunks).toString('utf8'))
  } catch {
    throw new BodyError(400, 'invalid_request', 'The body is not valid JSON')
  }
}
