/**
 * Login, the government entrance, the first password change and staff
 * registration.
 */

const config = require('../config')
const { fixture } = require('./support/backend')
const { openPage, settle, tap, text, type } = require('./support/pages')

const LOGIN = 'pages/login/index'

function lastRequest() {
  return backend.requests[backend.requests.length - 1]
}

describe('WeChat login', () => {
  test('new user is offered registration', async () => {
    backend.serve('staff_auth.wx_login_new')

    const page = await openPage(LOGIN, {})

    expect(lastRequest().body).toEqual({ code: 'wx-code' })
    expect(page.data.status).toBe('unregistered')
    expect(wx.getStorageSync('session_token')).toBe('token-new-staff')
    await tap(page, '.register')
    expect(phone.navigation).toEqual([{ kind: 'navigateTo', url: '/pages/register/index' }])
  })

  test('development login takes codes from the sandbox', async () => {
    config.sandboxUrl = 'http://127.0.0.1:8100'
    backend.serve('staff_auth.sandbox_code_new', 'staff_auth.wx_login_new')

    const page = await openPage(LOGIN, {})

    expect(backend.requests.map((item) => item.base + ' ' + item.path)).toEqual([
      'sandbox /sandbox/miniprogram/codes',
      'api /api/auth/wx-login',
    ])
    expect(wx.getStorageSync('sandbox_openid')).toBe('oSandboxStaff01')

    backend.serve('staff_auth.sandbox_code_known', 'staff_auth.wx_login_registered')
    await page.instance.onRetry()
    await settle()

    expect(backend.requests[2].body).toEqual({ openid: 'oSandboxStaff01' })
    expect(page.data.status).toBe('ready')
  })

  test('registered user without binding sees the notice state', async () => {
    backend.serve('staff_auth.wx_login_registered')

    const page = await openPage(LOGIN, {})

    expect(page.data.status).toBe('ready')
    expect(text(page, '.notice-state')).toBe(
      '微信通知：未绑定。绑定后可收到退回通知、复核提醒和每日进度',
    )
    expect(phone.navigation).toEqual([])
    await tap(page, '.bind')
    await tap(page, '.enter')
    expect(phone.navigation).toEqual([
      { kind: 'navigateTo', url: '/pages/bind/index' },
      { kind: 'reLaunch', url: '/pages/project-list/index' },
    ])
  })

  test('bound user goes straight to the project list', async () => {
    backend.serve('binding.wx_login_bound')

    const page = await openPage(LOGIN, {})

    expect(text(page, '.notice-state')).toBe('微信通知：已绑定')
    expect(phone.navigation).toEqual([{ kind: 'reLaunch', url: '/pages/project-list/index' }])
  })

  test('rejected code shows the reason and retries', async () => {
    backend.serve('staff_auth.wx_login_bad_code')

    const page = await openPage(LOGIN, {})

    expect(text(page, '.login-error')).toContain(
      fixture('staff_auth.wx_login_bad_code').response.body.error.message,
    )
    backend.serve('staff_auth.wx_login_registered')
    await tap(page, '.retry')
    expect(page.data.status).toBe('ready')
  })

  test('redirect outside the app is ignored', async () => {
    backend.serve('binding.wx_login_bound')

    await openPage(LOGIN, { redirect: encodeURIComponent('https://example.com/') })

    expect(phone.navigation).toEqual([{ kind: 'reLaunch', url: '/pages/project-list/index' }])
  })
})

describe('government entrance', () => {
  async function openEntrance() {
    backend.serve('staff_auth.wx_login_new')
    const page = await openPage(LOGIN, {})
    await tap(page, '.gov-entry')
    return page
  }

  test('empty fields are named without sending', async () => {
    const page = await openEntrance()

    await tap(page, '.password-login')

    expect(backend.sent()).toEqual(['POST /api/auth/wx-login'])
    expect(page.data.errors).toEqual({ username: '请填写用户名', password: '请填写密码' })
  })

  test('wrong password shows the server message', async () => {
    const page = await openEntrance()
    backend.serve('reviewer_auth.password_login_wrong')

    await type(page, '.username', 'shishan_reviewer')
    await type(page, '.password', 'wrong-password')
    await tap(page, '.password-login')

    expect(lastRequest().body).toEqual({
      username: 'shishan_reviewer',
      password: 'wrong-password',
      code: 'wx-code',
    })
    expect(text(page, '.form-error')).toBe('用户名或密码错误')
  })

  test('first login leads to the password change', async () => {
    const page = await openEntrance()
    backend.serve('reviewer_auth.password_login_first')

    await type(page, '.username', 'shishan_reviewer')
    await type(page, '.password', 'Review2026ok')
    await tap(page, '.password-login')

    expect(wx.getStorageSync('session_token')).toBe('token-reviewer-first')
    expect(phone.navigation).toEqual([{ kind: 'reLaunch', url: '/pages/change-password/index' }])
  })
})

describe('password change', () => {
  async function openChange() {
    const login = fixture('reviewer_auth.password_login_first').response.body
    wx.setStorageSync('session_token', login.token)
    wx.setStorageSync('session_user', login.user)
    return openPage('pages/change-password/index', {})
  }

  async function fillPasswords(page, old, next, confirm) {
    await type(page, '.old-password', old)
    await type(page, '.new-password', next)
    await type(page, '.confirm-password', confirm)
  }

  test('first login explains the rule', async () => {
    const page = await openChange()
    expect(text(page, '.banner__title')).toBe('首次登录请修改初始密码')
  })

  test('weak password is refused before sending', async () => {
    const page = await openChange()

    await fillPasswords(page, 'Review2026ok', 'abcdefghij', 'abcdefghij')
    await tap(page, '.submit')

    expect(backend.sent()).toEqual([])
    expect(text(page, '.error-new')).toBe('新密码应同时包含字母和数字')
  })

  test('mismatched confirmation is refused', async () => {
    const page = await openChange()

    await fillPasswords(page, 'Review2026ok', 'Shishan2027ok', 'Shishan2027')
    await tap(page, '.submit')

    expect(text(page, '.error-confirm')).toBe('两次填写的新密码不一致，请重新填写')
  })

  test('changed password opens the review list', async () => {
    const page = await openChange()
    backend.serve('reviewer_auth.change_password_ok')

    await fillPasswords(page, 'Review2026ok', 'Shishan2027ok', 'Shishan2027ok')
    await tap(page, '.submit')

    expect(lastRequest().body).toEqual(fixture('reviewer_auth.change_password_ok').request.body)
    expect(wx.getStorageSync('session_user').must_change_password).toBe(false)
    expect(phone.navigation).toEqual([{ kind: 'reLaunch', url: '/pages/review-list/index' }])
  })
})

describe('registration', () => {
  const RECORDED = fixture('staff_auth.register_ok').request.form

  async function openRegister() {
    wx.setStorageSync('session_token', 'token-new-staff')
    return openPage('pages/register/index', {})
  }

  async function fillForm(page, form) {
    for (const key of Object.keys(form)) {
      await type(page, '.input-' + key, form[key])
    }
  }

  test('local checks name each field before sending', async () => {
    const page = await openRegister()

    await fillForm(
      page,
      Object.assign({}, RECORDED, {
        id_number: '36042619910102009X',
        credit_code: '9111000060003IOZSV',
      }),
    )
    await tap(page, '.submit')

    expect(backend.sent()).toEqual([])
    expect(text(page, '.error-id_number')).toBe(
      '居民身份证号码校验位不正确，请核对号码，特别是最后一位',
    )
    expect(text(page, '.error-credit_code')).toBe(
      '统一社会信用代码不能包含字母I、O、S、V、Z，请核对营业执照上的代码',
    )
    expect(text(page, '.error-id_proof')).toBe('请拍照或从相册选择身份证明（JPG、PNG或PDF）')
  })

  test('leaving a field checks it', async () => {
    const page = await openRegister()

    await type(page, '.input-mobile', '1380013800')
    page.querySelector('.input-mobile').dispatchEvent('blur', { detail: { value: '1380013800' } })
    await settle()

    expect(text(page, '.error-mobile')).toBe(
      '手机号码应为11位手机号码，以13至19开头，请核对后重新填写',
    )
  })

  test('server field error is shown beside the company name', async () => {
    const page = await openRegister()
    const recorded = fixture('staff_auth.register_company_mismatch')
    backend.serve('staff_auth.register_company_mismatch')

    await fillForm(page, recorded.request.form)
    await tap(page, '.choose-proof')
    await tap(page, '.submit')

    expect(lastRequest().form).toEqual(recorded.request.form)
    expect(text(page, '.error-company_name')).toBe(recorded.response.body.error.fields.company_name)
    expect(text(page, '.form-error')).toBe(recorded.response.body.error.message)
  })

  test('registration sends the photo and goes on to binding', async () => {
    const page = await openRegister()
    backend.serve('staff_auth.register_ok')

    await fillForm(page, RECORDED)
    await tap(page, '.choose-proof')
    await tap(page, '.submit')

    expect(lastRequest().form).toEqual(RECORDED)
    expect(lastRequest().file).toBe('id_proof')
    expect(lastRequest().filePath).toBe('wxfile://tmp/photo.png')
    expect(wx.getStorageSync('session_user').name).toBe('陈志强')
    expect(phone.navigation).toEqual([{ kind: 'reLaunch', url: '/pages/bind/index?from=register' }])
  })

  test('registered user is sent home', async () => {
    wx.setStorageSync('session_token', 'token-staff')
    wx.setStorageSync('session_user', fixture('staff_auth.register_ok').response.body.user)

    await openPage('pages/register/index', {})

    expect(phone.navigation).toEqual([{ kind: 'reLaunch', url: '/pages/project-list/index' }])
  })
})
