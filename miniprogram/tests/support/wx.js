/**
 * A stand-in for the WeChat `wx` object: storage, navigation, dialogs,
 * login, media and the network calls, which go to the replaying backend.
 * Everything the pages ask of the phone is recorded for the tests to check.
 */

const config = require('../../config')

function call(options, result) {
  const settings = options || {}
  if (settings.success) {
    settings.success(result)
  }
  if (settings.complete) {
    settings.complete(result)
  }
}

function base(url) {
  if (config.sandboxUrl && url.startsWith(config.sandboxUrl)) {
    return { base: 'sandbox', path: url.slice(config.sandboxUrl.length) }
  }
  if (!url.startsWith(config.baseUrl)) {
    throw new Error('request outside the configured servers: ' + url)
  }
  return { base: 'api', path: url.slice(config.baseUrl.length) }
}

function fail(options) {
  const settings = options || {}
  const result = { errMsg: 'request:fail timeout' }
  if (settings.fail) {
    settings.fail(result)
  }
  if (settings.complete) {
    settings.complete(result)
  }
}

/** Build a fresh fake `wx` around `backend`. */
function createWx(backend) {
  const storage = new Map()
  const phone = {
    navigation: [],
    toasts: [],
    modals: [],
    titles: [],
    stoppedRefresh: 0,
    chosenMedia: 'wxfile://tmp/photo.png',
    loginCode: 'wx-code',
  }

  function send(respond, options, extra) {
    const target = base(options.url)
    const header = options.header || {}
    const sent = Object.assign(
      {
        base: target.base,
        path: target.path,
        authorization: header.Authorization,
      },
      extra,
    )
    // Respond asynchronously, as the real network does.
    setTimeout(() => {
      const answer = backend.handle(sent)
      if (!answer) {
        fail(options)
      } else {
        call(options, respond(answer))
      }
    }, 0)
  }

  const navigate = (kind) => (options) => {
    phone.navigation.push({ kind, url: options.url })
    call(options, { errMsg: kind + ':ok' })
  }

  const wx = {
    // Storage keeps copies, as the phone's storage serialises values.
    getStorageSync: (key) => (storage.has(key) ? JSON.parse(storage.get(key)) : ''),
    setStorageSync: (key, value) => storage.set(key, JSON.stringify(value)),
    removeStorageSync: (key) => storage.delete(key),

    request(options) {
      const respond = (answer) => ({ statusCode: answer.status, data: answer.body })
      send(respond, options, {
        method: options.method || 'GET',
        body: options.data,
      })
    },
    uploadFile(options) {
      const respond = (answer) => ({ statusCode: answer.status, data: JSON.stringify(answer.body) })
      send(respond, options, {
        method: 'POST',
        file: options.name,
        filePath: options.filePath,
        form: options.formData,
      })
    },
    downloadFile(options) {
      const respond = (answer) => ({
        statusCode: answer.status,
        tempFilePath: 'wxfile://tmp/download',
      })
      send(respond, options, { method: 'GET' })
    },

    login: (options) => call(options, { code: phone.loginCode, errMsg: 'login:ok' }),
    chooseMedia: (options) =>
      call(options, {
        tempFiles: [{ tempFilePath: phone.chosenMedia, size: 2048, fileType: 'image' }],
      }),
    previewImage: (options) => call(options, {}),
    openDocument: (options) => call(options, {}),

    navigateTo: navigate('navigateTo'),
    redirectTo: navigate('redirectTo'),
    reLaunch: navigate('reLaunch'),
    navigateBack: navigate('navigateBack'),
    setNavigationBarTitle: (options) => phone.titles.push(options.title),
    stopPullDownRefresh: () => {
      phone.stoppedRefresh += 1
    },
    showToast: (options) => {
      phone.toasts.push(options.title)
      call(options, {})
    },
    // Every dialog is confirmed, as by a user who reads and accepts it.
    showModal: (options) => {
      phone.modals.push({ title: options.title, content: options.content })
      call(options, { confirm: true, cancel: false })
    },
  }
  return { wx, phone, storage }
}

module.exports = { createWx }
