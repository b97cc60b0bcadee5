// @ts-check
/// <reference types="@latchkey/sandbox/script-globals" />
// Calls the legacy identity API with a client-credentials token (cached by latchkey between
// runs); a 401 for the token itself is retried once with a fresh one.
/**
 * @param {string} path
 * @param {unknown} body
 */
async function callLegacyApi(path, body) {
  const { getAccessToken } = require('@latchkey/client-credentials');
  /** @param {boolean} forceRefresh */
  const send = async (forceRefresh) =>
    fetch(configuration.API_URL + path, {
      method: 'POST',
      headers: {
        'content-type': 'application/json',
        authorization:
          'Bearer ' +
          (await getAccessToken({
            tokenUrl: configuration.TOKEN_URL,
            clientId: configuration.CLIENT_ID,
            clientSecret: configuration.CLIENT_SECRET,
            audience: configuration.API_AUDIENCE,
            forceRefresh: forceRefresh,
          })),
      },
      body: JSON.stringify(body),
    });
  const res = await send(false);
  return res.status === 401 && String(res.headers.get('www-authenticate')).includes('invalid_token') ? send(true) : res;
}
