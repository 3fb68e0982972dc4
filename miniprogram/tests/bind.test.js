/**
 * Binding WeChat notices: the QR code fetched with the bearer header, status
 * checks until bound, an expired code, and an account already bound.
 */

const { fixture } = require('./support/backend')
const { openPage, settle, signIn, tap, text } = require('./support/pages')

const ROUTE = 'pages/bind/index'
const STAFF = fixture('staff_auth.wx_login_registered').response.body.user
let page = null

afterEach(() => {
  // Stop the status timer so that it cannot fire into the next test.
  if (page) {
    page.instance.onUnload()
    page = null
  }
})

async function poll() {
  page.instance.stopPolling()
  await page.instance.poll()
  await settle()
}

test('shows the QR code and checks until bound', async () => {
  signIn('token-staff', STAFF)
  backend.serve('binding.binding_create', 'binding.binding_qr')

  page = await openPage(ROUTE, { from: 'register' })

  expect(backend.sent()).toEqual([
    'POST /api/wechat/binding',
    'GET /api/wechat/binding/SCENE-1/qr.png',
  ])
  expect(page.data.qrPath).toBe('wxfile://tmp/download')
  expect(text(page, '.waiting')).toBe('等待关注服务号…')
  expect(text(page, '.banner__title')).toBe('注册成功')

  backend.serve('binding.binding_pending')
  await poll()
  expect(page.data.status).toBe('pending')
  expect(page.instance.timer).toBeTruthy()

  backend.serve('binding.binding_bound')
  await poll()
  expect(page.data.status).toBe('bound')
  expect(page.instance.timer).toBeNull()
  expect(wx.getStorageSync('session_user').wechat_bound).toBe(true)
  expect(text(page, '.bound .card__title')).toBe('已绑定微信通知')

  await tap(page, '.done')
  expect(phone.navigation).toEqual([{ kind: 'reLaunch', url: '/pages/project-list/index' }])
})

test('expired code offers a new one', async () => {
  signIn('token-staff', STAFF)
  backend.serve('binding.binding_create_again', 'binding.binding_qr_again')
  page = await openPage(ROUTE, {})

  backend.serve('binding.binding_expired')
  await poll()

  expect(page.data.status).toBe('expired')
  expect(page.instance.timer).toBeNull()
  expect(text(page, '.expired')).toBe('二维码已过期，请点击下方按钮重新生成')

  backend.serve('binding.binding_create', 'binding.binding_qr')
  await tap(page, '.refresh')
  expect(page.data.status).toBe('pending')
  expect(backend.sent().slice(-2)).toEqual([
    'POST /api/wechat/binding',
    'GET /api/wechat/binding/SCENE-1/qr.png',
  ])
})

test('lost network keeps checking', async () => {
  signIn('token-staff', STAFF)
  backend.serve('binding.binding_create', 'binding.binding_qr')
  page = await openPage(ROUTE, {})

  backend.failNetwork()
  await poll()

  expect(page.data.status).toBe('pending')
  expect(page.instance.timer).toBeTruthy()
})

test('bound account shows its state and can bind another WeChat', async () => {
  // The same account as token-staff, after its binding.
  signIn('token-staff', fixture('binding.wx_login_bound').response.body.user)

  page = await openPage(ROUTE, {})

  expect(backend.sent()).toEqual([])
  expect(text(page, '.bound .card__title')).toBe('当前账号已绑定微信通知')

  backend.serve('binding.binding_create_again', 'binding.binding_qr_again')
  await tap(page, '.rebind')
  expect(page.data.qrPath).toBe('wxfile://tmp/download')
})

test('not signed in goes to login first', async () => {
  page = await openPage(ROUTE, {})

  expect(phone.navigation).toEqual([
    {
      kind: 'reLaunch',
      url: '/pages/login/index?redirect=' + encodeURIComponent('/pages/bind/index'),
    },
  ])
})
