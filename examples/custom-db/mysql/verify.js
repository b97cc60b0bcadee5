// @ts-check
/// <reference types="@latchkey/sandbox/script-globals" />
/**
 * @param {string} email
 * @param {VerifyCallback} callback
 */
function verify(email, callback) {
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
  connection.query('UPDATE ' + table + ' SET email_verified = 1 WHERE email = ?', [email], function (err, results) {
    if (err) return callback(err);
    callback(null, results.affectedRows > 0);
  });
}
