// "New data product": check the form the way publishing checks it, while the owner types.
// The page works without this script (its Check button posts the same dry run); with it, a
// change waits for a pause in typing, posts the form to data-check-url and writes each problem
// beside its field (elements marked data-error-for="<field name>").
(function () {
  "use strict";
  var form = document.getElementById("draft-form");
  if (!form || !window.fetch || !window.FormData) { return; }
  var url = form.getAttribute("data-check-url");
  var timer = null;
  var sent = 0;

  function field(name) { return form.querySelector("[name='" + name.replace(/'/g, "\\'") + "']"); }

  function show(result) {
    var errors = result.errors || {};
    form.querySelectorAll("[data-error-for]").forEach(function (slot) {
      var name = slot.getAttribute("data-error-for");
      var messages = errors[name] || [];
      slot.textContent = messages.join(" ");
      var input = field(name);
      if (input) {
        if (messages.length) { input.setAttribute("aria-invalid", "true"); }
        else { input.removeAttribute("aria-invalid"); }
      }
    });
    var general = document.getElementById("draft-general");
    var warnings = document.getElementById("draft-warnings");
    general.textContent = "";
    (result.general || []).forEach(function (text) {
      var li = document.createElement("li"); li.className = "error"; li.textContent = text;
      general.appendChild(li);
    });
    warnings.textContent = "";
    (result.warnings || []).forEach(function (text) {
      var li = document.createElement("li"); li.textContent = text; warnings.appendChild(li);
    });
    var publish = document.getElementById("draft-publish");
    if (publish) { publish.setAttribute("aria-disabled", result.publishable ? "false" : "true"); }
    form.setAttribute("data-checked", result.ok ? "ok" : "problems");
  }

  function check() {
    var mine = ++sent;
    var body = new FormData(form);
    body.set("action", "check");
    fetch(url, {
      method: "POST",
      body: body,
      credentials: "same-origin",
      headers: { "X-Requested-With": "fetch" },
    }).then(function (response) {
      var type = response.headers.get("Content-Type") || "";
      if (type.indexOf("application/json") === -1) { throw new Error("not JSON"); }
      return response.json();
    }).then(function (result) {
      if (mine === sent) { show(result); }
    }).catch(function () { /* the Check button still works */ });
  }

  function later() {
    if (timer) { window.clearTimeout(timer); }
    timer = window.setTimeout(check, 500);
  }

  form.addEventListener("input", later);
  form.addEventListener("change", later);
  check();
})();
