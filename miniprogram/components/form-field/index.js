/**
 * One field of the form schema: an input for the staff form, or read-only
 * text for the review screen. The parent page owns the values and errors.
 * Edits are sent up as `fieldchange` events ({key, value}) and `fieldblur`
 * events, on which the page runs the local checks. The names differ from the
 * inner input's own change and blur events so the two cannot be confused.
 */

const api = require('../../utils/api')
const format = require('../../utils/format')
const validators = require('../../utils/validators')

// Keyboards of the phone for each text-like field type.
const INPUT_TYPES = {
  number: 'digit',
  integer: 'number',
  id_number: 'idcard',
  mobile: 'number',
  phone: 'text',
  credit_code: 'text',
  text: 'text',
}
const MAX_LENGTHS = { id_number: 18, credit_code: 18, mobile: 11, phone: 20 }
const PLACEHOLDERS = {
  number: '请填写数值',
  integer: '请填写整数',
  id_number: '请填写18位居民身份证号码',
  credit_code: '请填写18位统一社会信用代码',
  mobile: '请填写11位手机号码',
  phone: '手机号码或固定电话，如0757-83380526',
}
const KINDS = {
  textarea: 'textarea',
  select: 'select',
  date: 'date',
  town: 'town',
  file: 'file',
}

function describe(spec, value, change) {
  const kind = KINDS[spec.type] || 'input'
  const text = value === undefined || value === null ? '' : String(value)
  const options = spec.options || []
  return {
    kind,
    text,
    display: format.displayValue(spec, value),
    inputType: INPUT_TYPES[spec.type] || 'text',
    maxLength: MAX_LENGTHS[spec.type] || spec.max_length || 140,
    placeholder: PLACEHOLDERS[spec.type] || '请填写' + spec.label,
    optionIndex: options.indexOf(value),
    today: validators.todayIso(),
    beforeText: change ? format.displayValue(spec, change.before) : '',
  }
}

Component({
  options: { styleIsolation: 'apply-shared' },

  properties: {
    field: { type: Object, value: {} },
    value: { type: null, value: null },
    error: { type: String, value: '' },
    readonly: { type: Boolean, value: false },
    // {before, after} when the review screen highlights a changed field.
    change: { type: Object, value: null },
  },

  data: {
    kind: 'input',
    text: '',
    display: '',
    uploading: false,
    uploadError: '',
    preview: '',
  },

  observers: {
    'field, value, change': function (field, value, change) {
      if (field && field.key) {
        this.setData(describe(field, value, change))
      }
    },
  },

  methods: {
    emit(name, value) {
      this.triggerEvent(name, { key: this.data.field.key, value })
    },

    onInput(event) {
      this.emit('fieldchange', event.detail.value)
    },

    onBlur(event) {
      this.emit('fieldblur', event.detail.value)
    },

    onPick(event) {
      const value = this.data.field.options[Number(event.detail.value)]
      this.emit('fieldchange', value)
      this.emit('fieldblur', value)
    },

    onPickDate(event) {
      this.emit('fieldchange', event.detail.value)
      this.emit('fieldblur', event.detail.value)
    },

    onChooseFile() {
      wx.chooseMedia({
        count: 1,
        mediaType: ['image'],
        sourceType: ['album', 'camera'],
        sizeType: ['compressed'],
        success: (res) => this.uploadFile(res.tempFiles[0].tempFilePath),
      })
    },

    async uploadFile(path) {
      this.setData({ uploading: true, uploadError: '' })
      try {
        const body = await api.upload('/api/files', path, 'file')
        this.setData({ preview: path })
        this.emit('fieldchange', body.file.id)
        this.emit('fieldblur', body.file.id)
      } catch (err) {
        const message = err.fields && err.fields.file ? err.fields.file : err.message
        this.setData({ uploadError: '上传失败：' + message })
      } finally {
        this.setData({ uploading: false })
      }
    },

    async onViewFile() {
      try {
        const path = await api.download('/api/files/' + this.data.value)
        wx.previewImage({
          urls: [path],
          fail: () => wx.openDocument({ filePath: path }),
        })
      } catch (err) {
        wx.showToast({ title: err.message, icon: 'none' })
      }
    },
  },
})
