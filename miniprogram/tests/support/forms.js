/**
 * Typing into the schema-driven form of a page the way a user does: through
 * each form-field component's own input, picker or date picker.
 */

const { settle } = require('./pages')

function fieldOf(page, key) {
  const field = page.querySelector('.field-' + key)
  if (!field) {
    throw new Error('no form field ' + key)
  }
  return field
}

/** Enter one value into the field `key` of a page's form. */
async function enter(page, key, value) {
  const field = fieldOf(page, key)
  const spec = field.data.field
  if (spec.type === 'select') {
    const index = spec.options.indexOf(value)
    field
      .querySelector('.field__picker')
      .dispatchEvent('change', { detail: { value: String(index) } })
  } else if (spec.type === 'date') {
    field.querySelector('.field__picker').dispatchEvent('change', { detail: { value } })
  } else if (spec.type === 'textarea') {
    field
      .querySelector('.field__textarea')
      .dispatchEvent('input', { detail: { value: String(value) } })
  } else {
    const input = field.querySelector('.field__input')
    input.dispatchEvent('input', { detail: { value: String(value) } })
    input.dispatchEvent('blur', { detail: { value: String(value) } })
  }
  await settle(2)
}

/** Enter several values, in the order given. */
async function fill(page, values) {
  for (const key of Object.keys(values)) {
    await enter(page, key, values[key])
  }
}

function fieldError(page, key) {
  const node = fieldOf(page, key).querySelector('.field__error')
  return node ? node.dom.textContent.trim() : null
}

module.exports = { enter, fieldError, fieldOf, fill }
