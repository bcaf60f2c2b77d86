// A preview being computed: poll the file's JSON once a second and show
// the page again, computed, as soon as the worker has recorded it. Texts
// come from the engine's JavaScript catalog, numbers from Intl, both in the
// page's language.
(function () {
  "use strict";

  var gettext = window.gettext || function (text) { return text; };
  var interpolate = window.interpolate || function (text, values) {
    return text.replace(/%\((\w+)\)s/g, function (_m, name) { return String(values[name]); });
  };
  var language = document.documentElement.lang || undefined;

  var box = document.getElementById("preview-computing");
  var line = document.getElementById("preview-progress");
  if (!box) { return; }
  var POLL_MS = 1000;

  function poll() {
    fetch(box.getAttribute("data-poll-url"),
          {headers: {"Accept": "application/json"}, credentials: "same-origin"})
      .then(function (response) {
        if (!response.ok) { throw new Error("HTTP " + response.status); }
        return response.json();
      })
      .then(function (file) {
        var status = (file.preview || {}).status;
        if (file.state !== "preview" || status === "ready" || status === "failed") {
          window.location.reload();
          return;
        }
        var p = file.progress;
        if (p && line) {
          line.textContent = interpolate(gettext("%(percent)s% · %(rows)s rows"), {
            percent: new Intl.NumberFormat(language, {minimumFractionDigits: 1, maximumFractionDigits: 1})
              .format(Number(p.percent)),
            rows: new Intl.NumberFormat(language).format(p.rows)
          }, true);
        }
        window.setTimeout(poll, POLL_MS);
      })
      .catch(function () { window.setTimeout(poll, 5 * POLL_MS); });
  }

  window.setTimeout(poll, POLL_MS);
})();
