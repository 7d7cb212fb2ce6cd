// The profile page: offer the phone's own time zone when it differs from the one chosen.
"use strict";
(function () {
  var select = document.getElementById("tz");
  var hint = document.getElementById("device-zone");
  if (!select || !hint || !window.Intl) return;
  var zone = Intl.DateTimeFormat().resolvedOptions().timeZone;
  var known = Array.prototype.some.call(select.options, function (o) { return o.value === zone; });
  if (!zone || !known || select.value === zone) return;
  hint.querySelector("strong").textContent = zone;
  hint.querySelector("button").addEventListener("click", function () {
    select.value = zone;
    hint.hidden = true;
  });
  hint.hidden = false;
})();
