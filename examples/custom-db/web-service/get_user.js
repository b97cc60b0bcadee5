// @ts-check
/// <reference types="@latchkey/sandbox/script-globals" />
/**
 * @param {string} identifier
 * @param {GetUserCallback} callback
 */
function getByEmail(identifier, callback) {
  const request = require('request');

  request.get(
    {
      url: configuration.API_URL + '/users',
      qs: { identifier: identifier },
      auth: { user: configuration.API_USER, pass: configuration.API_PASSWORD },
      json: true,
    },
    function (err, response, body) {
      if (err) return callback(err);
      if (response.statusCode === 404) return callback(null);
      if (response.statusCode !== 200) return callback(new Error('legacy API answered ' + response.statusCode));
      callback(null, { user_id: body.id, email: body.email, username: body.username, email_verified: body.email_verified });
    },
  );
}
