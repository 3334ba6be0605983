// The studio index: fetch the validation of the workspace's drafts after the page is shown (the server
// renders the index at once and validates on this request only when the result is not known yet).
(function () {
  "use strict";
  function load() {
    var box = document.getElementById("studio-validation");
    if (!box || !box.dataset.validationUrl) { return; }
    fetch(box.dataset.validationUrl, {credentials: "same-origin", headers: {"Accept": "text/html"}})
      .then(function (response) {
        if (!response.ok) { throw new Error(String(response.status)); }
        return response.text();
      })
      .then(function (html) {
        var holder = document.createElement("div");
        holder.innerHTML = html;  // rendered and escaped by the server's template
        var section = holder.querySelector("section");
        if (section) { box.replaceWith(section); }
        document.body.dataset.validationReady = "1";
      })
      .catch(function () {
        box.textContent = box.dataset.error || "";
        document.body.dataset.validationReady = "error";
      });
  }
  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", load);
  } else {
    load();
  }
}());
