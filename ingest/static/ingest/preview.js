// A preview being computed: poll the file's JSON once a second and show
// the page again, computed, as soon as the worker has recorded it. Texts
// come from the page (data-text-*), so they are translated with it.
(function () {
  "use strict";

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
          line.textContent = Number(p.percent).toFixed(1) + "% · " + p.rows + " " +
            (box.getAttribute("data-text-rows") || "rows");
        }
        window.setTimeout(poll, POLL_MS);
      })
      .catch(function () { window.setTimeout(poll, 5 * POLL_MS); });
  }

  window.setTimeout(poll, POLL_MS);
})();
