/**
 * Staff registration [从业人员用户注册]: name, mobile, resident ID number,
 * company name and unified social credit code, and a photo of the ID proof.
 * The same checks as the server run first. The server's per-field messages
 * are shown beside each field.
 */

const api = require('../../utils/api')
const routes = require('../../utils/routes')
const validators = require('../../utils/validators')

const FIELDS = [
  { key: 'name', label: '姓名', placeholder: '请填写真实姓名', type: 'text', maxlength: 30 },
  { key: 'mobile', label: '手机号码', placeholder: '11位手机号码', type: 'number', maxlength: 11 },
  {
    key: 'id_number',
    label: '居民身份证号码',
    placeholder: '18位居民身份证号码',
    type: 'idcard',
    maxlength: 18,
  },
  {
    key: 'company_name',
    label: '物业服务企业名称',
    placeholder: '按营业执照填写',
    type: 'text',
    maxlength: 80,
  },
  {
    key: 'credit_code',
    label: '统一社会信用代码',
    placeholder: '营业执照上的18位代码',
    type: 'text',
    maxlength: 18,
  },
]

Page({
  data: {
    fields: FIELDS,
    form: { name: '', mobile: '', id_number: '', company_name: '', credit_code: '' },
    proofPath: '',
    errors: {},
    formError: '',
    submitting: false,
  },

  onLoad() {
    if (!api.getToken()) {
      wx.reLaunch({ url: routes.PAGES.login })
      return
    }
    const user = api.getUser()
    if (user) {
      wx.reLaunch({ url: routes.homeUrl(user) })
    }
  },

  onInput(event) {
    const key = event.currentTarget.dataset.key
    this.setData({ ['form.' + key]: event.detail.value, ['errors.' + key]: '' })
  },

  /** Check the field just left, with the server's rules and wording. */
  onBlur(event) {
    const key = event.currentTarget.dataset.key
    if (!String(this.data.form[key] || '').trim()) {
      return
    }
    const checked = validators.validateRegistration(this.data.form)
    this.setData({ ['errors.' + key]: checked.errors[key] || '' })
  },

  onChooseProof() {
    wx.chooseMedia({
      count: 1,
      mediaType: ['image'],
      sourceType: ['album', 'camera'],
      sizeType: ['compressed'],
      success: (res) => {
        this.setData({ proofPath: res.tempFiles[0].tempFilePath, 'errors.id_proof': '' })
      },
    })
  },

  async onSubmit() {
    const form = Object.assign({}, this.data.form, { id_proof: this.data.proofPath })
    const checked = validators.validateRegistration(form)
    if (Object.keys(checked.errors).length) {
      this.setData({ errors: checked.errors, formError: '注册信息有误，请按提示修改' })
      return
    }

    this.setData({ submitting: true, formError: '' })
    try {
      const body = await api.upload(
        '/api/auth/register',
        this.data.proofPath,
        'id_proof',
        checked.values,
      )
      api.setUser(body.user)
      wx.reLaunch({ url: routes.withQuery(routes.PAGES.bind, { from: 'register' }) })
    } catch (err) {
      this.showError(err)
    } finally {
      this.setData({ submitting: false })
    }
  },

  async showError(err) {
    if (err.code === 'already_registered') {
      const user = await api.refreshUser()
      wx.reLaunch({ url: routes.homeUrl(user) })
      return
    }
    this.setData({ errors: err.fields || {}, formError: err.message })
  },
})
