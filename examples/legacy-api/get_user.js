// @ts-check
/// <reference types="@latchkey/sandbox/script-globals" />
/// <reference path="./call-legacy-api.d.ts" />
/**
 * @param {string} identifier
 * @returns {Promise<LatchkeyScriptProfile | null>}
 */
async function getUser(identifier) {
  const res = await callLegacyApi('/get-user', { identifier: identifier });
  if (res.status === 404) return null;
  if (res.status !== 200) throw new Error('The legacy identity API answered ' + res.status);
  return (await res.json()).user;
}
