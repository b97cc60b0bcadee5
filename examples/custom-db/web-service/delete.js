// @ts-check
/// <reference types="@latchkey/sandbox/script-globals" />
/**
 * @param {string} id
 * @param {DeleteCallback} callback
 */
function remove(id, callback) {
  const request = require('request');

  request.del(
    {
      url: configuration.API_URL + '/users/' + encodeURIComponent(id),
      auth: { user: configuration.API_USER, pass: configuration.API_PASSWORD },
    },
    function (err, response) {
      if (err) return callback(err);
      if (response.statusCode !== 204) return callback(new Error('legacy API answered ' + response.statusCode));
      callback(null);
    },
  );
}
