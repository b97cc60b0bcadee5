// @ts-check
/// <reference types="@latchkey/sandbox/script-globals" />
/**
 * @param {string} email
 * @param {VerifyCallback} callback
 */
function verify(email, callback) {
  const request = require('request');

  request.post(
    {
      url: configuration.API_URL + '/users/verify',
      auth: { user: configuration.API_USER, pass: configuration.API_PASSWORD },
      json: { email: email },
    },
    function (err, response) {
      if (err) return callback(err);
      if (response.statusCode === 404) return callback(null, false);
      if (response.statusCode !== 204) return callback(new Error('legacy API answered ' + response.statusCode));
      callback(null, true);
    },
  );
}
