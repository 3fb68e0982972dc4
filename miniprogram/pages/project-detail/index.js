/**
 * One project, category by category: the category selector and the form of
 * the chosen category, rendered from the form schema. Saving sends the
 * version the form was loaded with. A category filled in completely is
 * submitted for review [复核] automatically.
 *
 * A 409 (someone saved first) shows what differs from what the user typed
 * and lets them carry on from the newest version without losing their
 * input. Input that could not be sent (no network, server down) is kept on
 * the phone and offered again next time.
 *
 * Options: id (project), category (a return notice opens the returned one).
 */

const api = require('../../utils/api')
const conflict = require('../../utils/conflict')
const drafts = require('../../utils/drafts')
const format = require('../../utils/format')
const validators = require('../../utils/validators')

/** Pick the category to open: the requested one, a returned one, an unfinished one. */
function firstCategory(schema, project, requested) {
  const keys = schema.categories.map((item) => item.key)
  if (keys.indexOf(requested) >= 0) {
    return requested
  }
  const entries = project.categories
  const returned = entries.find((item) => item.state === 'returned')
  const unfinished = entries.find((item) => item.completeness < 100)
  return (returned || unfinished || entries[0]).category
}

/** Build the form values of an entry, with the project's town in a town field. */
function formValues(fields, data, townName) {
  const values = Object.assign({}, data)
  fields
    .filter((spec) => spec.type === 'town')
    .forEach((spec) => {
      values[spec.key] = townName
    })
  return values
}

/** Drop the read-only town and empty values before sending. */
function payload(fields, cleaned) {
  const data = {}
  fields.forEach((spec) => {
    if (spec.type !== 'town' && cleaned[spec.key] !== undefined) {
      data[spec.key] = cleaned[spec.key]
    }
  })
  return data
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
    statusClass: '',
    categories: [],
    active: '',
    label: '',
    fields: [],
    values: {},
    errors: {},
    entry: null,
    version: 0,
    missingCount: 0,
    reviews: [],
    draft: null,
    conflict: null,
    saving: false,
    saveError: '',
  },

  onLoad(options) {
    const settings = options || {}
    if (!api.requireSession(this.route, settings, ['staff'])) {
      return
    }
    this.projectId = Number(settings.id)
    if (!this.projectId) {
      this.setData({ loading: false, loadError: '缺少项目编号，请从项目列表进入' })
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
      this.setProject(body.project)
      wx.setNavigationBarTitle({ title: body.project.name })
      await this.openCategory(firstCategory(schema, body.project, requested))
    } catch (err) {
      this.setData({ loadError: err.message })
    } finally {
      this.setData({ loading: false })
    }
  },

  setProject(project) {
    this.setData({
      project,
      categories: project.categories,
      statusClass: format.statusBadge(project.status),
    })
  },

  categorySchema(key) {
    return this.schema.categories.find((item) => item.key === key)
  },

  async openCategory(key) {
    const body = await api.get('/api/projects/' + this.projectId + '/categories/' + key)
    const spec = this.categorySchema(key)
    const entry = body.entry
    const values = formValues(spec.fields, entry.data, this.data.project.town.name)
    const draft = drafts.loadDraft(this.projectId, key)
    const offer = draft && !conflict.sameValues(spec.fields, draft.data, values) ? draft : null
    if (draft && !offer) {
      drafts.clearDraft(this.projectId, key)
    }
    this.dirty = false
    this.setData({
      active: key,
      label: spec.label,
      fields: spec.fields,
      values,
      errors: {},
      entry,
      version: entry.version,
      missingCount: entry.missing.length,
      reviews: body.reviews.map(describeReview),
      draft: offer ? { savedAt: format.formatTime(offer.saved_at) } : null,
      conflict: null,
      saveError: '',
    })
  },

  /** Keep unsaved input on the phone and return true when there was any. */
  keepUnsaved() {
    if (!this.dirty) {
      return false
    }
    drafts.saveDraft(this.projectId, this.data.active, this.data.values, this.data.version)
    this.dirty = false
    return true
  },

  onHide() {
    this.keepUnsaved()
  },

  onUnload() {
    this.keepUnsaved()
  },

  /** Switch category, keeping unsaved input of the one left on the phone. */
  async onSelectCategory(event) {
    if (this.keepUnsaved()) {
      wx.showToast({ title: '未保存的修改已暂存在本机', icon: 'none' })
    }
    try {
      await this.openCategory(event.detail.category)
    } catch (err) {
      wx.showToast({ title: err.message, icon: 'none' })
    }
  },

  onFieldChange(event) {
    const { key, value } = event.detail
    this.dirty = true
    this.setData({ ['values.' + key]: value, ['errors.' + key]: '' })
  },

  onFieldBlur(event) {
    const { key, value } = event.detail
    const spec = this.data.fields.find((item) => item.key === key)
    const checked = validators.checkField(spec, value)
    this.setData({ ['errors.' + key]: checked.error })
  },

  async onSave() {
    if (this.data.saving) {
      return
    }
    const spec = this.categorySchema(this.data.active)
    const checked = validators.validateCategory(spec, this.data.values, {
      townName: this.data.project.town.name,
    })
    if (Object.keys(checked.errors).length) {
      this.setData({ errors: checked.errors, saveError: '填写内容有误，请按提示修改后再保存' })
      return
    }

    const data = payload(spec.fields, checked.data)
    this.setData({ saving: true, saveError: '' })
    try {
      const body = await api.put(this.categoryPath(), { version: this.data.version, data })
      this.saved(body)
    } catch (err) {
      this.saveFailed(err)
    } finally {
      this.setData({ saving: false })
    }
  },

  categoryPath() {
    return '/api/projects/' + this.projectId + '/categories/' + this.data.active
  },

  saved(body) {
    const entry = body.entry
    drafts.clearDraft(this.projectId, this.data.active)
    this.dirty = false
    this.setProject(body.project)
    this.setData({
      entry,
      version: entry.version,
      values: formValues(this.data.fields, entry.data, body.project.town.name),
      missingCount: entry.missing.length,
      draft: null,
      conflict: null,
    })
    const title =
      entry.state === 'submitted' ? '已保存并提交复核' : '已保存，完成度' + entry.completeness + '%'
    wx.showToast({ title, icon: entry.state === 'submitted' ? 'success' : 'none' })
  },

  saveFailed(err) {
    if (err.statusCode === 409 && err.current) {
      this.showConflict(err.current)
      return
    }
    if (err.unreachable) {
      drafts.saveDraft(this.projectId, this.data.active, this.data.values, this.data.version)
      this.setData({
        saveError:
          err.message +
          '。您的填写已保存在本机，恢复网络后请再次点击保存，下次打开本页时也可恢复。',
      })
      return
    }
    this.setData({ errors: err.fields || {}, saveError: err.message })
  },

  showConflict(current) {
    this.latest = current
    const rows = conflict.conflictRows(this.data.fields, this.data.values, current.data)
    this.setData({
      conflict: {
        rows,
        updatedAt: format.formatTime(current.updated_at),
        stateLabel: current.state_label,
      },
    })
  },

  /** Carry on from the newest version, keeping what the user typed. */
  onKeepMine() {
    const latest = this.latest
    this.setData({ entry: latest, version: latest.version, conflict: null })
    wx.showToast({ title: '已保留您的填写，请核对后再次保存', icon: 'none' })
  },

  /** Show the newest data; what the user typed is kept on the phone to restore. */
  onUseLatest() {
    const latest = this.latest
    drafts.saveDraft(this.projectId, this.data.active, this.data.values, latest.version)
    this.dirty = false
    this.setData({
      entry: latest,
      version: latest.version,
      values: formValues(this.data.fields, latest.data, this.data.project.town.name),
      errors: {},
      missingCount: latest.missing.length,
      conflict: null,
      draft: { savedAt: format.formatTime(new Date().toISOString()) },
    })
  },

  onRestoreDraft() {
    const draft = drafts.loadDraft(this.projectId, this.data.active)
    if (!draft) {
      this.setData({ draft: null })
      return
    }
    this.dirty = true
    this.setData({
      values: formValues(this.data.fields, draft.data, this.data.project.town.name),
      version: draft.version,
      draft: null,
    })
  },

  onDiscardDraft() {
    drafts.clearDraft(this.projectId, this.data.active)
    this.setData({ draft: null })
  },

  onRetry() {
    this.load(this.data.active)
  },
})
