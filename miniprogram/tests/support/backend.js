/**
 * The replaying backend behind the fake wx.request, wx.uploadFile and
 * wx.downloadFile. Its responses are the exchanges that
 * tests/miniprogram/test_record_api.py recorded from the real API into
 * tests/fixtures/<story>.json.
 *
 * A test names the exchanges it expects, in order, with serve('story.name').
 * Each request takes the first queued exchange with the same method, path
 * and query, and the recorded token and body keys must match too. Requests that
 * match nothing, or match badly, are collected in `problems`, which the
 * shared afterEach asserts empty.
 */

const fs = require('fs')
const path = require('path')

const FIXTURE_DIR = path.join(__dirname, '..', 'fixtures')
const stories = {}

function loadStory(story) {
  if (!stories[story]) {
    const file = path.join(FIXTURE_DIR, story + '.json')
    stories[story] = JSON.parse(fs.readFileSync(file, 'utf8'))
  }
  return stories[story]
}

/** Return a deep copy of one recorded exchange, named 'story.name'. */
function fixture(id) {
  const [story, name] = id.split('.')
  const found = loadStory(story).exchanges.find((item) => item.name === name)
  if (!found) {
    throw new Error('no recorded exchange ' + id + ': run `make record-api`?')
  }
  return JSON.parse(JSON.stringify(found))
}

function splitUrl(url) {
  const [pathname, query] = url.split('?')
  const params = {}
  new URLSearchParams(query || '').forEach((value, key) => {
    params[key] = value
  })
  return { pathname, params }
}

function sameUrl(recorded, sent) {
  const left = splitUrl(recorded)
  const right = splitUrl(sent)
  return (
    left.pathname === right.pathname &&
    JSON.stringify(Object.entries(left.params).sort()) ===
      JSON.stringify(Object.entries(right.params).sort())
  )
}

function keysOf(value) {
  return Object.keys(value || {})
    .sort()
    .join(',')
}

class Backend {
  constructor() {
    this.queue = []
    this.requests = []
    this.problems = []
    this.failures = 0
  }

  /** Queue recorded exchanges ('story.name') as the responses to the next requests. */
  serve(...ids) {
    ids.forEach((id) => this.queue.push(Object.assign({ id }, fixture(id))))
    return this
  }

  /** Make the next `count` requests fail as if the phone had no network. */
  failNetwork(count) {
    this.failures = count || 1
    return this
  }

  /** Respond to one request with {status, body}, or null for a network failure. */
  handle(sent) {
    this.requests.push(sent)
    if (this.failures > 0) {
      this.failures -= 1
      return null
    }
    const index = this.queue.findIndex(
      (item) =>
        item.request.method === sent.method &&
        (item.request.base || 'api') === sent.base &&
        sameUrl(item.request.path, sent.path),
    )
    if (index < 0) {
      this.problems.push('no recorded exchange for ' + sent.method + ' ' + sent.path)
      return { status: 599, body: { error: { code: 'not_recorded', message: '', fields: {} } } }
    }
    const [exchange] = this.queue.splice(index, 1)
    this.check(exchange, sent)
    return exchange.response
  }

  check(exchange, sent) {
    const recorded = exchange.request
    const token = recorded.token ? 'Bearer ' + recorded.token : undefined
    if (sent.authorization !== token) {
      this.problems.push(exchange.id + ': sent token ' + sent.authorization + ', recorded ' + token)
    }
    if (
      recorded.file &&
      (recorded.file !== sent.file || keysOf(recorded.form) !== keysOf(sent.form))
    ) {
      this.problems.push(exchange.id + ': multipart fields differ from the recording')
    }
    if (recorded.body && keysOf(recorded.body) !== keysOf(sent.body)) {
      this.problems.push(
        exchange.id +
          ': body keys ' +
          keysOf(sent.body) +
          ' differ from the recorded ' +
          keysOf(recorded.body),
      )
    }
  }

  /** Requests sent to the API, as "METHOD /path?query". */
  sent() {
    return this.requests.map((item) => item.method + ' ' + item.path)
  }
}

module.exports = { Backend, fixture }
