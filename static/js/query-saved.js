// Saved and shared queries on the query page (issue 19): save (a new query, or your opened
// one: rename, new SQL, chart, share), save as new, delete, through /v1/queries. What runs is
// always governed for whoever runs it; the chart saved is the one on screen (query-chart.js).
(function () {
  "use strict";
  var form = document.getElementById("query-form");
  var bar = document.getElementById("saved-bar");
  if (!form || !bar || !window.fetch) { return; }
  var api = form.getAttribute("data-saved-api");
  var editor = form.querySelector("textarea");
  var nameInput = document.getElementById("query-name");
  var shared = document.getElementById("query-shared");
  var saveButton = document.getElementById("save-button");
  var saveAsButton = document.getElementById("save-as-button");
  var deleteButton = document.getElementById("delete-button");
  var status = document.getElementById("saved-status");
  var csrf = form.querySelector("input[name=csrfmiddlewaretoken]");
  var mine = bar.getAttribute("data-saved-mine") === "1";

  function state() { return window.PortalQuery || {}; }

  function say(text, isError) {
    status.textContent = text;
    status.classList.toggle("error", !!isError);
  }

  function call(method, url, payload) {
    return fetch(url, {
      method: method,
      credentials: "same-origin",
      headers: { "Content-Type": "application/json", "Accept": "application/json", "X-CSRFToken": csrf ? csrf.value : "" },
      body: payload === undefined ? undefined : JSON.stringify(payload)
    }).then(function (response) {
      if (response.status === 204) { return { ok: true, body: null }; }
      return response.json().catch(function () { return null; }).then(function (body) {
        return { ok: response.ok, status: response.status, body: body };
      });
    });
  }

  function payload() {
    var chart = window.PortalChart ? window.PortalChart.spec() : null;
    return { name: nameInput.value, sql: editor.value, chart: chart, shared: shared.checked };
  }

  function listed(saved) {
    var list = document.getElementById("my-saved");
    if (!list) { return; }
    var empty = list.querySelector(".empty");
    if (empty) { empty.remove(); }
    var link = list.querySelector('a[data-saved-id="' + saved.id + '"]');
    var li;
    if (link) {
      li = link.parentNode;
      li.textContent = "";
    } else {
      li = document.createElement("li");
      list.insertBefore(li, list.firstChild);
    }
    var a = document.createElement("a");
    a.href = "?saved=" + saved.id;
    a.setAttribute("data-saved-id", String(saved.id));
    a.textContent = saved.name;
    li.appendChild(a);
    if (saved.shared) {
      var badge = document.createElement("span");
      badge.className = "badge";
      badge.textContent = "shared";
      li.appendChild(document.createTextNode(" "));
      li.appendChild(badge);
    }
  }

  function opened(saved) {
    var s = state();
    s.savedId = String(saved.id);
    s.savedSql = saved.sql;
    mine = true;
    bar.setAttribute("data-saved-id", String(saved.id));
    bar.setAttribute("data-saved-mine", "1");
    nameInput.value = saved.name;
    deleteButton.hidden = false;
    form.setAttribute("action", form.getAttribute("action").split("?")[0] + "?saved=" + saved.id);
    if (window.history && window.history.replaceState) {
      window.history.replaceState(null, "", "?saved=" + saved.id);
    }
    listed(saved);
  }

  function failed(result) {
    var error = (result.body && result.body.error) || { message: "the server answered " + result.status };
    say("Not saved: " + error.message, true);
  }

  function save(asNew) {
    if (!nameInput.value.trim()) {
      say("Name the query first.", true);
      nameInput.focus();
      return;
    }
    var s = state();
    var update = !asNew && s.savedId && mine;
    var request = update ? call("PATCH", api + "/" + s.savedId, payload()) : call("POST", api, payload());
    saveButton.disabled = saveAsButton.disabled = true;
    request.then(function (result) {
      if (!result.ok) { failed(result); return; }
      opened(result.body);
      say((update ? "Saved" : "Saved as a new query") + (result.body.shared ? ", shared with everyone who can read " + result.body.products.join(", ") : ", visible to you only") + ".");
    }).catch(function () {
      say("Not saved: could not reach the server.", true);
    }).then(function () {
      saveButton.disabled = saveAsButton.disabled = false;
    });
  }

  saveButton.addEventListener("click", function () { save(false); });
  saveAsButton.addEventListener("click", function () { save(true); });
  deleteButton.addEventListener("click", function () {
    var s = state();
    if (!s.savedId || !window.confirm("Delete the saved query “" + nameInput.value + "”?")) { return; }
    call("DELETE", api + "/" + s.savedId).then(function (result) {
      if (!result.ok) { failed(result); return; }
      var link = document.querySelector('#my-saved a[data-saved-id="' + s.savedId + '"]');
      if (link) { link.parentNode.remove(); }
      s.savedId = null;
      s.savedSql = null;
      mine = false;
      bar.removeAttribute("data-saved-id");
      deleteButton.hidden = true;
      if (window.history && window.history.replaceState) { window.history.replaceState(null, "", "?"); }
      say("Deleted.");
    });
  });
})();
