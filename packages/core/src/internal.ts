// @latchkey/core/internal: what latchkey's own packages (adapters, sandbox, http, cli) share
// with core. Not the public API: no compatibility promise, names may change in any release.

export { parseInput } from './input/parse-input.js'
export { bcryptCompare, bcryptCost, bcryptHash, hashPoolStats, scriptHashJob } from './password/hash-pool.js'
export type { HashPoolStats, ScriptHashJob } from './password/hash-pool.js'
export { canonicalIp, normalizeClientIp } from './attack/client-ip.js'
export { normalizeEmail } from './profile/email.js'
export { normalizeUsername } from './profile/username.js'
export { parseScriptProfile } from './connection/script-profile.js'
export { HashRefusal } from './password/legacy/parse-custom-hash.js'
export { parseStoredHash, storedHashSchema } from './password/legacy/parse-stored-hash.js'
export type { StoredHash } from './password/legacy/parse-stored-hash.js'
export { MAX_PASSWORD_INPUT } from './password/password-text.js'
export { newUserId } from './connection/new-user-id.js'
