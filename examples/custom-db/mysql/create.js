// @ts-check
/// <reference types="@latchkey/sandbox/script-globals" />
/**
 * @param {LatchkeyNewUser} user
 * @param {CreateCallback} callback
 */
function create(user, callback) {
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
  bcrypt.hash(user.password, 10, function (err, hash) {
    if (err) return callback(err);
    const insert = { email: user.email, username: user.username || null, password: hash };
    connection.query('INSERT INTO ' + table + ' SET ?', insert, function (err) {
      if (err && err.message.indexOf('Duplicate entry') !== -1)
        return callback(new ValidationError('user_exists', 'the user already exists'));
      if (err) return callback(err);
      callback(null);
    });
  });
}
