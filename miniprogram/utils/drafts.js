/**
 * Input kept on the phone when it could not be saved to the server (no
 * network, server down) or was set aside in a conflict, so that it can be
 * offered again the next time the category opens.
 */

const PREFIX = 'draft:'

function storageKey(projectId, category) {
  return PREFIX + projectId + ':' + category
}

/** Keep `data` (the form values) and the entry version they were typed on. */
function saveDraft(projectId, category, data, version) {
  const draft = { data, version, saved_at: new Date().toISOString() }
  wx.setStorageSync(storageKey(projectId, category), draft)
  return draft
}

function loadDraft(projectId, category) {
  const draft = wx.getStorageSync(storageKey(projectId, category))
  return draft && typeof draft === 'object' && draft.data ? draft : null
}

function clearDraft(projectId, category) {
  wx.removeStorageSync(storageKey(projectId, category))
}

module.exports = { clearDraft, loadDraft, saveDraft }
