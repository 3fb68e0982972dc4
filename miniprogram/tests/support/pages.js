/**
 * Load pages and components into miniprogram-simulate, and wait for them.
 */

const path = require('path')
const simulate = require('miniprogram-simulate')
const api = require('../../utils/api')

const ROOT = path.join(__dirname, '..', '..')

/** Let pending responses and the renders they cause run. */
async function settle(rounds) {
  for (let i = 0; i < (rounds || 6); i += 1) {
    await simulate.sleep(0)
  }
}

function render(relativePath, properties) {
  const id = simulate.load(path.join(ROOT, relativePath), { compiler: 'simulate', rootPath: ROOT })
  const component = simulate.render(id, properties)
  component.attach(document.createElement('parent-wrapper'))
  return component
}

/**
 * Open a page as WeChat would with `options` as its query, call onLoad and
 * wait for its requests. `route` is like 'pages/review-list/index'.
 */
async function openPage(route, options) {
  const page = render(route)
  page.instance.route = route
  page.instance.options = options || {}
  global.pageStack.push(page.instance)
  page.instance.onLoad(options || {})
  await settle()
  return page
}

/** Store a session as a login would have left it. */
function signIn(token, user) {
  api.saveSession(token, user)
}

function isDisabled(node) {
  return Boolean(node.instance && node.instance.data && node.instance.data.disabled)
}

/** Tap like a finger: a disabled button does nothing. */
async function tap(component, selector) {
  const node = component.querySelector(selector)
  if (!node) {
    throw new Error('nothing matches ' + selector)
  }
  if (!isDisabled(node)) {
    node.dispatchEvent('tap')
  }
  await settle()
}

function disabled(component, selector) {
  return isDisabled(component.querySelector(selector))
}

async function type(component, selector, value) {
  const node = component.querySelector(selector)
  if (!node) {
    throw new Error('nothing matches ' + selector)
  }
  node.dispatchEvent('input', { detail: { value } })
  await settle(1)
}

/** Text of every node that matches; descendant selectors work from a page or component. */
function texts(component, selector) {
  return component
    .querySelectorAll(selector)
    .map((node) => node.dom.textContent.replace(/\s+/g, ' ').trim())
}

function text(component, selector) {
  const node = component.querySelector(selector)
  return node ? node.dom.textContent.replace(/\s+/g, ' ').trim() : null
}

module.exports = { disabled, openPage, render, settle, signIn, tap, text, texts, type }
