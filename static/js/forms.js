// Server-rendered forms: focus the first field the server marked invalid. Browsers ignore the
// autofocus attribute when the URL has a fragment (#register keeps the form in view) and move
// the focus to the fragment's target, so the page focuses the field once it has loaded; without
// JS the form is still scrolled into view.
(function () {
  "use strict";
  function focusFirstInvalid() {
    var field = document.querySelector("form [aria-invalid='true']");
    if (field) { field.focus(); }
  }
  if (document.readyState === "complete") {
    focusFirstInvalid();
  } else {
    window.addEventListener("load", function () { window.setTimeout(focusFirstInvalid, 0); });
  }
})();
