// A batch operation's progress bar: polls the batch's JSON every second until it is done, then
// shows the per-instance report. No inline script: the URL comes from a data attribute.
(function () {
  "use strict";
  var host = document.getElementById("batch-progress");
  if (!host) { return; }
  var url = host.getAttribute("data-url");
  var bar = host.querySelector("progress");
  var text = host.querySelector("[data-role=text]");
  var body = document.querySelector("#batch-results tbody");
  var labels = { ok: host.getAttribute("data-ok"), failed: host.getAttribute("data-failed") };

  function render(data) {
    bar.max = Math.max(data.total, 1);
    bar.value = data.done;
    text.textContent = data.done + " / " + data.total + " · " + labels.ok + " " + data.succeeded + " · " +
      labels.failed + " " + data.failed;
    host.setAttribute("data-status", data.status);
    body.textContent = "";
    data.results.forEach(function (row) {
      var tr = document.createElement("tr");
      tr.className = row.ok ? "result--ok" : "result--failed";
      var name = document.createElement("td");
      if (row.instance) {
        var link = document.createElement("a");
        link.href = host.getAttribute("data-instance-url").replace("__id__", row.instance);
        link.textContent = row.label || row.instance;
        name.appendChild(link);
      }
      var outcome = document.createElement("td");
      outcome.textContent = row.ok ? labels.ok : labels.failed;
      var message = document.createElement("td");
      message.textContent = row.message || "";
      tr.appendChild(name); tr.appendChild(outcome); tr.appendChild(message);
      body.appendChild(tr);
    });
  }

  function poll() {
    fetch(url, { credentials: "same-origin" })
      .then(function (response) { return response.json(); })
      .then(function (data) {
        render(data);
        if (data.status !== "done") { window.setTimeout(poll, 1000); }
      })
      .catch(function () { window.setTimeout(poll, 3000); });
  }
  poll();
}());
