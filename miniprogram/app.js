/**
 * The app shell. Pages check the session themselves (utils/api.js
 * requireSession), because a template message can open any page directly.
 */
App({
  onLaunch() {
    if (typeof wx.getUpdateManager !== 'function') {
      return
    }
    const updates = wx.getUpdateManager()
    updates.onUpdateReady(() => {
      wx.showModal({
        title: '发现新版本',
        content: '新版本已准备好，是否立即重启使用？',
        success: (res) => {
          if (res.confirm) {
            updates.applyUpdate()
          }
        },
      })
    })
  },
})
