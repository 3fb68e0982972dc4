/**
 * Local field checks with the same rules and messages as the server
 * (models/validators.py and models/form_schema.py), so that a mistake is
 * shown beside the field before anything is sent. The server checks again:
 * these only save a round trip.
 *
 * Each validateX function returns the cleaned value or throws FieldInvalid,
 * whose message is the Chinese text for the user.
 */

class FieldInvalid extends Error {
  constructor(message) {
    super(message)
    this.name = 'FieldInvalid'
  }
}

/** Map full-width ASCII forms (U+FF01..U+FF5E) and the ideographic space to ASCII. */
function foldWidth(text) {
  let folded = ''
  for (const char of String(text)) {
    const code = char.codePointAt(0)
    if (code >= 0xff01 && code <= 0xff5e) {
      folded += String.fromCharCode(code - 0xfee0)
    } else if (code === 0x3000) {
      folded += ' '
    } else {
      folded += char
    }
  }
  return folded
}

function compact(value) {
  return foldWidth(String(value)).replace(/\s+/g, '')
}

/** Length in characters (code points), as the server counts it. */
function charCount(text) {
  return Array.from(text).length
}

// ---------------------------------------------------------------------------
// Dates are 'YYYY-MM-DD' strings, which compare in calendar order.

function pad(number, width) {
  return String(number).padStart(width, '0')
}

function isoDate(year, month, day) {
  return pad(year, 4) + '-' + pad(month, 2) + '-' + pad(day, 2)
}

const DAYS_IN_MONTH = [31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31]

function isRealDate(year, month, day) {
  if (year < 1 || year > 9999 || month < 1 || month > 12 || day < 1) {
    return false
  }
  const leap = year % 4 === 0 && (year % 100 !== 0 || year % 400 === 0)
  const limit = month === 2 && leap ? 29 : DAYS_IN_MONTH[month - 1]
  return day <= limit
}

/** Return today's date on the phone's calendar, or the injected date for tests. */
function todayIso(today) {
  if (typeof today === 'string') {
    return today
  }
  const now = today || new Date()
  return isoDate(now.getFullYear(), now.getMonth() + 1, now.getDate())
}

// ---------------------------------------------------------------------------
// Resident ID number, GB 11643-1999: weights 2^(17-i) mod 11 for the first
// 17 digits, and the check character indexed by the weighted sum mod 11.

const ID_WEIGHTS = [7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2]
const ID_CHECK_CHARS = '10X98765432'

function idNumberCheckChar(first17) {
  let total = 0
  for (let i = 0; i < 17; i += 1) {
    total += Number(first17[i]) * ID_WEIGHTS[i]
  }
  return ID_CHECK_CHARS[total % 11]
}

function validateIdNumber(value, today) {
  const text = compact(value).toUpperCase()
  if (text.length !== 18) {
    throw new FieldInvalid('应为18位，当前为' + text.length + '位，请核对后重新填写')
  }
  if (!/^\d{17}[\dX]$/.test(text)) {
    throw new FieldInvalid('前17位应为数字，最后一位为数字或X，请核对后重新填写')
  }
  if (text[0] === '0') {
    throw new FieldInvalid('地址码不正确（首位不能为0），请核对后重新填写')
  }

  const year = Number(text.slice(6, 10))
  const month = Number(text.slice(10, 12))
  const day = Number(text.slice(12, 14))
  if (!isRealDate(year, month, day)) {
    throw new FieldInvalid('出生日期（第7至14位）不是有效日期，请核对后重新填写')
  }
  if (isoDate(year, month, day) > todayIso(today) || year < 1900) {
    throw new FieldInvalid('出生日期（第7至14位）不在合理范围，请核对后重新填写')
  }

  if (idNumberCheckChar(text.slice(0, 17)) !== text[17]) {
    throw new FieldInvalid('校验位不正确，请核对号码，特别是最后一位')
  }
  return text
}

// ---------------------------------------------------------------------------
// Unified social credit code, GB 32100-2015: the alphabet omits I, O, Z, S, V.

const CREDIT_ALPHABET = '0123456789ABCDEFGHJKLMNPQRTUWXY'
const CREDIT_WEIGHTS = [1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28]

function creditCodeCheckChar(first17) {
  let total = 0
  for (let i = 0; i < 17; i += 1) {
    total += CREDIT_ALPHABET.indexOf(first17[i]) * CREDIT_WEIGHTS[i]
  }
  return CREDIT_ALPHABET[(31 - (total % 31)) % 31]
}

function validateCreditCode(value) {
  const text = compact(value).toUpperCase()
  if (text.length !== 18) {
    throw new FieldInvalid('应为18位，当前为' + text.length + '位，请核对营业执照后重新填写')
  }
  const forbidden = Array.from(new Set(text.split('').filter((c) => 'IOZSV'.includes(c))))
  if (forbidden.length) {
    forbidden.sort()
    throw new FieldInvalid('不能包含字母' + forbidden.join('、') + '，请核对营业执照上的代码')
  }
  if (text.split('').some((c) => !CREDIT_ALPHABET.includes(c))) {
    throw new FieldInvalid('只能由数字和大写字母组成，请核对营业执照上的代码')
  }
  if (creditCodeCheckChar(text.slice(0, 17)) !== text[17]) {
    throw new FieldInvalid('校验位不正确，请核对营业执照上的代码，特别是最后一位')
  }
  return text
}

// ---------------------------------------------------------------------------
// Phone numbers

function validateMobile(value) {
  let text = compact(value).replace(/-/g, '')
  for (const prefix of ['+86', '0086']) {
    if (text.startsWith(prefix)) {
      text = text.slice(prefix.length)
    }
  }
  if (!/^1[3-9]\d{9}$/.test(text)) {
    throw new FieldInvalid('应为11位手机号码，以13至19开头，请核对后重新填写')
  }
  return text
}

/** A mobile number or a landline such as 0757-83380526. */
function validatePhone(value) {
  try {
    return validateMobile(value)
  } catch (err) {
    // Not a mobile number: try the landline forms below.
  }
  const text = compact(value)
  if (/^0\d{2,3}-?\d{7,8}(-\d{1,6})?$/.test(text)) {
    return text
  }
  if (/^[48]00-?\d{3}-?\d{4}$/.test(text)) {
    return text
  }
  throw new FieldInvalid('应为手机号码或带区号的固定电话（如0757-83380526），请核对后重新填写')
}

// ---------------------------------------------------------------------------
// Dates and numbers

function parseDate(value) {
  const text = compact(value).replace(/[/.]/g, '-')
  const match = /^(\d{4})-(\d{1,2})-(\d{1,2})$/.exec(text)
  if (!match) {
    throw new FieldInvalid('日期格式应为YYYY-MM-DD，如2024-01-31')
  }
  const year = Number(match[1])
  const month = Number(match[2])
  const day = Number(match[3])
  if (!isRealDate(year, month, day)) {
    throw new FieldInvalid('不是有效日期，请核对年月日')
  }
  return isoDate(year, month, day)
}

// The decimal literal forms Python's Decimal accepts, and its special values.
const DECIMAL_PATTERN = /^[+-]?(\d+(\.\d*)?|\.\d+)(e[+-]?\d+)?$/i
const SPECIAL_PATTERN = /^[+-]?(inf|infinity|s?nan\d*)$/i

function parseDecimal(value) {
  if (typeof value === 'boolean') {
    throw new FieldInvalid('应为数字')
  }
  if (typeof value === 'number') {
    if (!Number.isFinite(value)) {
      throw new FieldInvalid('应为有限的数字')
    }
    return value
  }
  const text = compact(value).replace(/,/g, '')
  if (SPECIAL_PATTERN.test(text)) {
    throw new FieldInvalid('应为有限的数字')
  }
  if (!DECIMAL_PATTERN.test(text)) {
    throw new FieldInvalid('应为数字，请只填写数值（单位无需填写）')
  }
  return Number(text)
}

// ---------------------------------------------------------------------------
// One field of the form schema

function cleanText(spec, value) {
  if (typeof value !== 'string') {
    throw new FieldInvalid('应为文本')
  }
  const text = value.trim()
  const limit = spec.max_length
  const count = charCount(text)
  if (limit && count > limit) {
    throw new FieldInvalid('不能超过' + limit + '个字，当前为' + count + '个字，请删减')
  }
  return text
}

function cleanNumber(spec, value) {
  let number = parseDecimal(value)
  const unit = spec.unit || ''
  if (spec.type === 'integer') {
    if (!Number.isInteger(number)) {
      throw new FieldInvalid('应为整数，请去掉小数部分')
    }
  }
  const low = spec.min
  const high = spec.max
  const hasLow = low !== undefined && low !== null
  if (hasLow && spec.exclusive_min && number <= low) {
    throw new FieldInvalid('应大于' + low + unit + '，请填写实际数值')
  }
  if (hasLow && number < low) {
    throw new FieldInvalid('不能小于' + low + unit + '，请填写实际数值')
  }
  if (high !== undefined && high !== null && number > high) {
    throw new FieldInvalid('不能大于' + high + unit + '，请核对数值和单位')
  }
  if (spec.type !== 'integer') {
    number = Math.round(number * 100) / 100
  }
  return number
}

function cleanDate(spec, value, today) {
  if (typeof value !== 'string') {
    throw new FieldInvalid('应为日期文本，格式YYYY-MM-DD')
  }
  const parsed = parseDate(value)
  if (spec.not_future && parsed > todayIso(today)) {
    throw new FieldInvalid('不能晚于今天，请核对日期')
  }
  return parsed
}

function cleanFile(value) {
  if (typeof value !== 'number' || !Number.isInteger(value)) {
    throw new FieldInvalid('应为已上传文件的编号，请重新上传')
  }
  return value
}

const CODE_CHECKERS = {
  id_number: validateIdNumber,
  credit_code: validateCreditCode,
  mobile: validateMobile,
  phone: validatePhone,
}

function cleanValue(spec, value, today) {
  const kind = spec.type
  if (kind === 'text' || kind === 'textarea') {
    return cleanText(spec, value)
  }
  if (kind === 'number' || kind === 'integer') {
    return cleanNumber(spec, value)
  }
  if (kind === 'date') {
    return cleanDate(spec, value, today)
  }
  if (kind === 'select') {
    if (spec.options.indexOf(value) < 0) {
      throw new FieldInvalid('应从选项中选择：' + spec.options.join('、'))
    }
    return value
  }
  if (kind === 'town') {
    return value
  }
  if (kind === 'file') {
    return cleanFile(value)
  }
  if (typeof value !== 'string') {
    throw new FieldInvalid('应为文本')
  }
  return CODE_CHECKERS[kind](value, today)
}

function isEmpty(value) {
  return value === undefined || value === null || (typeof value === 'string' && !value.trim())
}

/**
 * Check one field. Returns {value, error}: the cleaned value, or the
 * message naming the field. An empty value is neither, because it counts as
 * missing.
 */
function checkField(spec, value, today) {
  if (isEmpty(value)) {
    return { value: null, error: '' }
  }
  try {
    return { value: cleanValue(spec, value, today), error: '' }
  } catch (err) {
    if (!(err instanceof FieldInvalid)) {
      throw err
    }
    return { value: null, error: spec.label + err.message }
  }
}

function checkNotBefore(fields, result) {
  fields.forEach((spec) => {
    const other = spec.not_before
    if (!other) {
      return
    }
    const start = result.data[other]
    const end = result.data[spec.key]
    if (start && end && end < start) {
      const startLabel = fields.find((item) => item.key === other).label
      result.errors[spec.key] =
        spec.label + '不能早于' + startLabel + '（' + start + '），请核对合同日期'
    }
  })
}

/**
 * Check a category's values as the server will. Returns {data, errors,
 * missing, completeness}. Empty required fields are missing, not errors,
 * so a partly filled category can still be saved as a draft.
 */
function validateCategory(category, raw, options) {
  const settings = options || {}
  const result = { data: {}, errors: {}, missing: [], completeness: 100 }
  const fields = category.fields
  const known = fields.map((spec) => spec.key)
  Object.keys(raw).forEach((key) => {
    if (known.indexOf(key) < 0) {
      result.errors[key] = '不是“' + category.label + '”的字段，请刷新表单后重试'
    }
  })

  let required = 0
  fields.forEach((spec) => {
    if (spec.required) {
      required += 1
    }
    const value = spec.type === 'town' ? settings.townName : raw[spec.key]
    if (isEmpty(value)) {
      if (spec.required) {
        result.missing.push(spec.key)
      }
      return
    }
    const checked = checkField(spec, value, settings.today)
    if (checked.error) {
      result.errors[spec.key] = checked.error
    } else {
      result.data[spec.key] = checked.value
    }
  })

  checkNotBefore(fields, result)
  if (required) {
    result.completeness = Math.floor(((required - result.missing.length) * 100) / required)
  }
  return result
}

// ---------------------------------------------------------------------------
// Forms outside the schema: registration, password, project, review opinion

const REGISTRATION_CODES = [
  ['mobile', '手机号码', validateMobile],
  ['id_number', '居民身份证号码', validateIdNumber],
  ['credit_code', '统一社会信用代码', validateCreditCode],
]

/** Check the staff registration form; returns {values, errors}. */
function validateRegistration(form, today) {
  const errors = {}
  const values = {}
  const name = String(form.name || '').trim()
  if (charCount(name) < 2 || charCount(name) > 30) {
    errors.name = '姓名应为2至30个字，请填写真实姓名'
  }
  values.name = name
  const companyName = String(form.company_name || '')
    .replace(/\s+/g, ' ')
    .trim()
  if (charCount(companyName) < 2 || charCount(companyName) > 80) {
    errors.company_name = '企业名称应为2至80个字，请按营业执照填写'
  }
  values.company_name = companyName

  REGISTRATION_CODES.forEach(([key, label, check]) => {
    const raw = String(form[key] || '')
    if (!raw.trim()) {
      errors[key] = '请填写' + label
      return
    }
    try {
      values[key] = check(raw, today)
    } catch (err) {
      errors[key] = label + err.message
    }
  })
  if (!form.id_proof) {
    errors.id_proof = '请拍照或从相册选择身份证明（JPG、PNG或PDF）'
  }
  return { values, errors }
}

/** Why `next` is not an acceptable new password, or '' when it is. */
function passwordProblem(next, old) {
  if (typeof next !== 'string' || next.length < 8 || next.length > 64) {
    return '新密码应为8至64位'
  }
  if (!/[A-Za-z]/.test(next) || !/\d/.test(next)) {
    return '新密码应同时包含字母和数字'
  }
  if (old !== undefined && old !== null && next === old) {
    return '新密码不能与原密码相同'
  }
  return ''
}

/** Check a new project's name and address; returns {values, errors}. */
function validateProject(form) {
  const errors = {}
  const name = String(form.name || '')
    .replace(/\s+/g, ' ')
    .trim()
  const address = String(form.address || '')
    .replace(/\s+/g, ' ')
    .trim()
  if (!name) {
    errors.name = '项目名称不能为空，请填写'
  } else if (charCount(name) > 60) {
    errors.name = '项目名称不能超过60个字，请删减'
  }
  if (!address) {
    errors.address = '项目地址不能为空，请填写'
  } else if (charCount(address) > 120) {
    errors.address = '项目地址不能超过120个字，请删减'
  }
  if (!form.town_id) {
    errors.town_id = '请选择所属镇街'
  }
  return { values: { name, address, town_id: form.town_id }, errors }
}

const OPINION_MAX_LENGTH = 500

/** Why a review decision cannot be sent with this opinion, or ''. */
function opinionProblem(decision, opinion) {
  const text = String(opinion || '').trim()
  if (decision === 'return' && !text) {
    return '请填写退回原因，告诉填报人需要修改什么'
  }
  if (charCount(text) > OPINION_MAX_LENGTH) {
    return '不能超过' + OPINION_MAX_LENGTH + '个字，请精简'
  }
  return ''
}

module.exports = {
  FieldInvalid,
  OPINION_MAX_LENGTH,
  checkField,
  creditCodeCheckChar,
  foldWidth,
  idNumberCheckChar,
  isEmpty,
  opinionProblem,
  parseDate,
  parseDecimal,
  passwordProblem,
  todayIso,
  validateCategory,
  validateCreditCode,
  validateIdNumber,
  validateMobile,
  validatePhone,
  validateProject,
  validateRegistration,
}
