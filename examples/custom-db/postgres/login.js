// @ts-check
/// <reference types="@latchkey/sandbox/script-globals" />
/**
 * @param {string} identifier
 * @param {string} password
 * @param {LoginCallback} callback
 */
function login(identifier, password, callback) {
  const bcrypt = require('bcrypt');
  const postgres = require('pg');

  postgres.connect(configuration.DB_URL, function (err, client, done) {
    if (err) return callback(err);
    const table = configuration.USERS_TABLE || 'users';
    const query = 'SELECT id, email, username, name, email_verified, password FROM ' + table + ' WHERE email = $1 OR username = $1';
    client.query(query, [identifier], function (err, result) {
      done();
      if (err || result.rows.length === 0) return callback(err || new WrongUsernameOrPasswordError(identifier));
      const user = result.rows[0];

      bcrypt.compare(password, user.password, function (err, isValid) {
        if (err || !isValid) return callback(err || new WrongUsernameOrPasswordError(identifier));
        callback(null, {
          user_id: user.id,
          email: user.email,
          username: user.username,
          name: user.name,
          email_verified: user.email_verified,
        });
      });
    });
  });
}
