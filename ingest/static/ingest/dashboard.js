// Live progress for the ingest dashboard: poll the JSON API for the rows
// still queued or importing, at most once a second, and stop when none are.
// A live list (data-live-cursor, the dashboard's first page) keeps polling,
// less often when nothing runs, for files that arrived since the last
// answer, and puts them on top. Texts come from the engine's JavaScript
// catalog (gettext, in the page's language; English without it), numbers
// and durations are written with Intl in the page's language.
(function () {
  "use strict";

  var gettext = window.gettext || function (text) { return text; };
  var ngettext = window.ngettext || function (one, many, n) { return n === 1 ? one : many; };
  var interpolate = window.interpolate || function (text, values) {
    return text.replace(/%\((\w+)\)s/g, function (_m, name) { return String(values[name]); });
  };
  var language = document.documentElement.lang || undefined;
  var grouped = new Intl.NumberFormat(language);
  var oneDecimal = new Intl.NumberFormat(language, {minimumFractionDigits: 1, maximumFractionDigits: 1});

  var table = document.getElementById("files");
  var statusLine = document.getElementById("poll-status");
  var POLL_MS = 1000;
  var IDLE_MS = 3000;
  var live = table && table.hasAttribute("data-live-cursor");

  function activeStates() {
    return (table.getAttribute("data-active-states") || "").split(",");
  }

  function activeRows() {
    var states = activeStates();
    return Array.prototype.filter.call(
      table.querySelectorAll("tr[data-file-id]"),
      function (row) { return states.indexOf(row.getAttribute("data-state")) !== -1; }
    );
  }

  function setText(row, field, text) {
    var cell = row.querySelector('[data-field="' + field + '"]');
    if (cell) { cell.textContent = text; }
    return cell;
  }

  function el(tag, attrs, text) {
    var node = document.createElement(tag);
    Object.keys(attrs || {}).forEach(function (name) { node.setAttribute(name, attrs[name]); });
    if (text !== undefined) { node.textContent = text; }
    return node;
  }

  function progressText(p) {
    return interpolate(gettext("%(percent)s% · %(rows)s rows"), {
      percent: oneDecimal.format(Number(p.percent)), rows: grouped.format(p.rows)
    }, true);
  }

  function progressNodes(file) {
    if (file.state === "importing") {
      var p = file.progress;
      var percent = p ? Number(p.percent).toFixed(1) : "0";
      var label = p ? progressText(p) : gettext("starting…");
      var bar = el("div", {
        "class": "progress", "role": "progressbar",
        "aria-label": interpolate(gettext("Import progress of %(name)s"), {name: file.file}, true),
        "aria-valuemin": "0", "aria-valuemax": "100",
        "aria-valuenow": percent, "aria-valuetext": p ? label : gettext("starting")
      });
      var fill = el("div", {"class": "progress-fill"});
      fill.style.width = percent + "%";
      bar.appendChild(fill);
      return [bar, el("span", {"class": "progress-text"}, label)];
    }
    if (file.state === "preview") {
      return [el("a", {"href": file.preview_url || file.url},
                 gettext("Waiting in preview: open it to import or cancel."))];
    }
    if (file.state === "queued" || file.state === "discovered") {
      return [el("span", {"class": "muted"}, gettext("waiting for a worker"))];
    }
    if (file.state === "failed") {
      var error = file.error_display || file.error || "";
      return [el("span", {"class": "error-text", "title": error},
                 error.length > 80 ? error.slice(0, 79) + "…" : error)];
    }
    if (file.state === "duplicate") {
      return [el("span", {"class": "muted"},
                 file.error_display || file.error || gettext("duplicate"))];
    }
    return [el("span", {"class": "muted"}, interpolate(
      ngettext("%(rows)s row read", "%(rows)s rows read", file.total),
      {rows: grouped.format(file.total)}, true))];
  }

  function update(row, file) {
    row.setAttribute("data-state", file.state);
    var stateCell = row.querySelector('[data-field="state"]');
    stateCell.replaceChildren(el("span", {"class": "state state-" + file.state}, file.state_display));
    setText(row, "imported", grouped.format(file.imported));
    setText(row, "updated", grouped.format(file.updated));
    setText(row, "rejected", grouped.format(file.rejected));
    setText(row, "dataset", file.dataset || "");
    setText(row, "duration", file.finished_at && file.started_at
      ? interpolate(gettext("%(seconds)s s"), {seconds: oneDecimal.format(Number(file.seconds))}, true)
      : "");
    row.querySelector('[data-field="progress"]').replaceChildren.apply(
      row.querySelector('[data-field="progress"]'), progressNodes(file));
  }

  function say(text) { if (statusLine) { statusLine.textContent = text; } }

  function linkTo(cell, href, text) {
    var link = cell.querySelector("a");
    link.setAttribute("href", href);
    link.textContent = text;
  }

  // A new row from the page's <template>, filled in from the file's JSON.
  function arrivedRow(file) {
    var row = document.getElementById("file-row-template").content
      .firstElementChild.cloneNode(true);
    row.setAttribute("data-file-id", String(file.id));
    linkTo(row.querySelector('[data-field="id"]'), file.url, "#" + file.id);
    linkTo(row.querySelector('[data-field="name"]'), file.url, file.file);
    setText(row, "inbox", file.inbox || "");
    setText(row, "source", file.source_display);
    row.querySelector('[data-field="dataset"]').setAttribute("title", file.chosen_by_display || "");
    var time = row.querySelector('[data-field="discovered"] time');
    time.setAttribute("datetime", file.discovered_at);
    time.textContent = file.discovered_display;
    return row;
  }

  function arrive(files) {
    var body = table.querySelector("tbody");
    files.sort(function (a, b) { return a.id - b.id; }).forEach(function (file) {
      var empty = body.querySelector("td.empty");
      if (empty) { empty.parentNode.remove(); }
      var row = arrivedRow(file);
      update(row, file);
      body.insertBefore(row, body.firstChild);
    });
    if (files.length) { say(gettext("New files arrived.")); }
  }

  function pollUrl(ids) {
    var query = [];
    if (live) {
      query.push("since=" + encodeURIComponent(table.getAttribute("data-live-cursor")));
      ["state", "inbox"].forEach(function (name) {
        var value = table.getAttribute("data-live-" + name);
        if (value) { query.push(name + "=" + encodeURIComponent(value)); }
      });
    }
    if (ids.length) { query.push("ids=" + ids.join(",")); }
    return table.getAttribute("data-poll-url") + "?" + query.join("&");
  }

  function poll() {
    var rows = activeRows();
    if (!rows.length && !live) { say(""); return; }
    var ids = rows.map(function (row) { return row.getAttribute("data-file-id"); });
    var url = pollUrl(ids);
    fetch(url, {headers: {"Accept": "application/json"}, credentials: "same-origin"})
      .then(function (response) {
        if (response.status === 401 || response.status === 403) {
          throw new Error("session");
        }
        if (!response.ok) { throw new Error("HTTP " + response.status); }
        return response.json();
      })
      .then(function (data) {
        var finished = false;
        var arrived = [];
        data.files.forEach(function (file) {
          var row = table.querySelector('tr[data-file-id="' + file.id + '"]');
          if (!row) { arrived.push(file); return; }
          var wasActive = activeStates().indexOf(row.getAttribute("data-state")) !== -1;
          update(row, file);
          if (wasActive && activeStates().indexOf(file.state) === -1) { finished = true; }
        });
        if (finished && table.hasAttribute("data-reload-when-done")) {
          window.location.reload();
          return;
        }
        if (live) {
          arrive(arrived);
          table.setAttribute("data-live-cursor", String(data.cursor));
        }
        var running = activeRows().length;
        if (running) { say(gettext("Updating live…")); } else if (!arrived.length) { say(""); }
        window.setTimeout(poll, running ? POLL_MS : IDLE_MS);
      })
      .catch(function (error) {
        if (error.message === "session") {
          say(gettext("Your session has ended: reload the page to log in again."));
          return;
        }
        say(interpolate(gettext("Could not refresh (%(error)s); retrying…"),
                        {error: error.message}, true));
        window.setTimeout(poll, 5 * POLL_MS);
      });
  }

  function setUpUpload() {
    var form = document.getElementById("upload-form");
    if (!form) { return; }
    var input = form.querySelector('input[type="file"]');
    var zone = document.getElementById("dropzone");
    var chosen = document.getElementById("upload-chosen");
    function showChosen() {
      var names = Array.prototype.map.call(input.files, function (f) { return f.name; });
      chosen.textContent = names.length
        ? interpolate(gettext("Chosen: %(names)s"), {names: names.join(", ")}, true)
        : "";
    }
    input.addEventListener("change", showChosen);
    ["dragenter", "dragover"].forEach(function (name) {
      zone.addEventListener(name, function (event) {
        event.preventDefault();
        zone.classList.add("dragging");
      });
    });
    ["dragleave", "drop"].forEach(function (name) {
      zone.addEventListener(name, function () { zone.classList.remove("dragging"); });
    });
    zone.addEventListener("drop", function (event) {
      event.preventDefault();
      if (event.dataTransfer && event.dataTransfer.files.length) {
        input.files = event.dataTransfer.files;
        showChosen();
        input.focus();
      }
    });
  }

  // The language switcher applies a choice at once; its button stays for
  // pages without scripts.
  function setUpLanguage() {
    var select = document.getElementById("language-select");
    if (select) { select.addEventListener("change", function () { select.form.submit(); }); }
  }

  setUpUpload();
  setUpLanguage();
  if (table) { window.setTimeout(poll, POLL_MS); }
})();
