// Query page progressive enhancement: run through the JSON API without a page reload,
// Ctrl/Cmd+Enter to run, click a recent query or a product sample to load it, chart the
// answer (query-chart.js), point at a syntax error. An opened saved query whose SQL is
// unchanged runs through POST /v1/queries/<id>/run (recorded as its last run; always with the
// runner's permissions). Without JS the form posts to the page and the server renders results.
(function () {
  "use strict";
  var form = document.getElementById("query-form");
  if (!form || !window.fetch) { return; }
  var editor = form.querySelector("textarea");
  var runButton = document.getElementById("run-button");
  var statusBox = document.getElementById("query-status");
  var errorBox = document.getElementById("query-error");
  var results = document.getElementById("query-results");
  var csrf = form.querySelector("input[name=csrfmiddlewaretoken]");
  var downloadUrl = document.getElementById("csv-button").getAttribute("formaction");
  // The page shows at most this many rows (as the server-rendered page does); the CSV has all.
  var pageRows = parseInt(form.getAttribute("data-page-rows"), 10) || 1000;
  var busy = false;
  var number = new Intl.NumberFormat("en");
  var savedBar = document.getElementById("saved-bar");
  var savedSqlNode = document.getElementById("saved-sql");
  var savedChartNode = document.getElementById("saved-chart");
  // The opened saved query (query-saved.js keeps these up to date as it saves).
  window.PortalQuery = {
    savedId: savedBar ? savedBar.getAttribute("data-saved-id") : null,
    savedSql: savedSqlNode ? JSON.parse(savedSqlNode.textContent) : null,
    chart: savedChartNode ? JSON.parse(savedChartNode.textContent) : undefined
  };

  function el(tag, attrs, text) {
    var node = document.createElement(tag);
    Object.keys(attrs || {}).forEach(function (k) { node.setAttribute(k, attrs[k]); });
    if (text !== undefined && text !== null) { node.textContent = text; }
    return node;
  }

  // A parse error ends "near 'TOKEN' (line L, column C)"; C is the token's last character.
  function pointerFor(sql, message) {
    var m = /near '((?:[^'\\]|\\.)*)' \(line (\d+), column (\d+)\)/.exec(message) ||
      /\(line (\d+), column (\d+)\)/.exec(message);
    if (!m) { return null; }
    var near = m.length === 4 ? m[1] : "";
    var line = parseInt(m[m.length - 2], 10);
    var end = parseInt(m[m.length - 1], 10);
    var lines = sql.split("\n");
    if (line < 1 || line > lines.length) { return null; }
    var text = lines[line - 1];
    end = Math.min(Math.max(end, 1), Math.max(text.length, 1));
    var width = near && near.slice(-3) !== "..." ? near.length : 1;
    var start = Math.max(1, end - width + 1);
    var offset = 0;
    for (var i = 0; i < line - 1; i++) { offset += lines[i].length + 1; }
    return { line: line, start: start, end: end, text: text, from: offset + start - 1, to: offset + end };
  }

  function showPointer(pointer) {
    var pre = el("pre", { "class": "error-pointer", "data-line": String(pointer.line), "data-start": String(pointer.start), "data-end": String(pointer.end) });
    pre.textContent = pointer.text + "\n" + " ".repeat(pointer.start - 1) + "^".repeat(Math.max(1, pointer.end - pointer.start + 1));
    errorBox.appendChild(pre);
    var go = el("button", { type: "button", "class": "link", id: "show-error" }, "Show in the editor (line " + pointer.line + ", column " + pointer.start + ")");
    go.addEventListener("click", function () {
      editor.focus();
      editor.setSelectionRange(pointer.from, pointer.to);
    });
    errorBox.appendChild(go);
    editor.setAttribute("aria-invalid", "true");
    editor.setSelectionRange(pointer.from, pointer.to);
  }

  function showError(code, message, sql) {
    errorBox.className = "query-error";
    errorBox.textContent = "";
    errorBox.appendChild(el("strong", {}, code));
    errorBox.appendChild(document.createTextNode(": " + message));
    var pointer = code === "PARSE_ERROR" && sql !== undefined ? pointerFor(sql, message) : null;
    if (pointer) { showPointer(pointer); }
  }

  function cell(value) {
    var td = el("td");
    if (value === null) {
      td.appendChild(el("span", { "class": "null" }, "NULL"));
    } else if (typeof value === "object") {
      td.textContent = JSON.stringify(value);
    } else {
      td.textContent = String(value);
    }
    return td;
  }

  // Empty the results but keep the (hidden) heading the section is labelled by.
  function clearResults() {
    results.textContent = "";
    results.appendChild(el("h2", { id: "results-heading", "class": "visually-hidden" }, "Results"));
  }

  function pageCapNote(rowCount) {
    var note = el("p", { "class": "note page-cap", role: "note" },
      "This page shows the first " + number.format(pageRows) + " of " + number.format(rowCount) +
      " rows; the rest are in the CSV: ");
    var button = el("button", { type: "submit", form: "query-form", "class": "link", formaction: downloadUrl }, "Download CSV");
    note.appendChild(button);
    note.appendChild(document.createTextNode("."));
    return note;
  }

  function showResults(body) {
    results.textContent = "";
    results.appendChild(el("h2", { id: "results-heading" }, "Results"));
    var summary = number.format(body.rowCount) + (body.rowCount === 1 ? " row" : " rows") + " in " + number.format(body.queryTimeMs) + " ms";
    if (body.truncated) { summary += " · truncated at the row cap"; }
    results.appendChild(el("p", { "class": "summary" }, summary));
    if (body.rows.length > pageRows) { results.appendChild(pageCapNote(body.rowCount)); }
    (body.warnings || []).forEach(function (w) { results.appendChild(el("p", { "class": "note warn" }, w)); });
    if (body.maskedColumns && body.maskedColumns.length) {
      results.appendChild(el("p", { "class": "note" }, "Masked: " + body.maskedColumns.join(", ")));
    }
    var wrap = el("div", { "class": "table-wrap", tabindex: "0", role: "region", "aria-label": "Query results" });
    var table = el("table", { "class": "results" });
    var headRow = el("tr");
    body.columns.forEach(function (c) { headRow.appendChild(el("th", { scope: "col" }, c)); });
    table.appendChild(el("thead")).appendChild(headRow);
    var tbody = el("tbody");
    var fragment = document.createDocumentFragment();
    body.rows.slice(0, pageRows).forEach(function (row) {
      var tr = el("tr");
      row.forEach(function (v) { tr.appendChild(cell(v)); });
      fragment.appendChild(tr);
    });
    tbody.appendChild(fragment);
    table.appendChild(tbody);
    wrap.appendChild(table);
    results.appendChild(wrap);
  }

  function addRecent(sql, label) {
    var list = document.getElementById("recent-list");
    if (!list) { return; }
    var empty = list.querySelector(".empty");
    if (empty) { empty.remove(); }
    var li = el("li");
    var a = el("a", { href: "#", "data-sql": sql });
    a.appendChild(el("code", {}, sql.length > 120 ? sql.slice(0, 119) + "…" : sql));
    li.appendChild(a);
    li.appendChild(el("span", { "class": "meta" }, " " + label + " · just now"));
    list.insertBefore(li, list.firstChild);
  }

  function run() {
    if (busy) { return; }
    var sql = editor.value;
    busy = true;
    runButton.disabled = true;
    statusBox.textContent = "Running…";
    errorBox.className = "";
    errorBox.textContent = "";
    editor.removeAttribute("aria-invalid");
    var state = window.PortalQuery;
    var asSaved = state.savedId && state.savedSql === sql;
    var url = asSaved ? form.getAttribute("data-saved-api") + "/" + state.savedId + "/run" : form.getAttribute("data-api");
    fetch(url, {
      method: "POST",
      credentials: "same-origin",
      headers: { "Content-Type": "application/json", "Accept": "application/json", "X-CSRFToken": csrf ? csrf.value : "" },
      body: JSON.stringify(asSaved ? {} : { sql: sql })
    }).then(function (response) {
      return response.json().catch(function () { return null; }).then(function (body) {
        if (response.ok && body) {
          showResults(body);
          if (window.PortalChart) {
            var chartSpec = window.PortalChart.spec();
            window.PortalChart.show(body, state.chart !== undefined ? state.chart : chartSpec || undefined);
            state.chart = undefined;  // a saved query's chart applies to its first answer
          }
          statusBox.textContent = number.format(body.rowCount) + " rows returned.";
          addRecent(sql, "Allowed · " + number.format(body.rowCount) + " rows");
        } else {
          var error = (body && body.error) || { code: "HTTP_" + response.status, message: "the server answered " + response.status };
          clearResults();
          if (window.PortalChart) { window.PortalChart.clear(); }
          showError(error.code, error.message, sql);
          statusBox.textContent = "Query failed.";
          addRecent(sql, error.code);
        }
      });
    }).catch(function () {
      showError("NETWORK", "could not reach the server; check your connection and try again");
      statusBox.textContent = "Query failed.";
    }).then(function () {
      busy = false;
      runButton.disabled = false;
    });
  }

  form.addEventListener("submit", function (event) {
    // The CSV button posts the form natively (a file download); only "Run" goes through fetch.
    var submitter = event.submitter;
    if (submitter && submitter.hasAttribute("formaction")) { return; }
    event.preventDefault();
    run();
  });

  editor.addEventListener("keydown", function (event) {
    if (event.key === "Enter" && (event.ctrlKey || event.metaKey)) {
      event.preventDefault();
      run();
    }
  });

  document.addEventListener("click", function (event) {
    var link = event.target.closest ? event.target.closest("a[data-sql], a[data-sample]") : null;
    if (!link) { return; }
    event.preventDefault();
    editor.value = link.getAttribute("data-sql") || link.getAttribute("data-sample");
    editor.focus();
  });
})();
