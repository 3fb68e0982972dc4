/**
 * Settings of the mini-program, in one place.
 *
 * baseUrl is the backend the API calls go to. The defaults match `make run`
 * (web on 127.0.0.1:8000, WeChat sandbox on 127.0.0.1:8100). A release build
 * sets baseUrl to the HTTPS domain registered in the mini-program console
 * and sandboxUrl to an empty string.
 */
module.exports = {
  baseUrl: 'http://127.0.0.1:8000',

  // Where login codes come from during development. WeChat DevTools hands
  // out codes that only real WeChat accepts, so with a sandboxUrl the app asks
  // the local sandbox for a code instead of calling wx.login. Empty means
  // wx.login, as on a phone.
  sandboxUrl: 'http://127.0.0.1:8100',

  // Milliseconds between binding status checks while the QR code is shown.
  bindingPollMs: 3000,

  // Milliseconds before an API call is given up as a network failure.
  requestTimeoutMs: 15000,

  pageSize: 20,
}
