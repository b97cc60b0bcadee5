/* eslint-disable */
import type { GuestLib } from './guest-lib.js'

/**
 * `require('@latchkey/client-credentials')` for scripts (SPEC §5): an access token by the
 * OAuth 2.0 client-credentials grant, in callback and promise forms. The request, the
 * egress check and the cache all live on the host; the secret and the token are added to
 * the run's redactions. Evaluated inside the sandbox on first `require`; self-contained.
 */
function clientCredentialsModule(lib: GuestLib) {
  const { call, settle } = lib

  /** A grant the token endpoint refused: `code` is its `error` (`invalid_client`, `invalid_target`, …). */
  class ClientCredentialsError extends Error {
    code: string
    status: number
    constructor(code: string, message: string, status: number) {
      super(message)
      this.name = 'ClientCredentialsError'
      this.code = code
      this.status = status
    }
  }

  function getAccessToken(options: any, callback?: unknown) {
    const o = options && typeof options === 'object' ? options : {}
    const request: Record<string, unknown> = {}
    for (const k of ['tokenUrl', 'clientId', 'clientSecret', 'audience', 'scope', 'audienceParam', 'forceRefresh']) {
      if (o[k] !== undefined) request[k] = o[k]
    }
    const promise = call('client-credentials', 'token', request).then((grant: any) => {
      if (grant.ok) return grant.accessToken
      throw new ClientCredentialsError(grant.error, grant.message, grant.status)
    })
    return settle(promise, callback)
  }

  return { getAccessToken, ClientCredentialsError }
}

export const CLIENT_CREDENTIALS_MODULE_SOURCE = `(${clientCredentialsModule.toString()})`
