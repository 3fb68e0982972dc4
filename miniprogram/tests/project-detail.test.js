/**
 * The staff's project page: category selector, schema form, saving with the
 * version, the 409 conflict path and input kept on the phone when the
 * network fails.
 */

const { fixture } = require('./support/backend')
const { enter, fieldError, fill } = require('./support/forms')
const { openPage, settle, signIn, tap, text } = require('./support/pages')

const ROUTE = 'pages/project-detail/index'
const STAFF = fixture('staff_auth.wx_login_registered').response.body.user
const DRAFT_SAVE = fixture('staff_projects.save_basic_draft').request.body
const STALE_SAVE = fixture('staff_projects.save_basic_conflict').request.body
const COMPLETE_BASIC = fixture('staff_projects.save_basic_complete').request.body.data

beforeEach(() => {
  signIn('token-staff', STAFF)
})

async function openBasic() {
  backend.serve(
    'staff_projects.schema',
    'staff_projects.project_get',
    'staff_projects.category_basic',
  )
  return openPage(ROUTE, { id: '1', category: 'basic' })
}

function lastRequest() {
  return backend.requests[backend.requests.length - 1]
}

test('opens the category from the options with its form', async () => {
  const page = await openBasic()

  expect(backend.sent()).toEqual([
    'GET /api/schema',
    'GET /api/projects/1',
    'GET /api/projects/1/categories/basic',
  ])
  expect(page.data.active).toBe('basic')
  expect(page.data.fields).toHaveLength(17)
  expect(page.data.values.project_name).toBe('狮山翠湖花园')
  expect(page.data.values.town).toBe('狮山镇')
  expect(text(page, '.draft-state')).toBe('还有14项必填未填写。全部填写后保存即自动提交复核。')
  expect(phone.titles).toEqual(['狮山翠湖花园'])
})

test('partial save sends the version and keeps a draft', async () => {
  const page = await openBasic()
  backend.serve('staff_projects.save_basic_draft')

  await fill(page, { community: '狮山社区', property_type: '住宅' })
  await tap(page, '.save')

  expect(lastRequest().method).toBe('PUT')
  expect(lastRequest().body).toEqual(DRAFT_SAVE)
  expect(page.data.version).toBe(1)
  expect(page.data.entry.state).toBe('draft')
  expect(phone.toasts).toEqual(['已保存，完成度29%'])
  expect(page.data.categories[0].completeness).toBe(29)
})

test('complete save submits for review', async () => {
  const page = await openBasic()
  backend.serve('staff_projects.save_basic_complete')
  page.instance.setData({ version: 1 })

  await fill(page, COMPLETE_BASIC)
  await tap(page, '.save')

  expect(lastRequest().body).toEqual({ version: 1, data: COMPLETE_BASIC })
  expect(page.data.entry.state).toBe('submitted')
  expect(phone.toasts).toEqual(['已保存并提交复核'])
  expect(text(page, '.submitted')).toBe('已提交，等待镇街房管所复核。如需修改，保存后将重新提交。')
})

describe('conflict', () => {
  async function conflict() {
    const page = await openBasic()
    backend.serve('staff_projects.save_basic_conflict')
    await fill(page, { community: '狮山村', property_type: '住宅' })
    await tap(page, '.save')
    return page
  }

  test('stale save shows what differs from the current data', async () => {
    const page = await conflict()

    expect(lastRequest().body).toEqual(STALE_SAVE)
    expect(page.data.conflict.rows).toEqual([
      { key: 'community', label: '所属社区（村）', mine: '狮山村', theirs: '狮山社区' },
    ])
    expect(text(page, '.conflict .banner__title')).toBe(
      '保存失败：该分类已被他人修改（2026-12-04 09:30，草稿）',
    )
    expect(page.data.values.community).toBe('狮山村')
  })

  test('keeping mine saves on the newest version', async () => {
    const page = await conflict()
    backend.serve('staff_projects.save_basic_complete')

    await tap(page, '.keep-mine')
    await fill(page, Object.assign({}, COMPLETE_BASIC, { community: '狮山村' }))
    await tap(page, '.save')

    expect(page.data.conflict).toBeNull()
    expect(lastRequest().body.version).toBe(1)
    expect(lastRequest().body.data.community).toBe('狮山村')
    expect(phone.toasts).toEqual(['已保留您的填写，请核对后再次保存', '已保存并提交复核'])
  })

  test('viewing the latest keeps what was typed to restore', async () => {
    const page = await conflict()

    await tap(page, '.use-latest')

    expect(page.data.values.community).toBe('狮山社区')
    expect(page.data.version).toBe(1)
    expect(wx.getStorageSync('draft:1:basic').data.community).toBe('狮山村')
    expect(page.querySelector('.draft-offer')).toBeTruthy()

    await tap(page, '.restore-draft')

    expect(page.data.values.community).toBe('狮山村')
    expect(page.data.version).toBe(1)
    expect(page.querySelector('.draft-offer')).toBeFalsy()
  })
})

test('network failure keeps the input and offers it next time', async () => {
  let page = await openBasic()
  await fill(page, { community: '狮山村', property_type: '住宅' })
  backend.failNetwork()

  await tap(page, '.save')

  expect(text(page, '.save-error')).toBe(
    '网络连接失败，请检查网络后重试。' +
      '您的填写已保存在本机，恢复网络后请再次点击保存，下次打开本页时也可恢复。',
  )
  expect(wx.getStorageSync('draft:1:basic').data.community).toBe('狮山村')
  expect(wx.getStorageSync('draft:1:basic').version).toBe(0)

  backend.serve('staff_projects.project_get', 'staff_projects.category_basic')
  page = await openPage(ROUTE, { id: '1', category: 'basic' })
  expect(page.data.values.community).toBeUndefined()
  expect(text(page, '.draft-offer .banner__title')).toMatch(
    /^发现本机暂存的填写（\d{4}-\d{2}-\d{2} \d{2}:\d{2}）$/,
  )

  await tap(page, '.restore-draft')
  backend.serve('staff_projects.save_basic_conflict')
  await tap(page, '.save')

  expect(lastRequest().body).toEqual(STALE_SAVE)
})

test('discarding the kept input removes it', async () => {
  wx.setStorageSync('draft:1:basic', {
    data: { community: '狮山村' },
    version: 0,
    saved_at: '2026-12-04T01:00:00Z',
  })
  const page = await openBasic()

  expect(text(page, '.draft-offer .banner__title')).toBe('发现本机暂存的填写（2026-12-04 09:00）')
  await tap(page, '.discard-draft')

  expect(wx.getStorageSync('draft:1:basic')).toBe('')
  expect(page.data.values.community).toBeUndefined()
})

test('local check blocks the save and names the field', async () => {
  backend.serve(
    'staff_projects.schema',
    'staff_projects.project_get',
    'staff_projects.category_manager',
  )
  const page = await openPage(ROUTE, { id: '1', category: 'manager' })

  await enter(page, 'manager_id_number', '36042619910102009X')
  expect(fieldError(page, 'manager_id_number')).toBe(
    '居民身份证号码校验位不正确，请核对号码，特别是最后一位',
  )
  await tap(page, '.save')

  expect(backend.sent()).not.toContain('PUT /api/projects/1/categories/manager')
  expect(text(page, '.save-error')).toBe('填写内容有误，请按提示修改后再保存')
})

test('server field error is shown beside the field', async () => {
  backend.serve(
    'staff_projects.schema',
    'staff_projects.project_get',
    'staff_projects.category_manager',
    'staff_projects.save_manager_foreign_file',
  )
  const page = await openPage(ROUTE, { id: '1', category: 'manager' })
  const recorded = fixture('staff_projects.save_manager_foreign_file')
  const data = recorded.request.body.data
  const typed = Object.assign({}, data)
  delete typed.manager_id_proof
  await fill(page, typed)
  page.instance.onFieldChange({ detail: { key: 'manager_id_proof', value: data.manager_id_proof } })

  await tap(page, '.save')

  expect(lastRequest().body).toEqual(recorded.request.body)
  expect(fieldError(page, 'manager_id_proof')).toBe(
    recorded.response.body.error.fields.manager_id_proof,
  )
  expect(text(page, '.save-error')).toBe('填写内容有误，请按提示修改')
})

test('returned category shows the opinion and resubmits', async () => {
  backend.serve(
    'staff_projects.schema',
    'staff_projects.project_get_returned',
    'staff_projects.category_basic_returned',
    'staff_projects.save_basic_resubmit',
  )
  const page = await openPage(ROUTE, { id: '1' })

  expect(page.data.active).toBe('basic')
  expect(text(page, '.returned .returned__opinion')).toBe(
    '复核意见：建筑面积与备案资料不符，请核对后重新填写',
  )
  expect(page.data.reviews[0].label).toBe('退回')
  await enter(page, 'building_area', '51800')
  await tap(page, '.save')

  const sent = fixture('staff_projects.save_basic_resubmit').request.body
  expect(lastRequest().body).toEqual(sent)
  expect(page.data.entry.state).toBe('submitted')
  expect(page.data.project.status).toBe('pending')
})

test('switching category keeps unsaved input on the phone', async () => {
  const page = await openBasic()
  backend.serve('staff_projects.category_other')
  await enter(page, 'community', '狮山村')

  page.querySelector('.selector').querySelectorAll('.selector__item')[1].dispatchEvent('tap')
  await settle()

  expect(page.data.active).toBe('other')
  expect(wx.getStorageSync('draft:1:basic').data.community).toBe('狮山村')
  expect(phone.toasts).toEqual(['未保存的修改已暂存在本机'])
})

test('leaving the page keeps unsaved input on the phone', async () => {
  const page = await openBasic()
  await enter(page, 'households', '640')

  page.instance.onUnload()

  expect(wx.getStorageSync('draft:1:basic').data.households).toBe('640')
  expect(wx.getStorageSync('draft:1:basic').version).toBe(0)
})

test('leaving without changes keeps nothing', async () => {
  const page = await openBasic()

  page.instance.onUnload()

  expect(wx.getStorageSync('draft:1:basic')).toBe('')
})
