/**
 * Paged project lists with search, filter, pull to refresh and endless
 * scroll, shared by the staff list and the reviewer list.
 */

const api = require('./api')
const config = require('../config')

/**
 * Load one page of `path` into the page's `projects`. `reset` starts again
 * from the first page, otherwise the next page is appended. `describe`
 * turns one project of the API into what the row shows.
 */
async function loadPage(page, path, query, reset, describe) {
  if (page.data.loading) {
    return
  }
  const number = reset ? 1 : page.data.page + 1
  page.setData({ loading: true, errorMessage: '' })
  try {
    const body = await api.get(
      path,
      Object.assign({ page: number, per_page: config.pageSize }, query),
    )
    const rows = body.projects.map(describe)
    const projects = reset ? rows : page.data.projects.concat(rows)
    page.setData({
      projects,
      page: body.page,
      total: body.total,
      finished: projects.length >= body.total,
      loaded: true,
    })
  } catch (err) {
    page.setData({ errorMessage: err.message })
  } finally {
    page.setData({ loading: false })
  }
}

const LIST_DATA = {
  projects: [],
  page: 0,
  total: 0,
  finished: false,
  loading: false,
  loaded: false,
  errorMessage: '',
  q: '',
}

module.exports = { LIST_DATA, loadPage }
