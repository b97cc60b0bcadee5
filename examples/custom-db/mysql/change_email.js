// @ts-check
/// <reference types="@latchkey/sandbox/script-globals" />
/**
 * @param {string} email
 * @param {string} newEmail
 * @param {boolean} verified
 * @param {ChangeEmailCallback} callback
 */
function changeEmail(email, newEmail, verified, callback) {
  const mysql = require('mysql');

  const connection = mysql.createConnection({
    host: configuration.DB_HOST,
    port: configuration.DB_PORT,
    user: configuration.DB_USER,
    password: configuration.DB_PASSWORD,
    database: configuration.DB_NAME,
  });
  connection.connect();

  const table = configuration.USERS_TABLE || 'users';
  const query = 'UPDATE ' + table + ' SET email = ?, email_verified = ? WHERE email = ?';
  connection.query(query, [newEmail, verified ? 1 : 0, email], function (err, results) {
    if (err) return callback(err);
    callback(null, results.affectedRows > 0);
  });
}
