/**
 * The staff's project list, the reviewer's list and adding a project:
 * search, filters, pull to refresh, endless scroll and duplicate warnings.
 */

const config = require('../config')
const { fixture } = require('./support/backend')
const { openPage, settle, signIn, tap, text, texts, type } = require('./support/pages')

const STAFF = fixture('staff_auth.wx_login_registered').response.body.user
const REVIEWER = fixture('reviewer_auth.wx_login_reviewer').response.body.user

function rowTitles(page) {
  return texts(page, '.project-row .row__title')
}

describe('project list', () => {
  beforeEach(() => {
    signIn('token-staff', STAFF)
  })

  test('scrolling to the end loads the next page', async () => {
    config.pageSize = 2
    backend.serve('staff_projects.projects_page1')
    const page = await openPage('pages/project-list/index', {})
    expect(rowTitles(page)).toEqual(['桂城碧水湾', '狮山翠湖花园'])
    expect(page.data.finished).toBe(false)

    backend.serve('staff_projects.projects_page2')
    page.instance.onReachBottom()
    await settle()

    expect(rowTitles(page)).toEqual(['桂城碧水湾', '狮山翠湖花园', '狮山翠湖花园'])
    expect(text(page, '.list-end')).toBe('共3个项目，已全部显示')
    page.instance.onReachBottom()
    await settle()
    expect(backend.sent()).toHaveLength(2)
  })

  test('each row shows status and category completeness', async () => {
    backend.serve('staff_projects.projects_empty')
    const page = await openPage('pages/project-list/index', {})
    expect(text(page, '.empty')).toBe('还没有项目，点击下方“添加项目”开始填报')

    backend.serve('staff_projects.projects_returned')
    await tap(page, '.tab-returned')

    expect(backend.sent()[1]).toBe('GET /api/projects?page=1&per_page=20&status=returned')
    expect(texts(page, '.project-row .row__head .badge')).toEqual(['已退回'])
    expect(texts(page, '.project-row .chip')).toEqual([
      '基本信息 已退回',
      '其他信息 待复核',
      '项目负责人 待复核',
    ])
  })

  test('draft category shows its completeness', async () => {
    backend.serve('staff_projects.projects_page1')
    config.pageSize = 2
    const page = await openPage('pages/project-list/index', {})

    // A new project's 基本信息 already holds its name, address and town:
    // 3 of 17 required fields.
    expect(texts(page, '.project-row .chip').slice(0, 3)).toEqual([
      '基本信息 完成度17%',
      '其他信息 完成度0%',
      '项目负责人 完成度0%',
    ])
  })

  test('search sends the words', async () => {
    backend.serve('staff_projects.projects_empty')
    const page = await openPage('pages/project-list/index', {})
    backend.serve('staff_projects.projects_search')

    await type(page, '.search-input', ' 碧水湾 ')
    await tap(page, '.search-button')

    expect(backend.requests[1].path).toBe(
      '/api/projects?page=1&per_page=20&q=' + encodeURIComponent('碧水湾'),
    )
    expect(rowTitles(page)).toEqual(['桂城碧水湾'])
  })

  test('pull to refresh reloads the first page', async () => {
    config.pageSize = 2
    backend.serve('staff_projects.projects_page1')
    const page = await openPage('pages/project-list/index', {})
    backend.serve('staff_projects.projects_page1')

    await page.instance.onPullDownRefresh()
    await settle()

    expect(backend.sent()).toEqual([
      'GET /api/projects?page=1&per_page=2',
      'GET /api/projects?page=1&per_page=2',
    ])
    expect(phone.stoppedRefresh).toBe(1)
    expect(rowTitles(page)).toHaveLength(2)
  })

  test('a row opens its project and the button adds one', async () => {
    config.pageSize = 2
    backend.serve('staff_projects.projects_page1')
    const page = await openPage('pages/project-list/index', {})

    await tap(page, '.project-row')
    await tap(page, '.add-project')

    expect(phone.navigation).toEqual([
      { kind: 'navigateTo', url: '/pages/project-detail/index?id=3' },
      { kind: 'navigateTo', url: '/pages/project-add/index' },
    ])
  })

  test('unbound staff are reminded to bind', async () => {
    backend.serve('staff_projects.projects_empty')
    const page = await openPage('pages/project-list/index', {})

    expect(text(page, '.bind-hint')).toBe('您还未绑定微信通知，收不到退回通知。点此绑定')
    await tap(page, '.bind-hint')
    expect(phone.navigation).toEqual([{ kind: 'navigateTo', url: '/pages/bind/index' }])
  })

  test('failed load shows the reason', async () => {
    backend.failNetwork()
    const page = await openPage('pages/project-list/index', {})

    expect(text(page, '.list-error')).toBe('网络连接失败，请检查网络后重试')
  })
})

describe('review list', () => {
  beforeEach(() => {
    signIn('token-reviewer', REVIEWER)
  })

  test('rows show the pending badge and open the first pending category', async () => {
    backend.serve('review.review_projects_all')
    const page = await openPage('pages/review-list/index', {})

    expect(rowTitles(page)).toEqual(['狮山锦绣华庭', '狮山翠湖花园'])
    expect(texts(page, '.project-row .pending-count')).toEqual(['待复核 3', '待复核 3'])
    expect(page.querySelectorAll('.project-row .chip--pending')).toHaveLength(6)
    expect(texts(page, '.project-row .chip').slice(0, 3)).toEqual([
      '基本信息 待复核',
      '其他信息 待复核',
      '项目负责人 待复核',
    ])
    await tap(page, '.project-row')

    expect(phone.navigation).toEqual([
      { kind: 'navigateTo', url: '/pages/review-detail/index?id=2&category=basic' },
    ])
  })

  test('search and the returned filter', async () => {
    backend.serve('review.review_projects_all')
    const page = await openPage('pages/review-list/index', {})
    backend.serve('review.review_projects_search', 'review.review_projects_returned')

    await type(page, '.search-input', '锦绣')
    await tap(page, '.search-button')
    expect(rowTitles(page)).toEqual(['狮山锦绣华庭'])

    backend.serve('review.review_projects_all')
    await tap(page, '.clear-search')
    expect(backend.sent()[2]).toBe('GET /api/review/projects?page=1&per_page=20')
    await tap(page, '.tab-returned')

    expect(backend.sent()[3]).toBe('GET /api/review/projects?page=1&per_page=20&filter=returned')
    expect(rowTitles(page)).toEqual(['狮山翠湖花园'])
  })

  test('approved filter lists finished projects', async () => {
    backend.serve('review.review_projects_approved')
    const page = await openPage('pages/review-list/index', { filter: 'approved' })

    expect(texts(page, '.project-row .row__head .badge')).toEqual(['已通过'])
    expect(page.querySelectorAll('.project-row .chip--approved')).toHaveLength(3)
  })
})

describe('adding a project', () => {
  beforeEach(() => {
    signIn('token-staff', STAFF)
  })

  async function openAdd() {
    backend.serve('staff_projects.towns')
    const page = await openPage('pages/project-add/index', {})
    return page
  }

  async function fillProject(page, body) {
    await type(page, '.input-name', body.name)
    await type(page, '.input-address', body.address)
    const index = page.data.towns.findIndex((town) => town.id === body.town_id)
    page.querySelector('.town-picker').dispatchEvent('change', { detail: { value: String(index) } })
    await settle()
  }

  test('new project opens for filling', async () => {
    const page = await openAdd()
    const recorded = fixture('staff_projects.project_add')
    backend.serve('staff_projects.project_add')

    expect(page.data.townNames).toHaveLength(7)
    await fillProject(page, recorded.request.body)
    await tap(page, '.submit')

    expect(backend.requests[1].body).toEqual(recorded.request.body)
    expect(phone.modals).toEqual([])
    expect(phone.navigation).toEqual([
      { kind: 'redirectTo', url: '/pages/project-detail/index?id=1' },
    ])
  })

  test('similar project is named before going on', async () => {
    const page = await openAdd()
    const recorded = fixture('staff_projects.project_add_duplicate')
    backend.serve('staff_projects.project_add_duplicate')

    await fillProject(page, recorded.request.body)
    await tap(page, '.submit')

    expect(phone.modals).toEqual([
      {
        title: '可能重复',
        content: '您已添加过相似的项目：“狮山翠湖花园”。如为同一项目，请勿重复填报。',
      },
    ])
    expect(phone.navigation).toEqual([
      { kind: 'redirectTo', url: '/pages/project-detail/index?id=2' },
    ])
  })

  test('missing values are named without sending', async () => {
    const page = await openAdd()

    await tap(page, '.submit')

    expect(backend.sent()).toEqual(['GET /api/towns'])
    expect(text(page, '.error-name')).toBe('项目名称不能为空，请填写')
    expect(text(page, '.error-town')).toBe('请选择所属镇街')
  })
})
