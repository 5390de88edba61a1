// Product page: load the ten sample rows (a governed query) into the profile card. Without
// this script the card links to the same rows on a page of their own.
(function () {
  "use strict";
  var slot = document.getElementById("sample");
  if (!slot || !window.fetch) { return; }
  var url = slot.getAttribute("data-sample-url");
  fetch(url, { credentials: "same-origin", headers: { "X-Requested-With": "fetch" } })
    .then(function (response) {
      if (!response.ok) { throw new Error(String(response.status)); }
      return response.text();
    })
    .then(function (html) {
      // Server-rendered and escaped by Django's templates: the same markup the page would have.
      var parsed = new DOMParser().parseFromString(html, "text/html");
      var fragment = parsed.querySelector(".sample");
      if (fragment) { slot.replaceChildren(document.importNode(fragment, true)); }
    })
    .catch(function () { /* keep the link */ });
})();
