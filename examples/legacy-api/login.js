// @ts-check
/// <reference types="@latchkey/sandbox/script-globals" />
/// <reference path="./call-legacy-api.d.ts" />
/**
 * @param {string} identifier
 * @param {string} password
 * @returns {Promise<LatchkeyScriptProfile>}
 */
async function login(identifier, password) {
  const res = await callLegacyApi('/verify-password', { identifier: identifier, password: password });
  if (res.status === 401) throw new WrongUsernameOrPasswordError(identifier);
  if (res.status !== 200) throw new Error('The legacy identity API answered ' + res.status);
  return (await res.json()).user;
}
