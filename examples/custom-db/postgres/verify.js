// @ts-check
/// <reference types="@latchkey/sandbox/script-globals" />
/**
 * @param {string} email
 * @param {VerifyCallback} callback
 */
function verify(email, callback) {
  const postgres = require('pg');

  postgres.connect(configuration.DB_URL, function (err, client, done) {
    if (err) return callback(err);
    const table = configuration.USERS_TABLE || 'users';
    client.query('UPDATE ' + table + ' SET email_verified = true WHERE email = $1', [email], function (err, result) {
      done();
      if (err) return callback(err);
      callback(null, result.rowCount > 0);
    });
  });
}
