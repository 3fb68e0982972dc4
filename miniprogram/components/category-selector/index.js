/**
 * The category selector [信息分类]: one tab per category with its
 * completeness [完成度] for the staff, or a pending badge [待复核] for the
 * reviewer, and the return opinion on a returned category. Tapping a tab
 * sends a `select` event with {category}.
 */

const format = require('../../utils/format')

// What the reviewer needs from each state: is there something to review?
const REVIEW_BADGES = {
  submitted: '待复核',
  returned: '已退回',
  approved: '已通过',
  draft: '未提交',
  empty: '未提交',
}

function describe(category, active, mode) {
  const review = mode === 'review'
  return {
    key: category.category,
    label: category.label,
    active: category.category === active,
    completeness: category.completeness,
    badge: review ? REVIEW_BADGES[category.state] : category.state_label,
    badgeClass: format.stateBadge(category.state),
    pending: Boolean(category.pending),
    opinion: category.state === 'returned' ? category.last_opinion || '' : '',
  }
}

Component({
  options: { styleIsolation: 'apply-shared' },

  properties: {
    categories: { type: Array, value: [] },
    active: { type: String, value: '' },
    // 'staff' shows completeness, and 'review' shows what waits for review.
    mode: { type: String, value: 'staff' },
  },

  data: {
    items: [],
  },

  observers: {
    'categories, active, mode': function (categories, active, mode) {
      const items = (categories || []).map((item) => describe(item, active, mode))
      this.setData({ items })
    },
  },

  methods: {
    onSelect(event) {
      const category = event.currentTarget.dataset.key
      if (category !== this.data.active) {
        this.triggerEvent('select', { category })
      }
    },
  },
})
