/**
 * The review screen: pending badges, changes since the last approval, the
 * opinion rule, approve and return, a stale revision, and "下一条待复核".
 */

const { fixture } = require('./support/backend')
const { disabled, openPage, settle, signIn, tap, text, type } = require('./support/pages')

const ROUTE = 'pages/review-detail/index'
const REVIEWER = fixture('reviewer_auth.wx_login_reviewer').response.body.user

beforeEach(() => {
  signIn('token-reviewer', REVIEWER)
})

async function openCategory(exchange, options) {
  backend.serve('review.schema', 'review.review_project_get', exchange)
  return openPage(ROUTE, options)
}

function lastRequest() {
  return backend.requests[backend.requests.length - 1]
}

test('first submission shows all content and pending badges', async () => {
  const page = await openCategory('review.review_basic_first', { id: '1', category: 'basic' })

  expect(backend.sent()).toEqual([
    'GET /api/schema',
    'GET /api/projects/1',
    'GET /api/review/projects/1/categories/basic',
  ])
  expect(text(page, '.first-submission')).toBe('第1次提交，尚无已通过的版本，请核对全部内容。')
  expect(page.data.changeCount).toBe(0)
  expect(page.data.values.households).toBe(640)
  const selector = page.querySelector('.selector')
  expect(selector.querySelectorAll('.selector__dot')).toHaveLength(3)
})

test('return stays disabled until an opinion is written', async () => {
  const page = await openCategory('review.review_basic_first', { id: '1', category: 'basic' })

  expect(page.data.opinionFilled).toBe(false)
  expect(disabled(page, '.return')).toBe(true)
  expect(disabled(page, '.approve')).toBe(false)
  expect(text(page, '.opinion-hint')).toBe('填写复核意见后才能退回')
  await tap(page, '.return')
  expect(backend.sent()).toHaveLength(3)

  await type(page, '.opinion__input', '   ')
  expect(disabled(page, '.return')).toBe(true)

  await type(page, '.opinion__input', '请核对建筑面积')
  expect(page.data.opinionFilled).toBe(true)
  expect(disabled(page, '.return')).toBe(false)
})

test('return without an opinion is not sent', async () => {
  const page = await openCategory('review.review_basic_first', { id: '1', category: 'basic' })

  await page.instance.onReturn()
  await settle()

  expect(backend.sent()).toHaveLength(3)
  expect(text(page, '.opinion-error')).toBe('请填写退回原因，告诉填报人需要修改什么')
})

test('approve sends the revision and an empty opinion', async () => {
  const page = await openCategory('review.review_basic_first', { id: '1', category: 'basic' })
  backend.serve('review.approve_basic')

  await tap(page, '.approve')

  expect(lastRequest().body).toEqual(fixture('review.approve_basic').request.body)
  expect(text(page, '.decided .banner__title')).toBe('“基本信息”已通过')
  expect(page.data.canReview).toBe(false)
  expect(page.data.categories[0].state).toBe('approved')
  expect(page.data.reviews[0].label).toBe('通过')
  expect(phone.toasts).toEqual(['已通过'])
})

test('return sends the opinion', async () => {
  const page = await openCategory('review.review_other', { id: '1', category: 'other' })
  backend.serve('review.return_other')

  await type(page, '.opinion__input', '电梯数量与备案不符，请核对')
  await tap(page, '.return')

  expect(lastRequest().path).toBe('/api/review/projects/1/categories/other/return')
  expect(lastRequest().body).toEqual(fixture('review.return_other').request.body)
  expect(text(page, '.decided .banner__title')).toBe('“其他信息”已退回')
  expect(page.data.reviews[0].opinion).toBe('电梯数量与备案不符，请核对')
})

test('changes since the approved revision are highlighted', async () => {
  const page = await openCategory('review.review_basic_changes', { id: '1', category: 'basic' })

  expect(text(page, '.changed-summary')).toBe('与上次通过的版本相比，有1项修改，已用黄色标出。')
  const households = page.querySelector('.field-households')
  expect(households.querySelector('.field__changed-tag')).toBeTruthy()
  expect(text(households, '.field__before')).toBe('修改前：640 户')
  expect(text(households, '.field__value')).toBe('660 户')
  expect(page.querySelector('.field-buildings').querySelector('.field__changed-tag')).toBeFalsy()
})

test('stale revision tells the reviewer and reloads', async () => {
  const page = await openCategory('review.review_manager', { id: '1', category: 'manager' })
  const stale = page.data.revision.id
  backend.serve('review.approve_manager_stale', 'review.review_manager_refreshed')

  await tap(page, '.approve')
  await settle()

  expect(phone.modals).toEqual([
    {
      title: '请刷新后再复核',
      content: '填报人已更新该分类，请查看最新内容后再复核',
    },
  ])
  expect(page.data.revision.id).not.toBe(stale)
  expect(page.data.canReview).toBe(true)
  expect(page.data.values.manager_mobile).toBe('13900139000')
})

test('next pending opens the next entry without the list', async () => {
  const page = await openCategory('review.review_basic_first', { id: '1', category: 'basic' })
  backend.serve('review.approve_basic', 'review.next_pending')
  await tap(page, '.approve')

  await tap(page, '.next-pending-top')

  const next = fixture('review.next_pending').response.body.next
  expect(lastRequest().path).toBe('/api/review/next-pending')
  expect(phone.navigation).toEqual([
    {
      kind: 'redirectTo',
      url: '/pages/review-detail/index?id=2&category=basic&entry=' + next.entry_id,
    },
  ])
})

test('skipping the last pending entry says none is left', async () => {
  backend.serve(
    'review.schema',
    'review.review_project2_get',
    'review.review_project2_manager',
    'review.next_pending_none',
  )
  const page = await openPage(ROUTE, { id: '2', category: 'manager', entry: '6' })

  await tap(page, '.skip-to-next')

  expect(lastRequest().path).toBe('/api/review/next-pending?after_entry=6')
  expect(phone.toasts).toEqual(['暂无其他待复核内容'])
  expect(text(page, '.no-more')).toContain('本镇街暂无其他待复核内容。')
  await tap(page, '.back-to-list')
  expect(phone.navigation).toEqual([
    { kind: 'reLaunch', url: '/pages/review-list/index?filter=pending' },
  ])
})

test('choosing another category loads it', async () => {
  const page = await openCategory('review.review_basic_first', { id: '1', category: 'basic' })
  backend.serve('review.review_other')

  page.querySelector('.selector').querySelectorAll('.selector__item')[1].dispatchEvent('tap')
  await settle()

  expect(page.data.active).toBe('other')
  expect(lastRequest().path).toBe('/api/review/projects/1/categories/other')
  expect(page.data.opinion).toBe('')
})
