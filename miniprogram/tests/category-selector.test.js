/**
 * The category selector: completeness and return badges for the staff,
 * pending badges for the reviewer, and the select event.
 */

const { fixture } = require('./support/backend')
const { render, settle, text } = require('./support/pages')

const RETURNED = fixture('staff_projects.project_get_returned').response.body.project
const PENDING = fixture('review.review_project_get').response.body.project

function items(selector) {
  return selector.querySelectorAll('.selector__item')
}

async function renderSelector(properties) {
  const selector = render('components/category-selector/index', properties)
  await settle(1)
  return selector
}

test('staff mode shows state and completeness per category', async () => {
  const selector = await renderSelector({
    categories: RETURNED.categories,
    active: 'basic',
    mode: 'staff',
  })

  expect(items(selector)).toHaveLength(3)
  expect(selector.data.items.map((item) => item.badge)).toEqual(['已退回', '待复核', '待复核'])
  expect(text(selector, '.selector__completeness')).toBe('完成度 100%')
  expect(selector.querySelectorAll('.selector__dot')).toHaveLength(0)
})

test('staff mode shows the return opinion on the returned category', async () => {
  const selector = await renderSelector({
    categories: RETURNED.categories,
    active: 'other',
    mode: 'staff',
  })

  const opinions = selector.querySelectorAll('.selector__opinion')
  expect(opinions).toHaveLength(1)
  expect(text(selector, '.selector__opinion')).toBe(
    '复核意见：建筑面积与备案资料不符，请核对后重新填写',
  )
  expect(selector.data.items[0].badgeClass).toBe('badge--returned')
})

test('draft category shows its completeness', async () => {
  const categories = fixture('staff_projects.save_basic_draft').response.body.project.categories
  const selector = await renderSelector({ categories, active: 'basic', mode: 'staff' })

  expect(selector.data.items[0].badge).toBe('草稿')
  expect(text(selector, '.selector__completeness')).toBe('完成度 29%')
  expect(selector.data.items[1].badge).toBe('未填写')
})

test('review mode marks each pending category', async () => {
  const selector = await renderSelector({
    categories: PENDING.categories,
    active: 'basic',
    mode: 'review',
  })

  expect(selector.querySelectorAll('.selector__dot')).toHaveLength(3)
  expect(selector.data.items.map((item) => item.badge)).toEqual(['待复核', '待复核', '待复核'])
  expect(selector.querySelectorAll('.selector__completeness')).toHaveLength(0)
})

test('review mode after decisions', async () => {
  const categories = fixture('review.return_other').response.body.project.categories
  const selector = await renderSelector({ categories, active: 'other', mode: 'review' })

  expect(selector.data.items.map((item) => item.badge)).toEqual(['已通过', '已退回', '待复核'])
  expect(selector.querySelectorAll('.selector__dot')).toHaveLength(1)
})

test('active category is highlighted', async () => {
  const selector = await renderSelector({
    categories: PENDING.categories,
    active: 'manager',
    mode: 'review',
  })

  expect(selector.data.items.map((item) => item.active)).toEqual([false, false, true])
  expect(selector.querySelectorAll('.selector__item--active')).toHaveLength(1)
})

test('tapping another category sends select', async () => {
  const selector = await renderSelector({
    categories: PENDING.categories,
    active: 'basic',
    mode: 'review',
  })
  const selected = []
  selector.addEventListener('select', (event) => selected.push(event.detail))

  items(selector)[2].dispatchEvent('tap')
  items(selector)[0].dispatchEvent('tap')
  await settle()

  expect(selected).toEqual([{ category: 'manager' }])
})
