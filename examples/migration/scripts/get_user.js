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

  // One connection string, kept in configuration and so redacted from every log as a whole.
  const connection = mysql.createConnection(configuration.DB_URL);
  connection.connect();

  const query = 'SELECT id, email, username, name, email_verified FROM ' + configuration.USERS_TABLE + ' WHERE email = ? OR username = ?';
  connection.query(query, [identifier, identifier], function (err, rows) {
    if (err) return callback(err);
    if (rows.length === 0) return callback(null);
    // The row is the profile (`id` is an alias of user_id); only the flag needs a boolean.
    callback(null, { ...rows[0], email_verified: !!rows[0].email_verified });
  });
}
