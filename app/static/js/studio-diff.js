// Visual diff of two versions: both diagrams side by side, added elements marked on the new one,
// removed ones on the old one, changed ones on both. Data comes from the page; no inline script.
(function () {
  "use strict";
  var host = document.getElementById("studio-diff");
  if (!host || typeof window.BpmnJS !== "function") { return; }
  var changes = JSON.parse(host.getAttribute("data-changes"));
  var loaded = 0;

  function draw(role, url, marks) {
    var container = host.querySelector("[data-role=" + role + "]");
    var viewer = new window.BpmnJS({ container: container });
    return fetch(url, { credentials: "same-origin" })
      .then(function (response) { return response.text(); })
      .then(function (xml) { return viewer.importXML(xml); })
      .then(function () {
        var canvas = viewer.get("canvas");
        var registry = viewer.get("elementRegistry");
        canvas.zoom("fit-viewport");
        marks.forEach(function (mark) {
          mark.ids.forEach(function (id) {
            if (registry.get(id)) { canvas.addMarker(id, mark.css); }
          });
        });
        loaded += 1;
        if (loaded === 2) { host.setAttribute("data-ready", "true"); }
      })
      .catch(function (error) { container.textContent = host.getAttribute("data-error") + " (" + error.message + ")"; });
  }

  function ids(list) { return list.map(function (e) { return e.id; }); }
  draw("old", host.getAttribute("data-old-url"), [
    { css: "diff--removed", ids: ids(changes.removed) }, { css: "diff--changed", ids: ids(changes.changed) }]);
  draw("new", host.getAttribute("data-new-url"), [
    { css: "diff--added", ids: ids(changes.added) }, { css: "diff--changed", ids: ids(changes.changed) }]);
}());
