/**
 * Password change. Preset reviewer accounts must change the initial
 * password at first login, because the server rejects every other call until
 * then.
 *
 * Options: redirect, the page to go on to afterwards.
 */

const api = require('../../utils/api')
const routes = require('../../utils/routes')
const validators = require('../../utils/validators')

Page({
  data: {
    firstLogin: false,
    oldPassword: '',
    newPassword: '',
    confirmPassword: '',
    errors: {},
    formError: '',
    submitting: false,
  },

  onLoad(options) {
    if (!api.getToken()) {
      wx.reLaunch({ url: routes.loginUrl(routes.pageUrl(this.route, options)) })
      return
    }
    const user = api.getUser()
    this.redirect = routes.safeRedirect((options && options.redirect) || '')
    this.setData({ firstLogin: Boolean(user && user.must_change_password) })
  },

  onInput(event) {
    const key = event.currentTarget.dataset.key
    this.setData({ [key]: event.detail.value, ['errors.' + key]: '', formError: '' })
  },

  check() {
    const errors = {}
    if (!this.data.oldPassword) {
      errors.oldPassword = '请填写原密码'
    }
    const problem = validators.passwordProblem(this.data.newPassword, this.data.oldPassword)
    if (problem) {
      errors.newPassword = problem
    } else if (this.data.confirmPassword !== this.data.newPassword) {
      errors.confirmPassword = '两次填写的新密码不一致，请重新填写'
    }
    return errors
  },

  async onSubmit() {
    const errors = this.check()
    if (Object.keys(errors).length) {
      this.setData({ errors })
      return
    }
    this.setData({ submitting: true })
    try {
      const body = await api.post('/api/auth/change-password', {
        old_password: this.data.oldPassword,
        new_password: this.data.newPassword,
      })
      api.setUser(body.user)
      wx.showToast({ title: '密码已修改', icon: 'success' })
      wx.reLaunch({ url: this.redirect || routes.homeUrl(body.user) })
    } catch (err) {
      const fields = err.fields || {}
      this.setData({
        formError: err.message,
        errors: { oldPassword: fields.old_password || '', newPassword: fields.new_password || '' },
      })
    } finally {
      this.setData({ submitting: false })
    }
  },
})
