/**
 * Binding WeChat notices. The server creates a one-time QR code of the
 * service account. The user long-presses it to recognise it and follows the
 * account, while the page checks the binding status until it is bound or
 * the code expires. Template messages reach only bound, following users.
 *
 * Options: from=register after registration, and redirect (the page to go
 * on to).
 */

const api = require('../../utils/api')
const config = require('../../config')
const routes = require('../../utils/routes')

Page({
  data: {
    status: 'idle',
    qrPath: '',
    expiresAt: '',
    errorMessage: '',
    alreadyBound: false,
    fromRegister: false,
  },

  onLoad(options) {
    const settings = options || {}
    this.user = api.requireSession(this.route, settings)
    if (!this.user) {
      return
    }
    this.redirect = routes.safeRedirect(settings.redirect || '')
    this.setData({
      alreadyBound: Boolean(this.user.wechat_bound),
      fromRegister: settings.from === 'register',
    })
    if (!this.user.wechat_bound) {
      this.start()
    }
  },

  onShow() {
    if (this.data.status === 'pending' && !this.timer) {
      this.schedulePoll()
    }
  },

  onHide() {
    this.stopPolling()
  },

  onUnload() {
    this.stopPolling()
  },

  /** Ask for a new binding QR code and show it. */
  async start() {
    this.stopPolling()
    this.setData({ status: 'loading', errorMessage: '', qrPath: '' })
    try {
      const body = await api.post('/api/wechat/binding')
      this.scene = body.binding.scene
      if (this.showStatus(body)) {
        return
      }
      const qrPath = await api.download(body.binding.qr_image_url)
      this.setData({ qrPath, expiresAt: body.binding.expires_at })
      this.schedulePoll()
    } catch (err) {
      this.setData({ status: 'error', errorMessage: err.message })
    }
  },

  /**
   * Show a binding status and return true when checking should stop. Only the
   * scene's own status counts: an account may already be bound to another
   * WeChat while this code waits to be scanned.
   */
  showStatus(body) {
    const status = body.binding.status
    this.setData({ status })
    if (status === 'bound') {
      this.finish()
      return true
    }
    return status === 'expired'
  },

  schedulePoll() {
    this.timer = setTimeout(() => {
      this.timer = null
      this.poll()
    }, config.bindingPollMs)
  },

  stopPolling() {
    if (this.timer) {
      clearTimeout(this.timer)
      this.timer = null
    }
  },

  async poll() {
    let body
    try {
      body = await api.get('/api/wechat/binding/' + encodeURIComponent(this.scene))
    } catch (err) {
      if (err.statusCode === 0) {
        this.schedulePoll()
      } else {
        this.setData({ status: 'error', errorMessage: err.message })
      }
      return
    }
    if (!this.showStatus(body)) {
      this.schedulePoll()
    }
  },

  finish() {
    this.stopPolling()
    this.user = Object.assign({}, this.user, { wechat_bound: true })
    api.setUser(this.user)
    this.setData({ status: 'bound', alreadyBound: true })
  },

  onRebind() {
    this.setData({ alreadyBound: false })
    this.start()
  },

  onDone() {
    wx.reLaunch({ url: this.redirect || routes.homeUrl(this.user) })
  },
})
