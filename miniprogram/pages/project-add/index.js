/**
 * Adding a project: name, address and town. The other information is
 * filled in by category on the project page that opens next.
 */

const api = require('../../utils/api')
const routes = require('../../utils/routes')
const validators = require('../../utils/validators')

Page({
  data: {
    name: '',
    address: '',
    towns: [],
    townNames: [],
    townIndex: -1,
    townName: '',
    errors: {},
    formError: '',
    submitting: false,
  },

  onLoad(options) {
    if (!api.requireSession(this.route, options, ['staff'])) {
      return
    }
    this.loadTowns()
  },

  async loadTowns() {
    try {
      const body = await api.get('/api/towns')
      this.setData({ towns: body.towns, townNames: body.towns.map((town) => town.name) })
    } catch (err) {
      this.setData({ formError: err.message })
    }
  },

  onInput(event) {
    const key = event.currentTarget.dataset.key
    this.setData({ [key]: event.detail.value, ['errors.' + key]: '' })
  },

  onPickTown(event) {
    const townIndex = Number(event.detail.value)
    this.setData({
      townIndex,
      townName: this.data.townNames[townIndex] || '',
      'errors.town_id': '',
    })
  },

  async onSubmit() {
    const town = this.data.towns[this.data.townIndex]
    const checked = validators.validateProject({
      name: this.data.name,
      address: this.data.address,
      town_id: town ? town.id : null,
    })
    if (Object.keys(checked.errors).length) {
      this.setData({ errors: checked.errors })
      return
    }

    this.setData({ submitting: true, formError: '' })
    try {
      const body = await api.post('/api/projects', checked.values)
      await this.warnDuplicates(body.project)
      wx.redirectTo({
        url: routes.withQuery(routes.PAGES.projectDetail, { id: body.project.id }),
      })
    } catch (err) {
      this.setData({ errors: err.fields || {}, formError: err.message })
    } finally {
      this.setData({ submitting: false })
    }
  },

  /** Tell the user about projects in the town that look the same. */
  warnDuplicates(project) {
    if (!project.duplicate_warning) {
      return Promise.resolve()
    }
    const own = project.possible_duplicates.map((item) => '“' + item.name + '”').join('、')
    const content = own
      ? '您已添加过相似的项目：' + own + '。如为同一项目，请勿重复填报。'
      : '本镇街已有名称或地址相同的项目，复核人员将核对是否重复。'
    return new Promise((resolve) => {
      wx.showModal({ title: '可能重复', content, showCancel: false, complete: resolve })
    })
  },
})
