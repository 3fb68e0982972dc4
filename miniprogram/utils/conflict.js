/**
 * What differs between the values the user typed and the entry someone else
 * saved meanwhile (the `current` entry of a 409 response).
 */

const format = require('./format')
const validators = require('./validators')

/** Clean a value as the server would store it, so that "640" and 640 compare equal. */
function normalise(spec, value) {
  if (validators.isEmpty(value)) {
    return null
  }
  const checked = validators.checkField(spec, value)
  return checked.error ? String(value).trim() : checked.value
}

/**
 * List the fields whose typed value differs from the current data, as rows
 * of {key, label, mine, theirs} display text. The town field is left out
 * because the app fills it in.
 */
function conflictRows(fields, typed, currentData) {
  const rows = []
  fields.forEach((spec) => {
    if (spec.type === 'town') {
      return
    }
    const mine = normalise(spec, typed[spec.key])
    const theirs = normalise(spec, currentData[spec.key])
    if (JSON.stringify(mine) !== JSON.stringify(theirs)) {
      rows.push({
        key: spec.key,
        label: spec.label,
        mine: format.displayValue(spec, mine),
        theirs: format.displayValue(spec, theirs),
      })
    }
  })
  return rows
}

/** True when two sets of form values would save the same data. */
function sameValues(fields, left, right) {
  return conflictRows(fields, left, right).length === 0
}

module.exports = { conflictRows, sameValues }
