// Read-only process diagram of an instance: draws each process it ran with bpmn-js and marks every
// element as completed, active, waiting, failed or cancelled. Data comes from the page (JSON in a
// data attribute); the BPMN is fetched from the app. No inline script, no third-party host.
(function () {
  "use strict";
  var host = document.getElementById("instance-diagram");
  if (!host || typeof window.BpmnJS !== "function") {
    return;
  }
  var data = JSON.parse(host.getAttribute("data-diagram"));
  var baseUrl = host.getAttribute("data-source-url");
  var canvasEl = host.querySelector(".diagram__canvas");
  var tabs = host.querySelector(".diagram__tabs");
  var viewer = new window.BpmnJS({ container: canvasEl });
  var labels = data.labels || {};

  // English pages draw the elements' English names: the page gives {diagram's name: English name}; the
  // fetched BPMN is only relabelled here, for display (a name without an entry stays as the diagram wrote it).
  function relabel(xml) {
    if (!Object.keys(labels).length || typeof window.DOMParser !== "function") { return xml; }
    var doc = new window.DOMParser().parseFromString(xml, "application/xml");
    if (doc.getElementsByTagName("parsererror").length) { return xml; }
    var all = doc.getElementsByTagName("*");
    for (var i = 0; i < all.length; i += 1) {
      var name = all[i].getAttribute("name");
      if (name && Object.prototype.hasOwnProperty.call(labels, name.trim())) {
        all[i].setAttribute("name", labels[name.trim()]);
      }
    }
    return new window.XMLSerializer().serializeToString(doc);
  }

  function show(process) {
    var buttons = tabs.querySelectorAll("button");
    for (var i = 0; i < buttons.length; i += 1) {
      buttons[i].setAttribute("aria-pressed", String(buttons[i].getAttribute("data-process") === process.id));
    }
    fetch(baseUrl.replace("__process__", encodeURIComponent(process.id)), { credentials: "same-origin" })
      .then(function (response) {
        if (!response.ok) { throw new Error("HTTP " + response.status); }
        return response.text();
      })
      .then(function (xml) { return viewer.importXML(relabel(xml)); })
      .then(function () {
        var canvas = viewer.get("canvas");
        var registry = viewer.get("elementRegistry");
        canvas.zoom("fit-viewport");
        var overlays = viewer.get("overlays");
        Object.keys(process.status).forEach(function (id) {
          if (registry.get(id)) {
            canvas.addMarker(id, "el--" + process.status[id].status);
            var count = process.status[id].count;
            if (count > 0) {
              // How many times the element completed (loops, multi-instance rows, reminder rounds).
              var badge = document.createElement("span");
              badge.className = "el-count";
              badge.textContent = String(count);
              badge.setAttribute("data-element", id);
              overlays.add(id, { position: { bottom: 4, right: 10 }, html: badge });
            }
          }
        });
        host.setAttribute("data-ready", "true");
        host.setAttribute("data-shown", process.id);
      })
      .catch(function (error) {
        canvasEl.textContent = host.getAttribute("data-error") + " (" + error.message + ")";
      });
  }

  // A called process opens in its own tab when its call activity is clicked.
  var byId = {};
  data.processes.forEach(function (process) { byId[process.id] = process; });
  viewer.on("element.click", function (event) {
    var called = event.element && event.element.businessObject && event.element.businessObject.calledElement;
    if (called && byId[called]) { show(byId[called]); }
  });

  data.processes.forEach(function (process, index) {
    var button = document.createElement("button");
    button.type = "button";
    button.textContent = process.name || process.id;
    button.setAttribute("data-process", process.id);
    button.addEventListener("click", function () { show(process); });
    tabs.appendChild(button);
    if (index === 0) { show(process); }
  });
}());
