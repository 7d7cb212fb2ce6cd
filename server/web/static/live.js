// Today's windows and the alerts, refreshed while the page is open: each element with a
// data-refresh attribute is replaced by the fragment its URL returns. No framework, no build.
"use strict";
(function () {
  var EVERY_MS = 15000;
  function refresh() {
    if (document.hidden) return;
    document.querySelectorAll("[data-refresh]").forEach(function (box) {
      fetch(box.getAttribute("data-refresh"), { credentials: "same-origin", cache: "no-store" })
        .then(function (answer) { return answer.ok ? answer.text() : null; })
        .then(function (html) { if (html !== null) box.innerHTML = html; })
        .catch(function () { /* offline for a moment: the next round tries again */ });
    });
  }
  setInterval(refresh, EVERY_MS);
  document.addEventListener("visibilitychange", refresh);
})();
