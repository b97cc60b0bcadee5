// @ts-check
/// <reference types="@latchkey/sandbox/script-globals" />
/**
 * @param {string} identifier
 * @param {GetUserCallback} callback
 */
function getByEmail(identifier, callback) {
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
  const query = 'SELECT id, email, username, nickname, email_verified FROM ' + table + ' WHERE email = ? OR username = ?';
  connection.query(query, [identifier, identifier], function (err, results) {
    if (err) return callback(err);
    if (results.length === 0) return callback(null);
    const user = results[0];
    callback(null, {
      user_id: user.id.toString(),
      email: user.email,
      username: user.username,
      nickname: user.nickname,
      email_verified: !!user.email_verified,
    });
  });
}
