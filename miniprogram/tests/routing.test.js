/**
 * Taps on template messages: each opens a page by path and query, and a user
 * without a session goes through login and comes back to that page.
 */

const { fixture } = require('./support/backend')
const { openPage, signIn, text } = require('./support/pages')
const routes = require('../utils/routes')

const REVIEWER = fixture('reviewer_auth.wx_login_reviewer').response.body.user
const STAFF = fixture('staff_auth.wx_login_registered').response.body.user

describe('signed in', () => {
  test('digest opens the whole review list', async () => {
    signIn('token-reviewer', REVIEWER)
    backend.serve('review.review_projects_all')

    const page = await openPage('pages/review-list/index', {})

    expect(backend.sent()).toEqual(['GET /api/review/projects?page=1&per_page=20'])
    expect(page.data.filter).toBe('')
    expect(page.querySelectorAll('.project-row')).toHaveLength(2)
    expect(text(page, '.tab--active')).toBe('全部')
  })

  test('reminder opens the pending filter', async () => {
    signIn('token-reviewer', REVIEWER)
    backend.serve('review.review_projects_pending')

    const page = await openPage('pages/review-list/index', { filter: 'pending' })

    expect(backend.sent()).toEqual(['GET /api/review/projects?page=1&per_page=20&filter=pending'])
    expect(text(page, '.tab--active')).toBe('待复核')
    expect(text(page, '.pending-count')).toBe('待复核 3')
  })

  test('unknown filter falls back to the whole list', async () => {
    signIn('token-reviewer', REVIEWER)
    backend.serve('review.review_projects_all')

    const page = await openPage('pages/review-list/index', { filter: 'everything' })

    expect(page.data.filter).toBe('')
    expect(backend.sent()).toEqual(['GET /api/review/projects?page=1&per_page=20'])
  })

  test('return notice opens the returned category of the project', async () => {
    signIn('token-staff', STAFF)
    backend.serve(
      'staff_projects.schema',
      'staff_projects.project_get_returned',
      'staff_projects.category_basic_returned',
    )

    const page = await openPage('pages/project-detail/index', { id: '1', category: 'basic' })

    expect(backend.sent()).toEqual([
      'GET /api/schema',
      'GET /api/projects/1',
      'GET /api/projects/1/categories/basic',
    ])
    expect(page.data.active).toBe('basic')
    expect(text(page, '.returned .banner__title')).toBe(
      '“基本信息”已被退回，请按复核意见修改后保存',
    )
  })

  test('staff opening the review list goes to their projects', async () => {
    signIn('token-staff', STAFF)

    await openPage('pages/review-list/index', { filter: 'pending' })

    expect(backend.sent()).toEqual([])
    expect(phone.navigation).toEqual([{ kind: 'reLaunch', url: '/pages/project-list/index' }])
  })

  test('reviewer opening a staff page goes to the review list', async () => {
    signIn('token-reviewer', REVIEWER)

    await openPage('pages/project-detail/index', { id: '1', category: 'basic' })

    expect(phone.navigation).toEqual([{ kind: 'reLaunch', url: '/pages/review-list/index' }])
  })
})

describe('not signed in', () => {
  test('reminder goes to login with the page to return to', async () => {
    await openPage('pages/review-list/index', { filter: 'pending' })

    expect(backend.sent()).toEqual([])
    expect(phone.navigation).toEqual([
      {
        kind: 'reLaunch',
        url:
          '/pages/login/index?redirect=' +
          encodeURIComponent('/pages/review-list/index?filter=pending'),
      },
    ])
  })

  test('login comes back to the reminder page', async () => {
    backend.serve('reviewer_auth.wx_login_reviewer')
    const redirect = encodeURIComponent('/pages/review-list/index?filter=pending')

    await openPage('pages/login/index', { redirect })

    expect(backend.sent()).toEqual(['POST /api/auth/wx-login'])
    expect(phone.navigation).toEqual([
      { kind: 'reLaunch', url: '/pages/review-list/index?filter=pending' },
    ])
    expect(wx.getStorageSync('session_token')).toBe('token-reviewer')
  })

  test('login comes back to the return notice page', async () => {
    backend.serve('staff_auth.wx_login_registered')
    const target = '/pages/project-detail/index?id=1&category=basic'

    await openPage('pages/login/index', { redirect: encodeURIComponent(target) })

    expect(phone.navigation).toEqual([{ kind: 'reLaunch', url: target }])
  })

  test('expired session on a request goes to login and back', async () => {
    signIn('token-expired', REVIEWER)
    backend.serve('review.review_projects_expired')

    await openPage('pages/review-list/index', { filter: '' })

    expect(wx.getStorageSync('session_token')).toBe('')
    expect(phone.navigation).toEqual([
      {
        kind: 'reLaunch',
        url: '/pages/login/index?redirect=' + encodeURIComponent('/pages/review-list/index'),
      },
    ])
  })
})

describe('redirect targets', () => {
  test('only pages of this app are accepted', () => {
    expect(routes.safeRedirect('/pages/review-list/index?filter=pending')).toBe(
      '/pages/review-list/index?filter=pending',
    )
    expect(routes.safeRedirect('https://example.com/pages/x')).toBe('')
    expect(routes.safeRedirect('/pages/unknown/index')).toBe('')
    expect(routes.safeRedirect(undefined)).toBe('')
  })

  test('home depends on role and password state', () => {
    expect(routes.homeUrl(STAFF)).toBe('/pages/project-list/index')
    expect(routes.homeUrl(REVIEWER)).toBe('/pages/review-list/index')
    expect(routes.homeUrl(Object.assign({}, REVIEWER, { must_change_password: true }))).toBe(
      '/pages/change-password/index',
    )
    expect(routes.homeUrl(null)).toBe('/pages/register/index')
  })
})
