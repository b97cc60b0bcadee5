// @ts-check
/// <reference types="@latchkey/sandbox/script-globals" />
/**
 * The legacy lookup, by email or username (the migrating connection asks it at signup, for a
 * password reset of a user not yet moved over, and for getUser).
 * @param {string} identifier
 * @param {GetUserCallback} callback
 */
function getUser(identifier, callback) {
  const mysql = require('mysql');

  const connection = mysql.createConnection({
    host: configuration.DB_HOST,
    port: configuration.DB_PORT,
    user: configuration.DB_USER,
    password: configuration.DB_PASSWORD,
    database: configuration.DB_NAME,
  });
  connection.connect();

  const query = 'SELECT id, email, username, name, email_verified FROM ' + configuration.USERS_TABLE + ' WHERE email = ? OR username = ?';
  connection.query(query, [identifier, identifier], function (err, rows) {
    if (err) return callback(err);
    if (rows.length === 0) return callback(null);
    const user = rows[0];
    callback(null, {
      user_id: String(user.id),
      email: user.email,
      username: user.username,
      name: user.name,
      email_verified: !!user.email_verified,
    });
  });
}
