/** What the host answers a script's `getAccessToken`: a token, or the server's refusal. */
export type TokenGrant =
  | { ok: true; accessToken: string; expiresIn: number | null }
  | { ok: false; error: string; message: string; status: number }
