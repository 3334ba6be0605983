// The studio's modeller page: loads the file's text, mounts the BPMN modeller (with our properties
// panel) or the DMN editor from the locally built bundle (window.YuqingModeler), saves drafts and
// shows the deploy checks' problems on the elements they concern (a click on one selects it). Edits
// are saved as a draft a few seconds after the last change, and leaving with unsaved edits asks first.
// While drawing, the live lint (our bpmnlint rules, built into the bundle) lists its findings under
// the toolbar, a click on one selects its element; the deploy checks stay the gate. The canvas can go
// fullscreen (Esc leaves).
(function () {
  "use strict";
  var host = document.getElementById("studio-modeler");
  if (!host) { return; }
  var status = host.querySelector("[data-role=status]");
  var list = host.querySelector("[data-role=problems]");
  var lintList = host.querySelector("[data-role=lint]");
  var fullscreenButton = host.querySelector("[data-action=fullscreen]");
  var csrf = host.getAttribute("data-csrf");
  var name = host.getAttribute("data-name");
  var editor = null;
  var edits = 0;       // changes made since the page opened
  var savedEdits = 0;  // changes the last successful save holds
  var autosave = null;
  var autosaveMs = Math.max(1, parseInt(host.getAttribute("data-autosave-seconds"), 10) || 5) * 1000;

  function dirty() { return edits !== savedEdits; }

  function say(text, state) {
    status.textContent = text;
    host.setAttribute("data-state", state || "");
  }

  if (!window.YuqingModeler) {
    say(host.getAttribute("data-missing"), "missing");
    return;
  }
  var catalogue = JSON.parse(host.getAttribute("data-catalogue"));

  function post(url, body, type) {
    return fetch(url, { method: "POST", credentials: "same-origin", body: body,
      headers: { "Content-Type": type, "X-CSRFToken": csrf, "Accept": "application/json" } })
      .then(function (response) { return response.json(); });
  }

  function save(auto) {
    var holding = edits;
    window.clearTimeout(autosave);
    return editor.saveXML().then(function (xml) {
      return post(host.getAttribute("data-save-url"), xml, "text/plain; charset=utf-8");
    }).then(function (result) {
      if (result.ok) { savedEdits = Math.max(savedEdits, holding); }
      host.setAttribute("data-dirty", dirty() ? "true" : "false");
      var done = auto === true ? host.getAttribute("data-autosaved") : host.getAttribute("data-saved");
      say(result.ok ? done : host.getAttribute("data-failed") + ": " + result.message,
        result.ok ? "saved" : "failed");
      return result.ok;
    });
  }

  function changed() {
    edits += 1;
    host.setAttribute("data-dirty", "true");
    say(host.getAttribute("data-unsaved"), "dirty");
    window.clearTimeout(autosave);
    autosave = window.setTimeout(function () { save(true); }, autosaveMs);
  }

  function watch(created) {
    if (created.on) { created.on("change", changed); return; }
    var modeler = created.modeler;  // the decision table editor: watch each view's command stack
    function watchView() {
      var viewer = modeler.getActiveViewer && modeler.getActiveViewer();
      if (viewer && !viewer.yqWatched) {
        viewer.yqWatched = true;
        viewer.get("eventBus").on("commandStack.changed", changed);
      }
    }
    modeler.on("views.changed", watchView);
    watchView();
  }

  window.addEventListener("beforeunload", function (event) {
    if (!editor || !dirty()) { return undefined; }
    event.preventDefault();
    event.returnValue = "";
    return "";
  });

  // A problem of the list selects its element on a click (or Enter); one of another file opens it.
  function linkTo(item, element, file) {
    item.setAttribute("data-element", element);
    item.setAttribute("tabindex", "0");
    item.classList.add("studio-problem--link");
    var open = function () {
      if (file === name) {
        if (editor.select) { editor.select(element); } else { selectCell(element); }
        return;
      }
      if (file) {
        window.location.href = host.getAttribute("data-file-url").replace("__name__", encodeURIComponent(file)) +
          "#" + encodeURIComponent(element);
      }
    };
    item.addEventListener("click", open);
    item.addEventListener("keydown", function (event) { if (event.key === "Enter") { open(); } });
  }

  // The live lint's findings (errors first), redrawn after every lint run.
  function showLint(issues) {
    lintList.textContent = "";
    var errors = issues.filter(function (issue) { return issue.category === "error"; }).length;
    host.setAttribute("data-lint-errors", String(errors));
    host.setAttribute("data-lint-warnings", String(issues.length - errors));
    issues.forEach(function (issue) {
      var item = document.createElement("li");
      item.className = "studio-lint--" + issue.category;
      item.setAttribute("data-rule", issue.rule || "");
      var kind = document.createElement("span");
      kind.className = "studio-lint-kind";
      kind.textContent = host.getAttribute(issue.category === "error" ? "data-lint-error" : "data-lint-warning");
      var text = document.createElement("span");
      text.textContent = issue.message;
      item.appendChild(kind);
      item.appendChild(text);
      linkTo(item, issue.element_id, name);
      lintList.appendChild(item);
    });
    lintList.hidden = !issues.length;
  }

  function setFullscreen(on) {
    host.classList.toggle("studio-modeler--fullscreen", on);
    host.setAttribute("data-fullscreen", on ? "true" : "false");
    fullscreenButton.textContent = host.getAttribute(on ? "data-fullscreen-leave" : "data-fullscreen-enter");
    fullscreenButton.setAttribute("aria-pressed", on ? "true" : "false");
    if (editor && editor.resized) { editor.resized(); }
  }

  fullscreenButton.addEventListener("click", function () {
    setFullscreen(host.getAttribute("data-fullscreen") !== "true");
  });
  document.addEventListener("keydown", function (event) {
    if (event.key === "Escape" && host.getAttribute("data-fullscreen") === "true") { setFullscreen(false); }
  });

  function showProblems(problems) {
    list.textContent = "";
    var here = problems.filter(function (p) { return p.file === name; });
    problems.forEach(function (p) {
      var item = document.createElement("li");
      var text = document.createElement("span");
      text.textContent = (p.file || "") + (p.element ? " · " + p.element : "") + ":" + (p.message || p.reason);
      item.appendChild(text);
      if (p.hint) {
        var hint = document.createElement("span");
        hint.className = "studio-problem-hint";
        hint.textContent = p.hint;
        item.appendChild(hint);
      }
      if (p.element) {
        linkTo(item, p.element, p.file);
      }
      list.appendChild(item);
    });
    if (editor.markProblems) {
      editor.clearProblems();
      editor.markProblems(here.filter(function (p) { return p.element; })
        .map(function (p) { return { element_id: p.element, message: p.message || p.reason }; }));
    } else {
      markCells(here);
    }
  }

  // The decision table editor: a problem on a cell (or an input column) marks it in the table.
  var dmnProblems = [];
  function cellOf(id) {
    var escaped = window.CSS && CSS.escape ? CSS.escape(id) : id;
    return host.querySelector('[data-element-id="' + escaped + '"], [data-col-id="' + escaped + '"]');
  }

  function markCells(problems) {
    dmnProblems = problems.filter(function (p) { return p.element; });
    host.querySelectorAll(".el--problem").forEach(function (node) {
      node.classList.remove("el--problem");
      node.removeAttribute("title");
    });
    dmnProblems.forEach(function (p) {
      var cell = cellOf(p.element);
      if (cell) {
        cell.classList.add("el--problem");
        cell.setAttribute("title", p.message || p.reason);
      }
    });
  }

  function viewHolding(id) {
    var views = editor.modeler.getViews ? editor.modeler.getViews() : [];
    return views.find(function (view) {
      var decision = view.element;
      if (!decision || view.type !== "decisionTable") { return false; }
      if (decision.id === id) { return true; }
      var table = decision.decisionLogic || {};
      var ids = [table.id].concat((table.input || []).map(function (c) { return c.id; }));
      (table.rule || []).forEach(function (rule) {
        ids.push(rule.id);
        (rule.inputEntry || []).concat(rule.outputEntry || []).forEach(function (e) { ids.push(e.id); });
      });
      return ids.indexOf(id) >= 0;
    });
  }

  function selectCell(id) {
    var cell = cellOf(id);
    var view = cell ? null : viewHolding(id);
    var shown = view ? editor.modeler.open(view).then(function () { markCells(dmnProblems); }) : Promise.resolve();
    shown.then(function () {
      host.querySelectorAll(".yq-selected").forEach(function (node) { node.classList.remove("yq-selected"); });
      var found = cellOf(id);
      if (!found) { return; }
      found.classList.add("yq-selected");
      found.scrollIntoView({ block: "center", inline: "center" });
    });
  }

  function validate() {
    save().then(function (saved) {
      if (!saved) { return null; }
      return post(host.getAttribute("data-validate-url"), "{}", "application/json");
    }).then(function (result) {
      if (!result) { return; }
      showProblems(result.problems || []);
      say(result.ok ? host.getAttribute("data-valid") : host.getAttribute("data-invalid") + " " +
        result.problems.length, result.ok ? "valid" : "invalid");
    });
  }

  host.querySelector("[data-action=save]").addEventListener("click", function () { save(false); });
  host.querySelector("[data-action=validate]").addEventListener("click", validate);

  fetch(host.getAttribute("data-source-url"), { credentials: "same-origin" })
    .then(function (response) { return response.text(); })
    .then(function (xml) {
      var canvas = host.querySelector("[data-role=canvas]");
      var locale = host.getAttribute("data-locale") === "en" ? "en" : "zh";
      if (host.getAttribute("data-kind") === "dmn") {
        return window.YuqingModeler.createDmn({ container: canvas, xml: xml, locale: locale });
      }
      return window.YuqingModeler.createBpmn({
        container: canvas, panel: host.querySelector("[data-role=panel]"), xml: xml,
        forms: catalogue.forms, uiforms: catalogue.uiforms, processes: catalogue.processes,
        decisions: catalogue.decisions, operators: catalogue.operators, roles: catalogue.roles,
        locale: locale
      });
    })
    .then(function (created) {
      editor = created;
      watch(created);
      if (created.lintIssues) {
        created.on("lint", showLint);
        showLint(created.lintIssues());
      }
      window.YuqingStudio = { editor: editor };  // for automation (browser tests), like the page's own buttons
      var wanted = decodeURIComponent((window.location.hash || "").slice(1));
      if (wanted) { if (editor.select) { editor.select(wanted); } else { selectCell(wanted); } }  // a problem link
      host.setAttribute("data-ready", "true");
    })
    .catch(function (error) { say(String(error && error.message || error), "failed"); });
}());
