/**
 * Page paths and query strings, shared by every page.
 *
 * Template messages open pages by path with a query string (the digest opens
 * the review list, a reminder the pending filter, a return notice one
 * category of one project), so every page must rebuild its own URL to come
 * back to after login.
 */

const PAGES = {
  login: '/pages/login/index',
  register: '/pages/register/index',
  bind: '/pages/bind/index',
  changePassword: '/pages/change-password/index',
  projectList: '/pages/project-list/index',
  projectAdd: '/pages/project-add/index',
  projectDetail: '/pages/project-detail/index',
  reviewList: '/pages/review-list/index',
  reviewDetail: '/pages/review-detail/index',
}

const REVIEW_ROLES = ['reviewer', 'official', 'admin']

function queryString(params) {
  const parts = []
  Object.keys(params || {}).forEach((key) => {
    const value = params[key]
    if (value === undefined || value === null || value === '') {
      return
    }
    parts.push(encodeURIComponent(key) + '=' + encodeURIComponent(String(value)))
  })
  return parts.join('&')
}

/** Join a path and query parameters, leaving out empty values. */
function withQuery(path, params) {
  const query = queryString(params)
  return query ? path + '?' + query : path
}

/** Rebuild a page URL from its route ("pages/x/index") and onLoad options. */
function pageUrl(route, options) {
  const path = route.charAt(0) === '/' ? route : '/' + route
  return withQuery(path, options)
}

/**
 * Accept only a page of this app as a place to return to, so that a crafted
 * redirect option cannot send the user anywhere else.
 */
function safeRedirect(url) {
  if (typeof url !== 'string' || url.indexOf('/pages/') !== 0) {
    return ''
  }
  const path = url.split('?')[0]
  const known = Object.keys(PAGES).some((name) => PAGES[name] === path)
  return known ? url : ''
}

function isReviewRole(role) {
  return REVIEW_ROLES.indexOf(role) >= 0
}

/** The first page of a signed-in user, by role and account state. */
function homeUrl(user) {
  if (!user) {
    return PAGES.register
  }
  if (user.must_change_password) {
    return PAGES.changePassword
  }
  return isReviewRole(user.role) ? PAGES.reviewList : PAGES.projectList
}

function loginUrl(returnUrl) {
  return withQuery(PAGES.login, { redirect: safeRedirect(returnUrl) })
}

module.exports = {
  PAGES,
  REVIEW_ROLES,
  homeUrl,
  isReviewRole,
  loginUrl,
  pageUrl,
  queryString,
  safeRedirect,
  withQuery,
}
