/**
 * The reviewer's list of the town's projects, with a pending badge [待复核]
 * on each category that waits for review. The daily digest opens this page;
 * a reminder opens it with filter=pending.
 *
 * Options: filter, one of pending, returned, approved (none lists all).
 */

const api = require('../../utils/api')
const format = require('../../utils/format')
const list = require('../../utils/list')
const routes = require('../../utils/routes')

const TABS = [
  { value: '', label: '全部' },
  { value: 'pending', label: '待复核' },
  { value: 'returned', label: '已退回' },
  { value: 'approved', label: '已通过' },
]

const CHIP_CLASSES = {
  submitted: 'chip--pending',
  returned: 'chip--returned',
  approved: 'chip--approved',
}
const CHIP_TEXTS = { submitted: '待复核', returned: '已退回', approved: '已通过' }

function describeProject(project) {
  const pending = project.categories.find((item) => item.pending)
  return {
    id: project.id,
    name: project.name,
    address: project.address,
    company: project.company ? project.company.name : '',
    town: project.town.name,
    statusLabel: project.status_label,
    statusClass: format.statusBadge(project.status),
    pendingCount: project.pending_count,
    openCategory: (pending || project.categories[0]).category,
    categories: project.categories.map((item) => ({
      key: item.category,
      text: item.label + ' ' + (CHIP_TEXTS[item.state] || '未提交'),
      chipClass: CHIP_CLASSES[item.state] || '',
    })),
  }
}

Page({
  data: Object.assign({}, list.LIST_DATA, {
    tabs: TABS,
    filter: '',
    user: null,
  }),

  onLoad(options) {
    const settings = options || {}
    const user = api.requireSession(this.route, settings, routes.REVIEW_ROLES)
    if (!user) {
      return
    }
    const filter = TABS.some((tab) => tab.value === settings.filter) ? settings.filter : ''
    this.setData({ user, filter })
    this.load(true)
  },

  onShow() {
    // Coming back from a review: the project's badges may have changed.
    if (this.data.loaded) {
      this.load(true)
    }
  },

  load(reset) {
    const query = { q: this.data.q.trim(), filter: this.data.filter }
    return list.loadPage(this, '/api/review/projects', query, reset, describeProject)
  },

  async onPullDownRefresh() {
    await this.load(true)
    wx.stopPullDownRefresh()
  },

  onReachBottom() {
    if (!this.data.finished) {
      this.load(false)
    }
  },

  onTab(event) {
    this.setData({ filter: event.currentTarget.dataset.value })
    this.load(true)
  },

  onSearchInput(event) {
    this.setData({ q: event.detail.value })
  },

  onSearch() {
    this.load(true)
  },

  onClearSearch() {
    this.setData({ q: '' })
    this.load(true)
  },

  onOpen(event) {
    const { id, category } = event.currentTarget.dataset
    wx.navigateTo({ url: routes.withQuery(routes.PAGES.reviewDetail, { id, category }) })
  },

  onBind() {
    wx.navigateTo({ url: routes.PAGES.bind })
  },
})
