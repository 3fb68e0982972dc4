// Console page behaviour: polling of the binding and export status, and
// "select all" checkboxes. Loaded as a file because the pages forbid inline
// scripts (Content-Security-Policy).
(function () {
  "use strict";

  var POLL_MS = 2000;

  function poll(url, onData) {
    function tick() {
      fetch(url, { credentials: "same-origin", headers: { Accept: "application/json" } })
        .then(function (response) {
          if (!response.ok) { throw new Error("HTTP " + response.status); }
          return response.json();
        })
        .then(function (data) {
          if (onData(data) !== false) { window.setTimeout(tick, POLL_MS); }
        })
        .catch(function () { window.setTimeout(tick, POLL_MS * 3); });
    }
    tick();
  }

  function watchBinding(figure) {
    var label = document.getElementById("binding-status");
    poll(figure.dataset.statusUrl, function (data) {
      if (data.status === "bound") {
        label.className = "binding-status ok";
        if (figure.dataset.stay === "1") {
          label.textContent = "绑定成功";
          return false;
        }
        label.textContent = "绑定成功，正在进入管理后台……";
        window.setTimeout(function () { window.location.assign(data.next_url); }, 1200);
        return false;
      }
      if (data.status === "expired") {
        label.textContent = "二维码已过期，请刷新页面重新获取";
        label.className = "binding-status warn";
        return false;
      }
      return true;
    });
  }

  function watchExport(box) {
    var bar = box.querySelector("progress");
    var text = box.querySelector(".export-state");
    var link = box.querySelector(".export-download");
    poll(box.dataset.statusUrl, function (data) {
      bar.value = data.percent;
      text.textContent = data.status_label + "（" + data.done + " / " + data.total + "）";
      if (data.status === "done") {
        link.href = data.download_url;
        link.hidden = false;
        return false;
      }
      if (data.status === "failed") {
        text.textContent = data.status_label + "：" + (data.error || "");
        return false;
      }
      return true;
    });
  }

  function wireSelectAll(box) {
    box.addEventListener("change", function () {
      var form = box.closest("form");
      form.querySelectorAll("input[type=checkbox][name=" + box.dataset.selectAll + "]")
        .forEach(function (item) { item.checked = box.checked; });
    });
  }

  document.addEventListener("DOMContentLoaded", function () {
    var figure = document.getElementById("binding");
    if (figure) { watchBinding(figure); }
    document.querySelectorAll("[data-export-status]").forEach(watchExport);
    document.querySelectorAll("input[data-select-all]").forEach(wireSelectAll);
  });
})();
