/**
 * Shared test setup: the fake `wx`, the replaying backend, the settings the
 * tests assume, and the Page shim that lets miniprogram-simulate load pages.
 */

const fs = require('fs')
const path = require('path')
const jComponent = require('j-component')
const simulate = require('miniprogram-simulate')
const simulateUtils = require('miniprogram-simulate/src/utils')
const api = require('../../utils/api')
const config = require('../../config')
const { Backend } = require('./backend')
const { createWx } = require('./wx')

const DEFAULT_CONFIG = Object.assign({}, config)

// miniprogram-simulate loads components only, so a page's Page({...}) becomes
// a component whose methods are the page's functions and lifecycle hooks,
// which the tests call themselves (see support/pages.js).
global.Page = (options) => {
  const methods = {}
  Object.keys(options).forEach((key) => {
    if (typeof options[key] === 'function') {
      methods[key] = options[key]
    }
  })
  global.Component({ data: options.data || {}, methods })
}

// miniprogram-simulate runs a component's JS with require() and then
// deletes it from require.cache, so that the next load runs it again. Jest
// keeps its own module registry, which that does not clear: without this the
// second load of a component never calls Component(). Running the source
// directly re-runs it every time while utils/ modules stay shared.
simulateUtils.runJs = (filePath) => {
  const file = filePath.endsWith('.js') ? filePath : filePath + '.js'
  const source = fs.readFileSync(file, 'utf8')
  const localRequire = (request) => require(path.resolve(path.dirname(file), request))
  const module = { exports: {} }
  // eslint-disable-next-line no-new-func
  new Function('require', 'module', 'exports', source)(localRequire, module, module.exports)
}

// miniprogram-simulate registers the built-in components without
// properties. The button gets its disabled and loading properties back so
// that tests can read them, and tap() can ignore a disabled button as
// WeChat does.
jComponent.register({
  id: 'button',
  tagName: 'wx-button',
  template: '<slot/>',
  properties: {
    disabled: { type: Boolean, value: false },
    loading: { type: Boolean, value: false },
  },
})

global.pageStack = []
global.getCurrentPages = () => global.pageStack

beforeEach(() => {
  Object.assign(config, DEFAULT_CONFIG, { sandboxUrl: '' })
  global.backend = new Backend()
  const fake = createWx(global.backend)
  global.wx = Object.assign(global.wx || {}, fake.wx)
  global.phone = fake.phone
  global.pageStack = []
  api.resetCaches()
})

afterEach(async () => {
  // Let responses still on their way arrive before checking.
  await simulate.sleep(0)
  expect(global.backend.problems).toEqual([])
})
