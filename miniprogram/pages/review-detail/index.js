/**
 * Reviewing one project category by category: the selector with pending
 * badges, the submitted content with the changes since the last approved
 * revision highlighted, an opinion box [复核意见], approve [通过] and
 * return [退回]. Return stays disabled until an opinion is written. "下一条
 * 待复核" opens the next pending entry without going back to the list.
 *
 * Options: id (project), category, entry (the entry id, when opened by
 * "下一条待复核", so that skipping it finds another one).
 */

const api = require('../../utils/api')
const format = require('../../utils/format')
const routes = require('../../utils/routes')
const validators = require('../../utils/validators')

function firstCategory(schema, project, requested) {
  const keys = schema.categories.map((item) => item.key)
  if (keys.indexOf(requested) >= 0) {
    return requested
  }
  const pending = project.categories.find((item) => item.pending)
  return (pending || project.categories[0]).category
}

/** Changes by field key, when there is an approved revision to compare with. */
function changeMap(body) {
  const changes = {}
  if (!body.approved_revision) {
    return changes
  }
  body.changes.forEach((change) => {
    changes[change.key] = { before: change.before, after: change.after }
  })
  return changes
}

function describeReview(review) {
  return {
    id: review.id,
    decision: review.decision,
    label: review.decision_label,
    opinion: review.opinion || '',
    reviewer: review.reviewer,
    time: format.formatTime(review.created_at),
  }
}

Page({
  data: {
    loading: true,
    loadError: '',
    project: null,
    categories: [],
    active: '',
    label: '',
    fields: [],
    values: {},
    changes: {},
    changeCount: 0,
    entry: null,
    revision: null,
    approvedRevision: null,
    canReview: false,
    reviews: [],
    opinion: '',
    opinionFilled: false,
    opinionError: '',
    maxOpinion: validators.OPINION_MAX_LENGTH,
    deciding: false,
    decided: '',
    noMorePending: false,
  },

  onLoad(options) {
    const settings = options || {}
    if (!api.requireSession(this.route, settings, routes.REVIEW_ROLES)) {
      return
    }
    this.projectId = Number(settings.id)
    // The entry id comes with "下一条待复核", because the API's entry shape has none.
    this.entryId = Number(settings.entry) || null
    if (!this.projectId) {
      this.setData({ loading: false, loadError: '缺少项目编号，请从复核列表进入' })
      return
    }
    this.load(settings.category)
  },

  async load(requested) {
    this.setData({ loading: true, loadError: '' })
    try {
      const [schema, body] = await Promise.all([
        api.fetchSchema(),
        api.get('/api/projects/' + this.projectId),
      ])
      this.schema = schema
      this.setData({ project: body.project, categories: body.project.categories })
      wx.setNavigationBarTitle({ title: body.project.name })
      await this.openCategory(firstCategory(schema, body.project, requested))
    } catch (err) {
      this.setData({ loadError: err.message })
    } finally {
      this.setData({ loading: false })
    }
  },

  async openCategory(key) {
    const path = '/api/review/projects/' + this.projectId + '/categories/' + key
    const body = await api.get(path)
    const spec = this.schema.categories.find((item) => item.key === key)
    const changes = changeMap(body)
    this.setData({
      active: key,
      label: spec.label,
      fields: spec.fields,
      values: body.revision_data || body.entry.data,
      changes,
      changeCount: Object.keys(changes).length,
      entry: body.entry,
      revision: body.revision,
      approvedRevision: body.approved_revision,
      canReview: body.can_review,
      reviews: body.reviews.map(describeReview),
      opinion: '',
      opinionFilled: false,
      opinionError: '',
      decided: '',
      noMorePending: false,
    })
  },

  async onSelectCategory(event) {
    try {
      await this.openCategory(event.detail.category)
    } catch (err) {
      wx.showToast({ title: err.message, icon: 'none' })
    }
  },

  onOpinionInput(event) {
    const opinion = event.detail.value
    this.setData({ opinion, opinionFilled: Boolean(opinion.trim()), opinionError: '' })
  },

  onApprove() {
    return this.decide('approve')
  },

  onReturn() {
    return this.decide('return')
  },

  async decide(decision) {
    const problem = validators.opinionProblem(decision, this.data.opinion)
    if (problem) {
      this.setData({ opinionError: problem })
      return
    }
    if (this.data.deciding) {
      return
    }
    this.setData({ deciding: true })
    const path = '/api/review/projects/' + this.projectId + '/categories/' + this.data.active
    try {
      const body = await api.post(path + '/' + decision, {
        revision_id: this.data.revision.id,
        opinion: this.data.opinion.trim(),
      })
      this.showDecision(decision, body)
    } catch (err) {
      this.decisionFailed(err)
    } finally {
      this.setData({ deciding: false })
    }
  },

  showDecision(decision, body) {
    const label = decision === 'approve' ? '已通过' : '已退回'
    this.setData({
      project: body.project,
      categories: body.project.categories,
      entry: body.entry,
      canReview: false,
      decided: label,
      reviews: [describeReview(body.review)].concat(this.data.reviews),
    })
    wx.showToast({ title: label, icon: 'success' })
  },

  async decisionFailed(err) {
    if (err.statusCode === 409) {
      await new Promise((resolve) => {
        wx.showModal({
          title: '请刷新后再复核',
          content: err.message,
          showCancel: false,
          complete: resolve,
        })
      })
      await this.openCategory(this.data.active)
      return
    }
    this.setData({ opinionError: (err.fields && err.fields.opinion) || err.message })
  },

  /**
   * Open the oldest pending entry of the town other than this one, or tell
   * the reviewer that none is left. After a decision this entry is no longer
   * pending anyway.
   */
  async onNextPending() {
    try {
      const body = await api.get('/api/review/next-pending', { after_entry: this.entryId })
      if (!body.next) {
        this.setData({ noMorePending: true })
        wx.showToast({ title: '暂无其他待复核内容', icon: 'none' })
        return
      }
      wx.redirectTo({
        url: routes.withQuery(routes.PAGES.reviewDetail, {
          id: body.next.project_id,
          category: body.next.category,
          entry: body.next.entry_id,
        }),
      })
    } catch (err) {
      wx.showToast({ title: err.message, icon: 'none' })
    }
  },

  onBackToList() {
    wx.reLaunch({ url: routes.withQuery(routes.PAGES.reviewList, { filter: 'pending' }) })
  },

  onRetry() {
    this.load(this.data.active)
  },
})
