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

  const connection = mysql.createConnection({
    host: configuration.DB_HOST,
    port: configuration.DB_PORT,
    user: configuration.DB_USER,
    password: configuration.DB_PASSWORD,
    database: configuration.DB_NAME,
  });
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
      callback(null, {
        user_id: String(user.id),
        email: user.email,
        username: user.username,
        name: user.name,
        email_verified: !!user.email_verified,
      });
    });
  });
}
