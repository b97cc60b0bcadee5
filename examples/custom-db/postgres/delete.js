// @ts-check
/// <reference types="@latchkey/sandbox/script-globals" />
/**
 * @param {string} id
 * @param {DeleteCallback} callback
 */
function remove(id, callback) {
  const postgres = require('pg');

  postgres.connect(configuration.DB_URL, function (err, client, done) {
    if (err) return callback(err);
    const table = configuration.USERS_TABLE || 'users';
    client.query('DELETE FROM ' + table + ' WHERE id = $1', [id], function (err) {
      done();
      return callback(err || null);
    });
  });
}
