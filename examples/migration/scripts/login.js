// @ts-check
/// <reference types="@latchkey/sandbox/script-globals" />
/**
 * The legacy login: one row by email or username, then one call to
 * require('@latchkey/password-hash') whatever the row's format (bcrypt, phpass, or a salted
 * SHA-1 with its salt in its own column), on the host's hash pool.
 * @param {string} identifier
 * @param {string} password
 * @param {LoginCallback} callback
 */
function login(identifier, password, callback) {
  const mysql = require('mysql');
  const { verify } = require('@latchkey/password-hash');

  // One connection string, kept in configuration and so redacted from every log as a whole.
  const connection = mysql.createConnection(configuration.DB_URL);
  connection.connect();

  const query =
    'SELECT id, email, username, name, email_verified, password_hash, salt FROM ' +
    configuration.USERS_TABLE +
    ' WHERE email = ? OR username = ?';
  connection.query(query, [identifier, identifier], function (err, rows) {
    if (err) return callback(err);
    if (rows.length === 0) return callback(new WrongUsernameOrPasswordError(identifier));
    const user = rows[0];
    // A self-describing hash goes as it is; the salted SHA-1 says how it was made.
    const stored = user.salt
      ? {
          algorithm: 'sha1',
          hash: { value: user.password_hash, encoding: /** @type {const} */ ('hex') },
          salt: { value: user.salt, position: /** @type {const} */ ('suffix') },
        }
      : user.password_hash;
    verify(password, stored, function (err, matches) {
      if (err || !matches) return callback(err || new WrongUsernameOrPasswordError(identifier));
      // The rest of the row is the profile (`id` is an alias of user_id).
      const { password_hash, salt, ...profile } = user;
      callback(null, { ...profile, email_verified: !!profile.email_verified });
    });
  });
}
