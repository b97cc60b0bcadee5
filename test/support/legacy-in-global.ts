import type { CustomScripts } from '@latchkey/core'

/**
 * A legacy store that lives in the connection's `global` (a host-owned JSON cache written back after each successful
 * run): real scripts in the real sandbox, with no database to set up. Passwords are kept as typed, as such stores do.
 */
export const legacyInGlobal: CustomScripts = {
  login: `function login(id, password, cb) {
    var users = global.users || {}; var u = users[id];
    if (!u || u.password !== password) return cb();
    cb(null, { user_id: u.id, email: id });
  }`,
  create: `function create(user, cb) {
    global.users = global.users || {};
    if (global.users[user.email]) return cb(new ValidationError('user_exists', 'exists'));
    global.users[user.email] = { id: 'u' + Object.keys(global.users).length, password: user.password };
    cb(null);
  }`,
  get_user: `function get_user(id, cb) {
    var u = (global.users || {})[id];
    cb(null, u ? { user_id: u.id, email: id } : null);
  }`,
  change_password: `function change_password(email, password, cb) {
    var u = (global.users || {})[email];
    if (!u) return cb(null, false);
    u.password = password;
    cb(null, true);
  }`,
}
