/**
 * Display helpers: times in Beijing time, state badges, field values.
 */

// China has one time zone, UTC+8, with no daylight saving time.
const BEIJING_OFFSET_MS = 8 * 60 * 60 * 1000

function pad2(number) {
  return String(number).padStart(2, '0')
}

/** Format an ISO timestamp from the API as "2026-12-04 09:30" Beijing time. */
function formatTime(iso) {
  if (!iso) {
    return ''
  }
  const time = Date.parse(iso)
  if (Number.isNaN(time)) {
    return ''
  }
  const local = new Date(time + BEIJING_OFFSET_MS)
  return (
    local.getUTCFullYear() +
    '-' +
    pad2(local.getUTCMonth() + 1) +
    '-' +
    pad2(local.getUTCDate()) +
    ' ' +
    pad2(local.getUTCHours()) +
    ':' +
    pad2(local.getUTCMinutes())
  )
}

// Badge colour classes of entry states and project statuses (app.wxss).
const STATE_BADGES = {
  empty: 'badge--muted',
  draft: 'badge--muted',
  submitted: 'badge--pending',
  approved: 'badge--approved',
  returned: 'badge--returned',
}
const STATUS_BADGES = {
  filling: 'badge--muted',
  pending: 'badge--pending',
  returned: 'badge--returned',
  approved: 'badge--approved',
}

function stateBadge(state) {
  return STATE_BADGES[state] || 'badge--muted'
}

function statusBadge(status) {
  return STATUS_BADGES[status] || 'badge--muted'
}

/** Format a field value as read-only text, with its unit. */
function displayValue(spec, value) {
  if (value === undefined || value === null || value === '') {
    return '未填写'
  }
  if (spec.type === 'file') {
    return '已上传（文件编号' + value + '）'
  }
  const text = String(value)
  return spec.unit ? text + ' ' + spec.unit : text
}

module.exports = {
  displayValue,
  formatTime,
  stateBadge,
  statusBadge,
}
