// @ts-check
/// <reference types="@latchkey/sandbox/script-globals" />
/**
 * @param {string} id
 * @param {DeleteCallback} callback
 */
function remove(id, callback) {
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
  connection.query('DELETE FROM ' + table + ' WHERE id = ?', [id], function (err) {
    if (err) return callback(err);
    callback(null);
  });
}
