// Form editor: JSON Schema (and UI schema) text on the left, the form as the worklist renders it on
// the right. The preview is rendered by the server (the same renderer as task pages) from the
// unsaved text, a moment after each change. Saving stores a draft; nothing runs on drafts.
(function () {
  "use strict";
  var host = document.getElementById("studio-form");
  if (!host) { return; }
  var schema = document.getElementById("schema-text");
  var uischema = document.getElementById("uischema-text");
  var preview = document.getElementById("form-preview");
  var problems = document.getElementById("preview-problems");
  var status = document.getElementById("save-status");
  var csrf = host.getAttribute("data-csrf");
  var timer = null;

  function post(url, body, type) {
    return fetch(url, { method: "POST", credentials: "same-origin", body: body,
      headers: { "Content-Type": type, "X-CSRFToken": csrf, "Accept": "application/json" } });
  }

  function refresh() {
    var payload = JSON.stringify({ name: host.getAttribute("data-name"), schema: schema.value,
      uischema: uischema ? uischema.value : "" });
    post(host.getAttribute("data-preview-url"), payload, "application/json")
      .then(function (response) { return response.json(); })
      .then(function (data) {
        problems.textContent = "";
        if (data.ok) {
          preview.innerHTML = data.html;  // server-rendered and escaped by the app's templates
          host.setAttribute("data-preview", "ok");
        } else {
          (data.problems || []).forEach(function (text) {
            var line = document.createElement("p");
            line.textContent = text;
            problems.appendChild(line);
          });
          host.setAttribute("data-preview", "error");
        }
      });
  }

  function later() {
    window.clearTimeout(timer);
    timer = window.setTimeout(refresh, 400);
  }

  function save() {
    var saves = [post(host.getAttribute("data-save-url"), schema.value, "text/plain; charset=utf-8")];
    if (uischema) {
      saves.push(post(host.getAttribute("data-ui-save-url"), uischema.value, "text/plain; charset=utf-8"));
    }
    Promise.all(saves).then(function (responses) {
      return Promise.all(responses.map(function (r) { return r.json(); }));
    }).then(function (results) {
      var failed = results.filter(function (r) { return !r.ok; });
      status.textContent = failed.length ? host.getAttribute("data-failed") + ": " + failed[0].message
        : host.getAttribute("data-saved");
      host.setAttribute("data-saved-state", failed.length ? "failed" : "saved");
    });
  }

  schema.addEventListener("input", later);
  if (uischema) { uischema.addEventListener("input", later); }
  document.getElementById("save-form").addEventListener("click", save);
  refresh();
}());
