// @ts-check
/// <reference types="@latchkey/sandbox/script-globals" />
/// <reference path="./call-legacy-api.d.ts" />
/**
 * @param {string} email
 * @param {string} newPassword
 * @returns {Promise<boolean>}
 */
async function changePassword(email, newPassword) {
  const res = await callLegacyApi('/change-password', { identifier: email, new_password: newPassword });
  if (res.status === 404) return false;
  if (res.status !== 200) throw new Error('The legacy identity API answered ' + res.status);
  return true;
}
