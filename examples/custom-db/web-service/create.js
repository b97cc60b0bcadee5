// @ts-check
/// <reference types="@latchkey/sandbox/script-globals" />
/**
 * @param {LatchkeyNewUser} user
 * @param {CreateCallback} callback
 */
function create(user, callback) {
  const request = require('request');

  request.post(
    {
      url: configuration.API_URL + '/users',
      auth: { user: configuration.API_USER, pass: configuration.API_PASSWORD },
      json: { email: user.email, username: user.username, password: user.password },
    },
    function (err, response) {
      if (err) return callback(err);
      if (response.statusCode === 409) return callback(new ValidationError('user_exists', 'the user already exists'));
      if (response.statusCode !== 201) return callback(new Error('legacy API answered ' + response.statusCode));
      callback(null);
    },
  );
}
