/**
 * Requests to the backend API and the login session, shared by every page.
 *
 * Every call sends the session's bearer token and resolves with the parsed
 * JSON body of a 2xx response. Anything else rejects with an ApiError that
 * carries the API's error shape: code, a Chinese message for the user,
 * per-field messages, and on a 409 the current entry. A network failure
 * rejects with statusCode 0 and code "network_error".
 */

const config = require('../config')
const routes = require('./routes')

const TOKEN_KEY = 'session_token'
const USER_KEY = 'session_user'
const SANDBOX_OPENID_KEY = 'sandbox_openid'

const NETWORK_MESSAGE = '网络连接失败，请检查网络后重试'
const STATUS_MESSAGES = {
  401: '登录已失效，请重新登录',
  403: '没有权限执行此操作',
  404: '请求的内容不存在或无权查看',
  410: '内容已过期，请重新获取',
  413: '提交的内容过大，请缩小后重试',
  429: '操作过于频繁，请稍后再试',
  500: '服务器内部错误，请稍后重试',
  502: '服务暂时不可用，请稍后重试',
  503: '服务暂时不可用，请稍后重试',
}

function fallbackMessage(statusCode) {
  return statusCode ? '请求失败（HTTP ' + statusCode + '），请稍后重试' : NETWORK_MESSAGE
}

class ApiError extends Error {
  constructor(statusCode, body) {
    const error = (body && body.error) || {}
    super(error.message || STATUS_MESSAGES[statusCode] || fallbackMessage(statusCode))
    this.name = 'ApiError'
    this.statusCode = statusCode
    this.code = error.code || (statusCode ? 'http_' + statusCode : 'network_error')
    this.fields = error.fields || {}
    this.current = error.current || null
  }

  /** True when the request got no response, or the server was unavailable. */
  get unreachable() {
    return this.statusCode === 0 || this.statusCode >= 500
  }
}

function networkError() {
  return new ApiError(0, { error: { code: 'network_error', message: NETWORK_MESSAGE } })
}

// ---------------------------------------------------------------------------
// Session

let schemaCache = null
let redirecting = false

function getToken() {
  return wx.getStorageSync(TOKEN_KEY) || ''
}

function getUser() {
  return wx.getStorageSync(USER_KEY) || null
}

function saveSession(token, user) {
  wx.setStorageSync(TOKEN_KEY, token)
  setUser(user)
}

function setUser(user) {
  if (user) {
    wx.setStorageSync(USER_KEY, user)
  } else {
    wx.removeStorageSync(USER_KEY)
  }
}

function clearSession() {
  wx.removeStorageSync(TOKEN_KEY)
  wx.removeStorageSync(USER_KEY)
}

/** Return the URL of the page on top of the stack, to come back to after login. */
function currentPageUrl() {
  const pages = typeof getCurrentPages === 'function' ? getCurrentPages() : []
  const page = pages[pages.length - 1]
  return page ? routes.pageUrl(page.route, page.options) : ''
}

function goLogin(returnUrl) {
  if (redirecting) {
    return
  }
  redirecting = true
  wx.reLaunch({
    url: routes.loginUrl(returnUrl),
    complete: () => {
      redirecting = false
    },
  })
}

/**
 * Check the stored session before a page loads its data.
 *
 * Returns the stored user when the page may go on. Otherwise it sends the
 * user to login (and back to `route` afterwards), to registration, to the
 * password change, or to the home page of their role, and returns null.
 */
function requireSession(route, options, roles) {
  const returnUrl = routes.pageUrl(route, options)
  const user = getUser()
  if (!getToken()) {
    goLogin(returnUrl)
    return null
  }
  if (!user || user.must_change_password) {
    wx.reLaunch({ url: routes.homeUrl(user) })
    return null
  }
  if (roles && roles.indexOf(user.role) < 0) {
    wx.reLaunch({ url: routes.homeUrl(user) })
    return null
  }
  return user
}

// ---------------------------------------------------------------------------
// Requests

function authHeader() {
  const token = getToken()
  return token ? { Authorization: 'Bearer ' + token } : {}
}

function handleFailure(statusCode, body, options) {
  const error = new ApiError(statusCode, body)
  if (statusCode === 401 && !options.anonymous) {
    clearSession()
    goLogin(currentPageUrl())
  }
  return error
}

/**
 * Send one API request. `options.anonymous` leaves out the token and keeps
 * a 401 from sending the user to login, for the login calls themselves.
 */
function request(method, path, data, options) {
  const settings = options || {}
  return new Promise((resolve, reject) => {
    wx.request({
      url: config.baseUrl + path,
      method,
      data,
      header: settings.anonymous ? {} : authHeader(),
      timeout: config.requestTimeoutMs,
      success: (res) => {
        if (res.statusCode >= 200 && res.statusCode < 300) {
          resolve(res.data)
        } else {
          reject(handleFailure(res.statusCode, res.data, settings))
        }
      },
      fail: () => reject(networkError()),
    })
  })
}

function get(path, query) {
  return request('GET', routes.withQuery(path, query))
}

function post(path, data, options) {
  return request('POST', path, data || {}, options)
}

function put(path, data) {
  return request('PUT', path, data)
}

function parseJson(text) {
  if (typeof text !== 'string') {
    return text
  }
  try {
    return JSON.parse(text)
  } catch (err) {
    return null
  }
}

/**
 * Send a local file as multipart/form-data. wx.uploadFile hands back the
 * body as a string, so it is parsed here.
 */
function upload(path, filePath, name, formData) {
  return new Promise((resolve, reject) => {
    wx.uploadFile({
      url: config.baseUrl + path,
      filePath,
      name,
      formData: formData || {},
      header: authHeader(),
      timeout: config.requestTimeoutMs,
      success: (res) => {
        const body = parseJson(res.data)
        if (res.statusCode >= 200 && res.statusCode < 300) {
          resolve(body)
        } else {
          reject(handleFailure(res.statusCode, body, {}))
        }
      },
      fail: () => reject(networkError()),
    })
  })
}

/** Download a protected file (QR code, ID proof) with the bearer header. */
function download(path) {
  return new Promise((resolve, reject) => {
    wx.downloadFile({
      url: config.baseUrl + path,
      header: authHeader(),
      timeout: config.requestTimeoutMs,
      success: (res) => {
        if (res.statusCode === 200) {
          resolve(res.tempFilePath)
        } else {
          reject(handleFailure(res.statusCode, null, {}))
        }
      },
      fail: () => reject(networkError()),
    })
  })
}

// ---------------------------------------------------------------------------
// Login

function sandboxCode() {
  const openid = wx.getStorageSync(SANDBOX_OPENID_KEY) || ''
  return new Promise((resolve, reject) => {
    wx.request({
      url: config.sandboxUrl + '/sandbox/miniprogram/codes',
      method: 'POST',
      data: openid ? { openid } : {},
      success: (res) => {
        if (res.statusCode !== 201 || !res.data || !res.data.code) {
          reject(networkError())
          return
        }
        wx.setStorageSync(SANDBOX_OPENID_KEY, res.data.openid)
        resolve(res.data.code)
      },
      fail: () => reject(networkError()),
    })
  })
}

/** Get a one-time login code from wx.login, or from the sandbox in development. */
function loginCode() {
  if (config.sandboxUrl) {
    return sandboxCode()
  }
  return new Promise((resolve, reject) => {
    wx.login({
      success: (res) => (res.code ? resolve(res.code) : reject(networkError())),
      fail: () => reject(networkError()),
    })
  })
}

/** Log in with the WeChat identity; resolves with {token, registered, user}. */
async function loginWithWeChat() {
  const code = await loginCode()
  const body = await post('/api/auth/wx-login', { code }, { anonymous: true })
  saveSession(body.token, body.user)
  return body
}

/**
 * Log in a reviewer with username and password. The login code links this
 * WeChat to the account, so later launches log in with loginWithWeChat.
 */
async function loginWithPassword(username, password) {
  const code = await loginCode()
  const body = await post(
    '/api/auth/password-login',
    { username, password, code },
    { anonymous: true },
  )
  saveSession(body.token, body.user)
  return body
}

async function refreshUser() {
  const body = await get('/api/me')
  setUser(body.user)
  return body.user
}

async function logout() {
  try {
    await post('/api/auth/logout')
  } finally {
    clearSession()
  }
}

/** Fetch the form schema once per launch, because it changes only with a release. */
async function fetchSchema() {
  if (!schemaCache) {
    schemaCache = await get('/api/schema')
  }
  return schemaCache
}

function resetCaches() {
  schemaCache = null
  redirecting = false
}

module.exports = {
  ApiError,
  clearSession,
  download,
  fetchSchema,
  get,
  getToken,
  getUser,
  loginWithPassword,
  loginWithWeChat,
  logout,
  post,
  put,
  refreshUser,
  request,
  requireSession,
  resetCaches,
  saveSession,
  setUser,
  upload,
}
