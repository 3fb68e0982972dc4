/**
 * Login. Property staff log in with their WeChat identity, and new users go
 * on to registration. Town reviewers use the government entrance [政府机构入口]
 * with their preset username and password once, which links this WeChat to
 * the account. The page shows whether WeChat notices are bound.
 *
 * Options: redirect, the page to return to (a message tap that found no
 * session).
 */

const api = require('../../utils/api')
const routes = require('../../utils/routes')

function decodeOption(value) {
  const text = value || ''
  try {
    return text.indexOf('%') >= 0 ? decodeURIComponent(text) : text
  } catch (err) {
    return ''
  }
}

Page({
  data: {
    mode: 'wechat',
    status: 'loading',
    errorMessage: '',
    user: null,
    homeLabel: '',
    username: '',
    password: '',
    errors: {},
    formError: '',
    submitting: false,
  },

  onLoad(options) {
    this.redirect = routes.safeRedirect(decodeOption(options && options.redirect))
    this.loginWithWeChat()
  },

  async loginWithWeChat() {
    this.setData({ status: 'loading', errorMessage: '' })
    let body
    try {
      body = await api.loginWithWeChat()
    } catch (err) {
      this.setData({ status: 'error', errorMessage: err.message })
      return
    }
    if (!body.registered) {
      this.setData({ status: 'unregistered' })
      return
    }
    this.enter(body.user)
  },

  /**
   * Go on after a successful login: to the page a message opened, or home.
   * Users without bound notices stay here to see that and bind.
   */
  enter(user) {
    const home = routes.homeUrl(user)
    this.setData({
      status: 'ready',
      user,
      homeLabel: routes.isReviewRole(user.role) ? '进入复核列表' : '进入项目列表',
    })
    if (user.must_change_password) {
      wx.reLaunch({ url: routes.withQuery(home, { redirect: this.redirect }) })
      return
    }
    if (this.redirect) {
      wx.reLaunch({ url: this.redirect })
      return
    }
    if (user.wechat_bound) {
      wx.reLaunch({ url: home })
    }
  },

  onRetry() {
    this.loginWithWeChat()
  },

  onRegister() {
    wx.navigateTo({ url: routes.PAGES.register })
  },

  onBind() {
    wx.navigateTo({ url: routes.PAGES.bind })
  },

  onEnter() {
    wx.reLaunch({ url: routes.homeUrl(this.data.user) })
  },

  onShowPassword() {
    this.setData({ mode: 'password', formError: '', errors: {} })
  },

  onShowWeChat() {
    this.setData({ mode: 'wechat' })
  },

  onInput(event) {
    const key = event.currentTarget.dataset.key
    this.setData({ [key]: event.detail.value, ['errors.' + key]: '', formError: '' })
  },

  async onPasswordLogin() {
    const username = this.data.username.trim()
    const password = this.data.password
    const errors = {}
    if (!username) {
      errors.username = '请填写用户名'
    }
    if (!password) {
      errors.password = '请填写密码'
    }
    if (Object.keys(errors).length) {
      this.setData({ errors })
      return
    }

    this.setData({ submitting: true, formError: '' })
    try {
      const body = await api.loginWithPassword(username, password)
      this.setData({ mode: 'wechat' })
      this.enter(body.user)
    } catch (err) {
      this.setData({ formError: err.message, errors: err.fields || {} })
    } finally {
      this.setData({ submitting: false })
    }
  },
})
