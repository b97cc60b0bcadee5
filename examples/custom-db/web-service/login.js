// @ts-check
/// <reference types="@latchkey/sandbox/script-globals" />
/**
 * @param {string} identifier
 * @param {string} password
 * @param {LoginCallback} callback
 */
function login(identifier, password, callback) {
  const request = require('request');

  request.post(
    {
      url: configuration.API_URL + '/login',
      auth: { user: configuration.API_USER, pass: configuration.API_PASSWORD },
      json: { identifier: identifier, password: password },
    },
    function (err, response, body) {
      if (err) return callback(err);
      if (response.statusCode === 401) return callback(new WrongUsernameOrPasswordError(identifier));
      if (response.statusCode !== 200) return callback(new Error('legacy API answered ' + response.statusCode));
      callback(null, {
        user_id: body.id,
        email: body.email,
        username: body.username,
        email_verified: body.email_verified,
      });
    },
  );
}
