/** The body kinds a route accepts. */
export type BodyKind = 'json' | 'form'

/** Why a request was refused before any route ran. */
export type Refusal = { status: 403 | 415; error: string; message: string }

/**
 * The body kind of a state-changing request, or why it is refused. A request is accepted
 * only with `Sec-Fetch-Site: same-origin` or an `Origin` on the allow-list; a JSON request
 * carrying neither header is not from a browser (a browser sends `Origin` on every
 * cross-origin POST, and JSON needs a CORS preflight this handler never grants), so it is
 * accepted; a form post carrying neither is refused, as an old browser's cross-site post
 * would look the same. `text/plain` and `multipart/form-data`, the other bodies a
 * cross-site page can post without a preflight, are refused outright.
 */
export function guardRequest(request: Request, allowedOrigins: ReadonlySet<string>): BodyKind | Refusal {
  const type = (request.headers.get('content-type') ?? '').split(';')[0]!.trim().toLowerCase()
  let kind: BodyKind
  if (type === 'application/json') kind = 'json'
  else if (type === 'application/x-www-form-urlencoded') kind = 'form'
  else if (type === 'text/plain' || type === 'multipart/form-data') {
    return { status: 403, error: 'forbidden_content_type', message: 'This content type is not accepted.' }
  } else {
    return { status: 415, error: 'unsupported_media_type', message: 'Send application/json or an HTML form.' }
  }
  const site = request.headers.get('sec-fetch-site')
  const origin = request.headers.get('origin')
  if (site === 'same-origin' || (origin !== null && allowedOrigins.has(origin))) return kind
  if (site === null && origin === null && kind === 'json') return kind
  return { status: 403, error: 'cross_site_refused', message: 'Cross-site requests are refused.' }
}
