// @ts-check
/// <reference types="@latchkey/sandbox/script-globals" />
/**
 * @param {string} email
 * @param {string} newPassword
 * @param {ChangePasswordCallback} callback
 */
function changePassword(email, newPassword, callback) {
  const bcrypt = require('bcrypt');
  const postgres = require('pg');

  postgres.connect(configuration.DB_URL, function (err, client, done) {
    if (err) return callback(err);
    bcrypt.hash(newPassword, 10, function (err, hash) {
      if (err) return callback(err);
      const table = configuration.USERS_TABLE || 'users';
      client.query('UPDATE ' + table + ' SET password = $1 WHERE email = $2', [hash, email], function (err, result) {
        done();
        if (err) return callback(err);
        callback(null, result.rowCount > 0);
      });
    });
  });
}
