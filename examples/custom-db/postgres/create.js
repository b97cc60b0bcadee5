// @ts-check
/// <reference types="@latchkey/sandbox/script-globals" />
/**
 * @param {LatchkeyNewUser} user
 * @param {CreateCallback} callback
 */
function create(user, callback) {
  const bcrypt = require('bcrypt');
  const postgres = require('pg');

  postgres.connect(configuration.DB_URL, function (err, client, done) {
    if (err) return callback(err);
    bcrypt.hash(user.password, 10, function (err, hash) {
      if (err) return callback(err);
      const table = configuration.USERS_TABLE || 'users';
      const query = 'INSERT INTO ' + table + ' (email, username, password) VALUES ($1, $2, $3)';
      client.query(query, [user.email, user.username || null, hash], function (err) {
        done();
        if (err && err.message.indexOf('duplicate key') !== -1)
          return callback(new ValidationError('user_exists', 'the user already exists'));
        return callback(err || null);
      });
    });
  });
}
