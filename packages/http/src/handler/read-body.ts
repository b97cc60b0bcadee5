/** A request body over the cap. */
export class BodyTooLargeError extends Error {}

/**
 * Reads a request body as text, refusing one over `limit` bytes: at once when
 * Content-Length says so, otherwise as soon as the stream passes the limit, without
 * reading the rest.
 */
export async function readBody(request: Request, limit: number): Promise<string> {
  const declared = Number(request.headers.get('content-length') ?? NaN)
  if (Number.isFinite(declared) && declared > limit) throw new BodyTooLargeError()
  if (request.body === null) return ''
  const reader = request.body.getReader()
  const chunks: Uint8Array[] = []
  let size = 0
  for (;;) {
    const { done, value } = await reader.read()
    if (done) break
    size += value.byteLength
    if (size > limit) {
      await reader.cancel().catch(() => undefined) // the stream is being dropped; a cancel failure changes nothing
      throw new BodyTooLargeError()
    }
    chunks.push(value)
  }
  return new TextDecoder().decode(Buffer.concat(chunks))
}
