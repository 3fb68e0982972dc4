/**
 * The staff's projects: search, status filter (填报中/待复核/已退回/已通过),
 * pull to refresh and endless scroll. Each row shows the project status and
 * the completeness of each category.
 *
 * Options: status, one of the filter values.
 */

const api = require('../../utils/api')
const format = require('../../utils/format')
const list = require('../../utils/list')
const routes = require('../../utils/routes')

const TABS = [
  { value: '', label: '全部' },
  { value: 'filling', label: '填报中' },
  { value: 'pending', label: '待复核' },
  { value: 'returned', label: '已退回' },
  { value: 'approved', label: '已通过' },
]

const CHIP_CLASSES = {
  submitted: 'chip--pending',
  returned: 'chip--returned',
  approved: 'chip--approved',
}

function describeCategory(category) {
  const done = category.state === 'submitted' || category.state === 'approved'
  return {
    key: category.category,
    text:
      category.label +
      ' ' +
      (done || category.state === 'returned'
        ? category.state_label
        : '完成度' + category.completeness + '%'),
    chipClass: CHIP_CLASSES[category.state] || '',
  }
}

function describeProject(project) {
  return {
    id: project.id,
    name: project.name,
    address: project.address,
    town: project.town.name,
    statusLabel: project.status_label,
    statusClass: format.statusBadge(project.status),
    categories: project.categories.map(describeCategory),
    updatedAt: format.formatTime(project.updated_at),
  }
}

Page({
  data: Object.assign({}, list.LIST_DATA, {
    tabs: TABS,
    status: '',
    user: null,
  }),

  onLoad(options) {
    const settings = options || {}
    const user = api.requireSession(this.route, settings, ['staff'])
    if (!user) {
      return
    }
    const status = TABS.some((tab) => tab.value === settings.status) ? settings.status : ''
    this.setData({ user, status })
    this.load(true)
  },

  onShow() {
    // Coming back from a project: its status may have changed.
    if (this.data.loaded) {
      this.load(true)
    }
  },

  load(reset) {
    const query = { q: this.data.q.trim(), status: this.data.status }
    return list.loadPage(this, '/api/projects', query, reset, describeProject)
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
    this.setData({ status: event.currentTarget.dataset.value })
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
    const id = event.currentTarget.dataset.id
    wx.navigateTo({ url: routes.withQuery(routes.PAGES.projectDetail, { id }) })
  },

  onAdd() {
    wx.navigateTo({ url: routes.PAGES.projectAdd })
  },

  onBind() {
    wx.navigateTo({ url: routes.PAGES.bind })
  },
})
