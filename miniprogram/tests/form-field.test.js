/**
 * The form field renderer, for every field type of the recorded schema.
 */

const { fixture } = require('./support/backend')
const { render, settle, signIn, tap, text } = require('./support/pages')

const SCHEMA = fixture('staff_projects.schema').response.body
const FIELDS = {}
SCHEMA.categories.forEach((category) => {
  category.fields.forEach((spec) => {
    FIELDS[spec.type] = FIELDS[spec.type] || spec
  })
})

function renderField(properties) {
  return render('components/form-field/index', properties)
}

function listen(field) {
  const events = []
  field.addEventListener('fieldchange', (event) => events.push(['change', event.detail]))
  field.addEventListener('fieldblur', (event) => events.push(['blur', event.detail]))
  return events
}

test('schema covers every field type', () => {
  expect(Object.keys(FIELDS).sort()).toEqual([
    'credit_code',
    'date',
    'file',
    'id_number',
    'integer',
    'mobile',
    'number',
    'phone',
    'select',
    'text',
    'textarea',
    'town',
  ])
})

test.each([
  ['text', 'text', '请填写项目名称'],
  ['number', 'digit', '请填写数值'],
  ['integer', 'number', '请填写整数'],
  ['id_number', 'idcard', '请填写18位居民身份证号码'],
  ['credit_code', 'text', '请填写18位统一社会信用代码'],
  ['mobile', 'number', '请填写11位手机号码'],
  ['phone', 'text', '手机号码或固定电话，如0757-83380526'],
])('%s renders an input with the %s keyboard', async (type, keyboard, placeholder) => {
  const field = renderField({ field: FIELDS[type], value: null })
  await settle(1)
  const input = field.querySelector('.field__input')
  expect(input).toBeTruthy()
  expect(field.data.inputType).toBe(keyboard)
  expect(field.data.placeholder).toBe(placeholder)
  expect(text(field, '.field__label')).toContain(FIELDS[type].label)
  expect(text(field, '.field__required')).toBe('*')
})

test('input sends change and blur with the field key', async () => {
  const field = renderField({ field: FIELDS.integer, value: 640 })
  const events = listen(field)
  await settle(1)
  expect(field.data.text).toBe('640')

  field.querySelector('.field__input').dispatchEvent('input', { detail: { value: '660' } })
  field.querySelector('.field__input').dispatchEvent('blur', { detail: { value: '660' } })
  await settle(1)

  expect(events).toEqual([
    ['change', { key: FIELDS.integer.key, value: '660' }],
    ['blur', { key: FIELDS.integer.key, value: '660' }],
  ])
})

test('number shows its unit beside the input', async () => {
  const field = renderField({ field: FIELDS.number, value: 52000.5 })
  await settle(1)
  expect(text(field, '.field__suffix')).toBe('m²')
  expect(text(field, '.field__label')).toBe('建筑面积*')
})

test('textarea renders a text area', async () => {
  const field = renderField({ field: FIELDS.textarea, value: '小区东门有施工' })
  await settle(1)
  expect(field.querySelector('.field__textarea')).toBeTruthy()
  expect(field.querySelector('.field__input')).toBeFalsy()
  expect(field.data.maxLength).toBe(500)
  expect(text(field, '.field__required')).toBeNull()
})

test('select picks an option by index', async () => {
  const field = renderField({ field: FIELDS.select, value: null })
  const events = listen(field)
  await settle(1)
  expect(text(field, '.field__picker-text')).toBe('请选择')

  field.querySelector('.field__picker').dispatchEvent('change', { detail: { value: '2' } })
  await settle(1)

  expect(events[0]).toEqual(['change', { key: 'property_type', value: '办公' }])
})

test('select shows the chosen option', async () => {
  const field = renderField({ field: FIELDS.select, value: '住宅' })
  await settle(1)
  expect(text(field, '.field__picker-text')).toBe('住宅')
  expect(field.data.optionIndex).toBe(0)
})

test('date picker sends the picked date and stops at today when not_future', async () => {
  const field = renderField({ field: FIELDS.date, value: '' })
  const events = listen(field)
  await settle(1)
  expect(text(field, '.field__picker-text')).toBe('请选择日期')
  expect(FIELDS.date.not_future).toBe(true)

  field.querySelector('.field__picker').dispatchEvent('change', { detail: { value: '2015-06-30' } })
  await settle(1)

  expect(events[0]).toEqual(['change', { key: 'delivery_date', value: '2015-06-30' }])
})

test('town is read-only and filled from the project', async () => {
  const field = renderField({ field: FIELDS.town, value: '狮山镇' })
  await settle(1)
  expect(text(field, '.field__value')).toBe('狮山镇')
  expect(text(field, '.field__hint')).toBe('按项目所属镇街自动填写')
  expect(field.querySelector('.field__input')).toBeFalsy()
})

test('file uploads the chosen photo and sends the file id', async () => {
  signIn('token-staff', fixture('staff_auth.register_ok').response.body.user)
  backend.serve('staff_projects.upload_file')
  const field = renderField({ field: FIELDS.file, value: null })
  const events = listen(field)
  await settle(1)
  expect(text(field, '.field__value')).toBe('未上传')

  await tap(field, '.file-choose')

  const fileId = fixture('staff_projects.upload_file').response.body.file.id
  expect(events[0]).toEqual(['change', { key: 'manager_id_proof', value: fileId }])
  expect(backend.requests[0].filePath).toBe('wxfile://tmp/photo.png')
  expect(field.data.preview).toBe('wxfile://tmp/photo.png')
})

test('file upload failure is shown beside the field', async () => {
  signIn('token-staff', fixture('staff_auth.register_ok').response.body.user)
  backend.failNetwork()
  const field = renderField({ field: FIELDS.file, value: null })
  await settle(1)

  await tap(field, '.file-choose')

  expect(text(field, '.field__error')).toBe('上传失败：网络连接失败，请检查网络后重试')
})

test('error is shown below the field', async () => {
  const field = renderField({
    field: FIELDS.id_number,
    value: '36042619910102009X',
    error: '居民身份证号码校验位不正确',
  })
  await settle(1)
  expect(text(field, '.field__error')).toBe('居民身份证号码校验位不正确')
  expect(field.querySelector('.field--error')).toBeTruthy()
})

test('read-only field shows value with unit', async () => {
  const field = renderField({ field: FIELDS.integer, value: 640, readonly: true })
  await settle(1)
  expect(text(field, '.field__value')).toBe('640 户')
  expect(field.querySelector('.field__input')).toBeFalsy()
  expect(text(field, '.field__required')).toBeNull()
})

test('read-only empty field says not filled', async () => {
  const field = renderField({ field: FIELDS.phone, value: null, readonly: true })
  await settle(1)
  expect(text(field, '.field__value')).toBe('未填写')
})

test('changed field shows the value before', async () => {
  const field = renderField({
    field: FIELDS.integer,
    value: 660,
    readonly: true,
    change: { before: 640, after: 660 },
  })
  await settle(1)
  expect(text(field, '.field__changed-tag')).toBe('已修改')
  expect(text(field, '.field__before')).toBe('修改前：640 户')
  expect(field.querySelector('.field--changed')).toBeTruthy()
})
