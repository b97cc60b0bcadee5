// @ts-check
/// <reference types="@latchkey/sandbox/script-globals" />
/**
 * @param {string} email
 * @param {string} newPassword
 * @param {ChangePasswordCallback} callback
 */
function changePassword(email, newPassword, callback) {
  const mysql = require('mysql');
  const bcrypt = require('bcrypt');

  const connection = mysql.createConnection({
    host: configuration.DB_HOST,
    port: configuration.DB_PORT,
    user: configuration.DB_USER,
    password: configuration.DB_PASSWORD,
    database: configuration.DB_NAME,
  });
  connection.connect();

  const table = configuration.USERS_TABLE || 'users';
  bcrypt.hash(newPassword, 10, function (err, hash) {
    if (err) return callback(err);
    connection.query('UPDATE ' + table + ' SET password = ? WHERE email = ?', [hash, email], function (err, results) {
      if (err) return callback(err);
      callback(null, results.affectedRows > 0);
    });
  });
}
