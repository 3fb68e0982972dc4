/**
 * The local validators, with the same valid and invalid examples as the
 * server's tests (tests/core/test_validators.py), and the schema checks run
 * against the form schema recorded from the real API.
 */

const v = require('../utils/validators')
const { fixture } = require('./support/backend')

const TODAY = '2026-12-04'
const SCHEMA = fixture('staff_projects.schema').response.body
const BASIC = SCHEMA.categories.find((item) => item.key === 'basic')
const OTHER = SCHEMA.categories.find((item) => item.key === 'other')
// The complete basic category the recorder saved (tests/factories.py VALID_BASIC).
const VALID_BASIC = fixture('staff_projects.save_basic_complete').request.body.data

function message(check) {
  try {
    check()
  } catch (err) {
    return err.message
  }
  return null
}

describe('ID numbers', () => {
  test.each([
    ['11010519491231002X', '11010519491231002X'],
    ['44011320141005001x', '44011320141005001X'],
    ['１１０１０５１９４９１２３１００２Ｘ', '11010519491231002X'],
    [' 110105 19491231 002X ', '11010519491231002X'],
  ])('valid %s', (raw, cleaned) => {
    expect(v.validateIdNumber(raw, TODAY)).toBe(cleaned)
  })

  test.each([
    ['36042619910102009X', '校验位不正确'],
    ['360426199113010079', '出生日期'],
    ['11010519491231002', '应为18位，当前为17位'],
    ['1101051949123100AX', '前17位应为数字'],
    ['110105202712310025', '不在合理范围'],
  ])('invalid %s', (raw, fragment) => {
    expect(message(() => v.validateIdNumber(raw, TODAY))).toContain(fragment)
  })

  test('future birth date rejected', () => {
    const first17 = '11010520261205001'
    const raw = first17 + v.idNumberCheckChar(first17)
    expect(message(() => v.validateIdNumber(raw, TODAY))).toContain('不在合理范围')
  })

  test('wrong check digit message in full', () => {
    expect(message(() => v.validateIdNumber('36042619910102009X', TODAY))).toBe(
      '校验位不正确，请核对号码，特别是最后一位',
    )
  })

  test('month 13 message in full', () => {
    expect(message(() => v.validateIdNumber('360426199113010079', TODAY))).toBe(
      '出生日期（第7至14位）不是有效日期，请核对后重新填写',
    )
  })
})

describe('credit codes', () => {
  test.each([
    '91110000600037341L',
    '9111 0000 6000 3734 1L',
    '91110000600037341l',
    '９１１１００００６０００３７３４１Ｌ',
  ])('valid %s', (raw) => {
    expect(v.validateCreditCode(raw)).toBe('91110000600037341L')
  })

  test('wrong check character', () => {
    expect(message(() => v.validateCreditCode('91110000600037341N'))).toContain('校验位不正确')
  })

  test('forbidden letters named', () => {
    expect(message(() => v.validateCreditCode('9111000060003IOZSV'))).toBe(
      '不能包含字母I、O、S、V、Z，请核对营业执照上的代码',
    )
  })

  test('code recorded by the server is valid', () => {
    const code = fixture('staff_auth.register_ok').request.form.credit_code
    expect(v.validateCreditCode(code)).toBe(code)
  })
})

describe('mobile and phone numbers', () => {
  test.each([
    '13800138000',
    '+86 138-0013-8000',
    '0086 13800138000',
    '１３８００１３８０００',
    '19912345678',
  ])('valid mobile %s', (raw) => {
    const cleaned = v.validateMobile(raw)
    expect(['138', '199']).toContain(cleaned.slice(0, 3))
    expect(cleaned).toHaveLength(11)
  })

  test.each(['12800138000', '1380013800', '138001380001', '+1 13800138000'])(
    'invalid mobile %s',
    (raw) => {
      expect(message(() => v.validateMobile(raw))).toContain('11位手机号码')
    },
  )

  test('phone accepts landline', () => {
    expect(v.validatePhone('0757-83380526')).toBe('0757-83380526')
  })

  test('phone rejects short number', () => {
    expect(message(() => v.validatePhone('83380'))).toContain('固定电话')
  })

  test('fold width maps full-width forms', () => {
    expect(v.foldWidth('ＡＢＣ１２３　ｘ')).toBe('ABC123 x')
  })
})

describe('categories of the recorded schema', () => {
  const basic = (changes) => Object.assign({}, VALID_BASIC, changes)

  test('complete basic has no errors', () => {
    const result = v.validateCategory(BASIC, basic(), { townName: '狮山镇', today: TODAY })
    expect(result.errors).toEqual({})
    expect(result.missing).toEqual([])
    expect(result.completeness).toBe(100)
    expect(result.data.town).toBe('狮山镇')
  })

  test('contract end before start', () => {
    const result = v.validateCategory(
      BASIC,
      basic({ contract_start: '2025-01-01', contract_end: '2024-12-31' }),
      { townName: '狮山镇', today: TODAY },
    )
    expect(Object.keys(result.errors)).toEqual(['contract_end'])
    expect(result.errors.contract_end).toContain('不能早于服务合同开始日期')
  })

  test.each([
    ['building_area', 0, '应大于0'],
    ['building_area', '-5', '应大于0'],
    ['households', 12.5, '应为整数'],
    ['households', -1, '不能小于0'],
    ['fee', 'abc', '应为数字'],
    ['property_type', '别墅', '应从选项中选择'],
    ['delivery_date', '2030-01-01', '不能晚于今天'],
    ['delivery_date', '2024-02-30', '不是有效日期'],
    ['company_credit_code', '91110000600037341N', '校验位不正确'],
  ])('%s = %p names the field', (field, value, fragment) => {
    const result = v.validateCategory(BASIC, basic({ [field]: value }), {
      townName: '狮山镇',
      today: TODAY,
    })
    expect(Object.keys(result.errors)).toEqual([field])
    expect(result.errors[field]).toContain(fragment)
  })

  test('errors start with the field label', () => {
    const result = v.validateCategory(BASIC, basic({ households: 12.5 }), {
      townName: '狮山镇',
      today: TODAY,
    })
    expect(result.errors.households).toBe('总户数应为整数，请去掉小数部分')
  })

  test('full-width number folded', () => {
    const result = v.validateCategory(BASIC, basic({ households: '６４０' }), {
      townName: '狮山镇',
      today: TODAY,
    })
    expect(result.data.households).toBe(640)
  })

  test('missing required is not an error', () => {
    const result = v.validateCategory(
      BASIC,
      { project_name: '甲' },
      { townName: '狮山镇', today: TODAY },
    )
    expect(result.errors).toEqual({})
    expect(result.missing).toContain('address')
    expect(result.completeness).toBe(Math.floor((2 * 100) / 17))
  })

  test('unknown field rejected', () => {
    const result = v.validateCategory(OTHER, { hacker: 1 }, { today: TODAY })
    expect(result.errors.hacker).toBe('不是“其他信息”的字段，请刷新表单后重试')
  })

  test('over-long text counts characters', () => {
    const result = v.validateCategory(BASIC, basic({ community: '村'.repeat(41) }), {
      townName: '狮山镇',
      today: TODAY,
    })
    expect(result.errors.community).toBe('所属社区（村）不能超过40个字，当前为41个字，请删减')
  })
})

describe('forms outside the schema', () => {
  const form = {
    name: '陈志强',
    mobile: '13800138000',
    id_number: '11010519491231002X',
    company_name: '佛山市南海区  和悦物业服务有限公司',
    credit_code: '91110000600037341L',
    id_proof: 'wxfile://tmp/photo.png',
  }

  test('registration cleans valid values', () => {
    const result = v.validateRegistration(form, TODAY)
    expect(result.errors).toEqual({})
    expect(result.values.company_name).toBe('佛山市南海区 和悦物业服务有限公司')
  })

  test('registration errors per field', () => {
    const result = v.validateRegistration(
      Object.assign({}, form, {
        name: '陈',
        id_number: '36042619910102009X',
        mobile: '',
        id_proof: '',
      }),
      TODAY,
    )
    expect(result.errors.name).toBe('姓名应为2至30个字，请填写真实姓名')
    expect(result.errors.id_number).toBe('居民身份证号码校验位不正确，请核对号码，特别是最后一位')
    expect(result.errors.mobile).toBe('请填写手机号码')
    expect(result.errors.id_proof).toBe('请拍照或从相册选择身份证明（JPG、PNG或PDF）')
  })

  test.each([
    ['short1', '新密码应为8至64位'],
    ['abcdefghij', '新密码应同时包含字母和数字'],
    ['Review2026ok', '新密码不能与原密码相同'],
  ])('password %s rejected', (password, expected) => {
    expect(v.passwordProblem(password, 'Review2026ok')).toBe(expected)
  })

  test('password with letters and digits accepted', () => {
    expect(v.passwordProblem('Shishan2027ok', 'Review2026ok')).toBe('')
  })

  test('return needs an opinion, approve does not', () => {
    expect(v.opinionProblem('return', '   ')).toBe('请填写退回原因，告诉填报人需要修改什么')
    expect(v.opinionProblem('approve', '')).toBe('')
    expect(v.opinionProblem('return', '请核对面积')).toBe('')
  })

  test('opinion over 500 characters rejected', () => {
    expect(v.opinionProblem('approve', '字'.repeat(501))).toBe('不能超过500个字，请精简')
  })

  test('project needs name, address and town', () => {
    const result = v.validateProject({ name: ' ', address: '地'.repeat(121), town_id: null })
    expect(result.errors).toEqual({
      name: '项目名称不能为空，请填写',
      address: '项目地址不能超过120个字，请删减',
      town_id: '请选择所属镇街',
    })
  })
})
