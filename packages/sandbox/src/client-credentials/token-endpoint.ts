import { z } from 'zod'
import { HttpBridge } from '../bridges/http-bridge.js'
import { RunResources } from '../bridges/run-resources.js'
import { EgressPolicy } from '../egress/egress-policy.js'
import { redact } from '../redact.js'
import type { TokenGrant } from './token-grant.js'
import type { TokenRequest } from './token-request.js'

/** How long one token request may take; it belongs to the cache, not to any run. */
export const TOKEN_REQUEST_TIMEOUT_MS = 10_000

const successSchema = z.object({
  access_token: z
    .string()
    .min(1)
    .max(16 * 1024),
  token_type: z.string().regex(/^bearer$/i, 'token_type must be Bearer'),
  expires_in: z
    .union([
      z.number(),
      z
        .string()
        .regex(/^\d{1,9}$/)
        .transform(Number),
    ])
    .pipe(
      z
        .number()
        .int()
        .positive()
        .max(10 * 365 * 86_400),
    )
    .optional(),
})
const errorCode = /^[\x20\x21\x23-\x5b\x5d-\x7e]{1,64}$/

/**
 * POSTs the client-credentials grant (RFC 6749 §4.4) to the token endpoint, with
 * `client_secret_basic` authentication and the audience as RFC 8707 `resource` (or
 * `audience`). The URL goes through the connection's egress allow-list like any request a
 * script makes, and a redirect is never followed: it would carry the secret elsewhere.
 * Closing `resources` aborts the request.
 */
export async function requestToken(request: TokenRequest, egress: readonly string[], resources = new RunResources()): Promise<TokenGrant> {
  const http = new HttpBridge(new EgressPolicy(egress), resources, Date.now() + TOKEN_REQUEST_TIMEOUT_MS)
  // RFC 6749 §2.3.1: id and secret are form-urlencoded before they are joined.
  const basic = Buffer.from(`${formEncode(request.clientId)}:${formEncode(request.clientSecret)}`).toString('base64')
  const form = new URLSearchParams({ grant_type: 'client_credentials', [request.audienceParam ?? 'resource']: request.audience })
  if (request.scope.length > 0) form.set('scope', request.scope.join(' '))
  let response
  try {
    response = await http.send({
      url: request.tokenUrl,
      method: 'POST',
      headers: { authorization: `Basic ${basic}`, 'content-type': 'application/x-www-form-urlencoded', accept: 'application/json' },
      body: Buffer.from(form.toString()).toString('base64'),
      follow: false,
    })
  } catch (error) {
    if (error instanceof Error && error.name === 'EgressDeniedError') throw error
    const why = error instanceof Error ? error.message : String(error)
    throw new Error(`the token endpoint could not be reached: ${redact(why, [request.clientSecret])}`)
  } finally {
    await resources.closeAll()
  }
  const text = Buffer.from(response.body, 'base64').toString('utf8')
  const status = response.status
  if (status >= 300 && status < 400) {
    return refused('token_endpoint_redirect', `the token endpoint answered ${status} with a redirect, which is never followed`, status)
  }
  let json: unknown
  try {
    json = JSON.parse(text)
  } catch {
    return refused('invalid_token_response', `the token endpoint answered ${status} without JSON`, status)
  }
  if (status < 200 || status >= 300) {
    const body = (json ?? {}) as { error?: unknown; error_description?: unknown }
    const code = typeof body.error === 'string' && errorCode.test(body.error) ? body.error : 'token_endpoint_error'
    const described = typeof body.error_description === 'string' ? `: ${printable(body.error_description)}` : ''
    return refused(code, redact(`the token endpoint refused the grant (${status} ${code})${described}`, [request.clientSecret]), status)
  }
  const parsed = successSchema.safeParse(json)
  if (!parsed.success) {
    return refused(
      'invalid_token_response',
      `the token endpoint's answer is not a bearer token response (${parsed.error.issues[0]?.path.join('.') || 'body'})`,
      status,
    )
  }
  return { ok: true, accessToken: parsed.data.access_token, expiresIn: parsed.data.expires_in ?? null }
}

function refused(error: string, message: string, status: number): TokenGrant {
  return { ok: false, error, message, status }
}

function formEncode(text: string): string {
  return new URLSearchParams({ x: text }).toString().slice(2)
}

function printable(text: string): string {
  return text.replace(/[^\x20-\x7e]/g, '?').slice(0, 300)
}
