// @ts-check
/// <reference types="@latchkey/sandbox/script-globals" />
/**
 * @param {string} identifier
 * @param {GetUserCallback} callback
 */
function getByEmail(identifier, callback) {
  const postgres = require('pg');

  postgres.connect(configuration.DB_URL, function (err, client, done) {
    if (err) return callback(err);
    const table = configuration.USERS_TABLE || 'users';
    const query = 'SELECT id, email, username, name, email_verified FROM ' + table + ' WHERE email = $1 OR username = $1';
    client.query(query, [identifier], function (err, result) {
      done();
      if (err) return callback(err);
      if (result.rows.length === 0) return callback(null);
      const user = result.rows[0];
      callback(null, {
        user_id: user.id,
        email: user.email,
        username: user.username,
        name: user.name,
        email_verified: user.email_verified,
      });
    });
  });
}
