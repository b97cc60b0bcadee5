// @ts-check
/// <reference types="@latchkey/sandbox/script-globals" />
/**
 * @param {string} email
 * @param {string} newEmail
 * @param {boolean} verified
 * @param {ChangeEmailCallback} callback
 */
function changeEmail(email, newEmail, verified, callback) {
  const request = require('request');

  request.post(
    {
      url: configuration.API_URL + '/users/email',
      auth: { user: configuration.API_USER, pass: configuration.API_PASSWORD },
      json: { email: email, new_email: newEmail, verified: verified },
    },
    function (err, response) {
      if (err) return callback(err);
      if (response.statusCode === 404) return callback(null, false);
      if (response.statusCode !== 204) return callback(new Error('legacy API answered ' + response.statusCode));
      callback(null, true);
    },
  );
}
