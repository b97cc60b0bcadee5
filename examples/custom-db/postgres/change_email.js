// @ts-check
/// <reference types="@latchkey/sandbox/script-globals" />
/**
 * @param {string} email
 * @param {string} newEmail
 * @param {boolean} verified
 * @param {ChangeEmailCallback} callback
 */
function changeEmail(email, newEmail, verified, callback) {
  const postgres = require('pg');

  postgres.connect(configuration.DB_URL, function (err, client, done) {
    if (err) return callback(err);
    const table = configuration.USERS_TABLE || 'users';
    const query = 'UPDATE ' + table + ' SET email = $1, email_verified = $2 WHERE email = $3';
    client.query(query, [newEmail, verified, email], function (err, result) {
      done();
      if (err) return callback(err);
      callback(null, result.rowCount > 0);
    });
  });
}
