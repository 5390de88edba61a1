// The SQL editor's autocomplete (issue 19): product ids, table names and the columns you may
// read, from GET /v1/query/catalog (the portal's own API: no CDN, works offline). PII columns
// say so, and how they read for you (masked, or raw). Typing a name (or Ctrl+Space) opens the
// list; Up/Down move, Enter or Tab picks, Escape closes.
(function () {
  "use strict";
  var form = document.getElementById("query-form");
  var list = document.getElementById("sql-suggestions");
  if (!form || !list || !window.fetch) { return; }
  var editor = form.querySelector("textarea");
  var MAX_SHOWN = 12;
  var entries = null;
  var loading = null;
  var shown = [];
  var active = -1;
  var token = null;

  editor.setAttribute("aria-autocomplete", "list");
  editor.setAttribute("aria-controls", "sql-suggestions");
  editor.setAttribute("aria-expanded", "false");

  function load() {
    if (loading) { return loading; }
    loading = fetch(form.getAttribute("data-catalog-api"), {
      credentials: "same-origin", headers: { "Accept": "application/json" }
    }).then(function (r) { return r.ok ? r.json() : { products: [] }; }).then(function (body) {
      entries = [];
      (body.products || []).forEach(function (p) {
        entries.push({ label: p.id, kind: "product", detail: p.name, product: p.id });
        if (p.table !== p.id) { entries.push({ label: p.table, kind: "table", detail: p.id, product: p.id }); }
        p.columns.forEach(function (c) {
          entries.push({ label: c.name, kind: "column", detail: c.type, product: p.id, pii: c.pii, mask: c.mask });
        });
      });
      return entries;
    }).catch(function () { entries = []; return entries; });
    return loading;
  }

  // The name being typed just before the caret (letters, digits, _ and dots).
  function currentToken() {
    var before = editor.value.slice(0, editor.selectionStart);
    var m = /[A-Za-z0-9_.]*$/.exec(before);
    return { text: m[0], start: editor.selectionStart - m[0].length, end: editor.selectionStart };
  }

  function close() {
    list.hidden = true;
    list.textContent = "";
    shown = [];
    active = -1;
    editor.setAttribute("aria-expanded", "false");
    editor.removeAttribute("aria-activedescendant");
  }

  function candidates(text) {
    var lower = text.toLowerCase();
    var sql = editor.value.toLowerCase();
    // "alias.col": complete the part after the last dot as a column, unless it is a product id.
    var dot = lower.lastIndexOf(".");
    var asProduct = entries.some(function (e) { return e.kind === "product" && e.label.toLowerCase().indexOf(lower) === 0; });
    var prefix = !asProduct && dot >= 0 ? lower.slice(dot + 1) : lower;
    var seen = {};
    var found = entries.filter(function (e) {
      var wanted = e.kind === "column" ? prefix : lower;
      if (e.kind !== "column" && !asProduct && dot >= 0) { return false; }
      if (e.label.toLowerCase().indexOf(wanted) !== 0) { return false; }
      var key = e.kind + ":" + e.label + ":" + (e.kind === "column" ? e.product : "");
      if (seen[key]) { return false; }
      seen[key] = true;
      return true;
    });
    // Columns of the products the query already names come first.
    function rank(e) {
      if (e.kind !== "column") { return 1; }
      return sql.indexOf(e.product.toLowerCase()) >= 0 ? 0 : 2;
    }
    found.sort(function (a, b) { return rank(a) - rank(b) || a.label.localeCompare(b.label); });
    return { items: found.slice(0, MAX_SHOWN), cut: !asProduct && dot >= 0 ? dot + 1 : 0 };
  }

  function piiText(e) {
    if (!e.pii) { return ""; }
    return e.mask ? "PII · masked (" + e.mask + ")" : "PII · raw for you";
  }

  function render() {
    list.textContent = "";
    shown.forEach(function (e, i) {
      var li = document.createElement("li");
      li.id = "sql-suggestion-" + i;
      li.setAttribute("role", "option");
      li.setAttribute("aria-selected", i === active ? "true" : "false");
      li.setAttribute("data-kind", e.kind);
      li.setAttribute("data-label", e.label);
      var name = document.createElement("code");
      name.textContent = e.label;
      li.appendChild(name);
      var kindSpan = document.createElement("span");
      kindSpan.className = "kind";
      kindSpan.textContent = e.kind === "column" ? e.detail + " · " + e.product : e.kind + (e.detail ? " · " + e.detail : "");
      li.appendChild(kindSpan);
      if (e.pii) {
        var pii = document.createElement("span");
        pii.className = "pii " + (e.mask ? "masked" : "raw");
        pii.textContent = piiText(e);
        li.appendChild(pii);
      }
      li.addEventListener("mousedown", function (event) {
        event.preventDefault();  // keep the editor's focus and caret
        pick(i);
      });
      list.appendChild(li);
    });
    if (active >= 0) { editor.setAttribute("aria-activedescendant", "sql-suggestion-" + active); }
  }

  function open(force) {
    if (!entries) { load().then(function () { open(force); }); return; }
    token = currentToken();
    if (!token.text && !force) { close(); return; }
    var found = candidates(token.text);
    if (!found.items.length || (found.items.length === 1 && found.items[0].label === token.text.slice(found.cut))) {
      close();
      return;
    }
    token.cut = found.cut;
    shown = found.items;
    active = 0;
    list.hidden = false;
    editor.setAttribute("aria-expanded", "true");
    render();
  }

  function pick(i) {
    var e = shown[i];
    if (!e || !token) { return; }
    var start = token.start + token.cut;
    editor.setRangeText(e.label, start, token.end, "end");
    close();
    editor.focus();
  }

  editor.addEventListener("input", function (event) {
    if (event.inputType && event.inputType.indexOf("delete") === 0 && list.hidden) { return; }
    open(false);
  });
  editor.addEventListener("keydown", function (event) {
    if (event.key === " " && event.ctrlKey) {
      event.preventDefault();
      open(true);
      return;
    }
    if (list.hidden) { return; }
    if (event.key === "ArrowDown" || event.key === "ArrowUp") {
      event.preventDefault();
      active = (active + (event.key === "ArrowDown" ? 1 : shown.length - 1)) % shown.length;
      render();
    } else if ((event.key === "Enter" || event.key === "Tab") && !event.ctrlKey && !event.metaKey) {
      event.preventDefault();
      pick(active);
    } else if (event.key === "Escape") {
      event.preventDefault();
      close();
    }
  });
  editor.addEventListener("blur", function () { window.setTimeout(close, 100); });
  editor.addEventListener("focus", function () { load(); });
})();
