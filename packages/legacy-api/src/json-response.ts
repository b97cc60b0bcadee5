import type { ServerResponse } from 'node:http'

/**
 * Answers with a JSON body. Every refusal of this package goes through here, so no response
 * ever carries a stack trace or an internal message: callers pass only the body they mean.
 */
export function sendJson(res: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}): void {
  if (res.headersSent) {
    res.end()
    return
  }
  const text = JSON.stringify(body)
  res.writeHead(status, {
    ...headers,
    'content-type': 'application/json; charset=utf-8',
    'content-length': String(Buffer.byteLength(text)),
    'cache-control': 'no-store',
  })
  res.end(text)
}
