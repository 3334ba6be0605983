// Form builder: the form's fields as a list (add, remove, reorder; name, type, title, required, help
// text, options of a choice) that edits the JSON Schema and UI schema text of the form editor. The
// raw JSON stays in the 高级 tab; every change here rewrites it and the live preview follows (the
// editor's own script listens to the text). Fields this list cannot express (tables, attachments,
// option lists from the app, read-only values…) are kept exactly as they are and can only be moved
// or removed here. The page's texts come from data-labels (translated by the server).
(function () {
  "use strict";
  var host = document.getElementById("form-builder");
  var schemaText = document.getElementById("schema-text");
  if (!host || !schemaText) { return; }
  var uiText = document.getElementById("uischema-text");
  var list = document.getElementById("builder-fields");
  var message = document.getElementById("builder-message");
  var titleInput = document.getElementById("builder-title");
  var L = JSON.parse(host.getAttribute("data-labels"));
  var NAME = /^[a-z][a-z0-9_]{0,63}$/;
  var KINDS = ["text", "textarea", "integer", "boolean", "choice", "multi", "date", "datetime", "url"];
  var TYPE_KEYS = ["type", "format", "pattern", "maxLength", "minLength", "oneOf", "enum", "items",
    "uniqueItems", "maxItems", "minimum", "maximum"];
  var schema = null;
  var ui = null;

  function kindOf(field, fieldUi) {
    if (!field || typeof field !== "object" || field.readOnly || field["x-source"] || field.$ref) { return "advanced"; }
    if (field.type === "boolean") { return "boolean"; }
    if (field.type === "integer") { return field.oneOf || field.enum ? "advanced" : "integer"; }
    if (field.type === "string") {
      if (field.oneOf) { return "choice"; }
      if (field.enum) { return "advanced"; }
      if (field.format === "date") { return "date"; }
      if (field.format === "date-time") { return "datetime"; }
      if (field.format === "uri") { return "url"; }
      if (field.format) { return "advanced"; }
      return fieldUi && fieldUi["ui:widget"] === "textarea" ? "textarea" : "text";
    }
    if (field.type === "array" && field.items && field.items.type === "string" && field.items.oneOf &&
        !field["x-attachments"] && !field.items["x-source"]) { return "multi"; }
    return "advanced";
  }

  function options(field) {
    var source = field.type === "array" ? (field.items || {}) : field;
    return (source.oneOf || []).map(function (o) { return { value: o.const, label: o.title }; });
  }

  function applyKind(name, field, kind, opts) {
    TYPE_KEYS.forEach(function (key) { delete field[key]; });
    var choices = (opts || []).map(function (o) { return { "const": o.value, "title": o.label }; });
    if (kind === "text") { field.type = "string"; field.maxLength = 200; }
    if (kind === "textarea") { field.type = "string"; field.maxLength = 5000; }
    if (kind === "integer") { field.type = "integer"; }
    if (kind === "boolean") { field.type = "boolean"; }
    if (kind === "choice") { field.type = "string"; field.oneOf = choices; }
    if (kind === "multi") {
      field.type = "array"; field.uniqueItems = true; field.maxItems = Math.max(choices.length, 1);
      field.items = { type: "string", oneOf: choices };
    }
    if (kind === "date") { field.type = "string"; field.format = "date"; }
    if (kind === "datetime") { field.type = "string"; field.format = "date-time"; }
    if (kind === "url") { field.type = "string"; field.format = "uri"; field.pattern = "^https?://"; field.maxLength = 2000; }
    if (ui) {
      var fieldUi = ui[name] && typeof ui[name] === "object" ? ui[name] : {};
      delete fieldUi["ui:widget"]; delete fieldUi["ui:rows"];
      if (kind === "textarea") { fieldUi["ui:widget"] = "textarea"; fieldUi["ui:rows"] = 4; }
      if (Object.keys(fieldUi).length) { ui[name] = fieldUi; } else { delete ui[name]; }
    }
  }

  function order() {
    var names = Object.keys(schema.properties || {});
    var listed = ui && Array.isArray(ui["ui:order"]) ? ui["ui:order"].filter(function (n) { return names.indexOf(n) >= 0; }) : [];
    return listed.concat(names.filter(function (n) { return listed.indexOf(n) < 0; }));
  }

  function setOrder(names) {
    var props = {};
    names.forEach(function (n) { props[n] = schema.properties[n]; });
    schema.properties = props;
    if (ui && Array.isArray(ui["ui:order"])) { ui["ui:order"] = names.slice(); }
  }

  function write() {
    schemaText.value = JSON.stringify(schema, null, 2) + "\n";
    schemaText.dispatchEvent(new Event("input"));
    if (uiText && ui) {
      uiText.value = JSON.stringify(ui, null, 2) + "\n";
      uiText.dispatchEvent(new Event("input"));
    }
    host.setAttribute("data-changed", String(Number(host.getAttribute("data-changed") || "0") + 1));
  }

  function load() {
    message.textContent = "";
    try {
      schema = JSON.parse(schemaText.value);
      ui = uiText ? (uiText.value.trim() ? JSON.parse(uiText.value) : {}) : null;
      if (!schema || typeof schema !== "object" || Array.isArray(schema)) { throw new Error("schema"); }
    } catch (e) {
      schema = null;
      message.textContent = L.bad_json;
      host.setAttribute("data-state", "bad-json");
      list.textContent = "";
      return false;
    }
    schema.properties = schema.properties || {};
    schema.type = schema.type || "object";
    if (schema.additionalProperties === undefined) { schema.additionalProperties = false; }
    titleInput.value = schema.title || "";
    render();
    host.setAttribute("data-state", "ready");
    return true;
  }

  function el(tag, attrs, text) {
    var node = document.createElement(tag);
    Object.keys(attrs || {}).forEach(function (k) { node.setAttribute(k, attrs[k]); });
    if (text !== undefined) { node.textContent = text; }
    return node;
  }

  function labelled(text, control) {
    var label = el("label", {}, text + " ");
    label.appendChild(control);
    return label;
  }

  function required(name, on) {
    var names = (schema.required || []).filter(function (n) { return n !== name; });
    if (on) { names.push(name); }
    if (names.length) { schema.required = names; } else { delete schema.required; }
  }

  function rename(from, to) {
    if (from === to) { return true; }
    if (!NAME.test(to) || schema.properties[to]) { message.textContent = L.bad_name; return false; }
    var names = order().map(function (n) { return n === from ? to : n; });
    schema.properties[to] = schema.properties[from];
    delete schema.properties[from];
    if (schema.required) { schema.required = schema.required.map(function (n) { return n === from ? to : n; }); }
    if (ui && ui[from] !== undefined) { ui[to] = ui[from]; delete ui[from]; }
    setOrder(names);
    return true;
  }

  function parseOptions(text) {
    return text.split("\n").map(function (line) { return line.trim(); }).filter(Boolean).map(function (line) {
      var at = line.indexOf("=");
      return at > 0 ? { value: line.slice(0, at).trim(), label: line.slice(at + 1).trim() } : { value: line, label: line };
    });
  }

  function row(key, index, names) {
    // The row's field name can change while the row stays on the page (a rename updates it in place:
    // redrawing the list on leaving the name box would swallow the click and keys meant for the next
    // box), so the handlers read it from `current`.
    var current = { name: key };
    var name = key;
    var field = schema.properties[name];
    var fieldUi = ui && ui[name];
    var kind = kindOf(field, fieldUi);
    var item = el("li", { "class": "builder-field", "data-field": name, "data-kind": kind });
    var nameInput = el("input", { type: "text", value: name, maxlength: "64", "data-role": "name" });
    nameInput.addEventListener("change", function () {
      var to = nameInput.value.trim();
      if (!rename(current.name, to)) { nameInput.value = current.name; return; }
      message.textContent = "";
      current.name = to;
      nameInput.value = to;
      item.setAttribute("data-field", to);
      Array.prototype.forEach.call(item.querySelectorAll("[data-action]"), function (button) {
        button.setAttribute("aria-label", L[button.getAttribute("data-action")] + " " + to);
      });
      write();
    });
    item.appendChild(labelled(L.name, nameInput));
    if (kind === "advanced") {
      item.appendChild(el("span", { "class": "meta", "data-role": "advanced" }, (field && field.title ? field.title + " · " : "") + L.advanced));
    } else {
      var title = el("input", { type: "text", value: field.title || "", maxlength: "200", "data-role": "title" });
      title.addEventListener("input", function () { field.title = title.value; write(); });
      item.appendChild(labelled(L.title, title));
      var type = el("select", { "data-role": "type" });
      KINDS.forEach(function (k) {
        var option = el("option", { value: k }, L.kinds[k]);
        if (k === kind) { option.selected = true; }
        if (k === "textarea" && !ui) { option.disabled = true; }
        type.appendChild(option);
      });
      type.addEventListener("change", function () {
        var opts = options(field);
        if (!opts.length && (type.value === "choice" || type.value === "multi")) {
          opts = [{ value: "option_1", label: L.option + " 1" }];
        }
        applyKind(current.name, field, type.value, opts);
        write(); render();
      });
      item.appendChild(labelled(L.type, type));
      var req = el("input", { type: "checkbox", "data-role": "required" });
      req.checked = (schema.required || []).indexOf(name) >= 0;
      req.addEventListener("change", function () { required(current.name, req.checked); write(); });
      item.appendChild(labelled(L.required, req));
      var help = el("input", { type: "text", value: field.description || "", maxlength: "500", "data-role": "help" });
      help.addEventListener("input", function () {
        if (help.value) { field.description = help.value; } else { delete field.description; }
        write();
      });
      item.appendChild(labelled(L.help, help));
      if (kind === "choice" || kind === "multi") {
        var opts = el("textarea", { rows: "3", "data-role": "options" });
        opts.value = options(field).map(function (o) { return o.value === o.label ? o.value : o.value + "=" + o.label; }).join("\n");
        opts.addEventListener("input", function () { applyKind(current.name, field, kind, parseOptions(opts.value)); write(); });
        item.appendChild(labelled(L.options, opts));
      }
    }
    var tools = el("span", { "class": "builder-tools" });
    [["up", "↑", index > 0], ["down", "↓", index < names.length - 1], ["remove", L.remove, true]].forEach(function (spec) {
      var button = el("button", { type: "button", "class": "link", "data-action": spec[0], "aria-label": L[spec[0]] + " " + name }, spec[1]);
      button.disabled = !spec[2];
      button.addEventListener("click", function () { act(spec[0], current.name); });
      tools.appendChild(button);
    });
    item.appendChild(tools);
    return item;
  }

  function act(action, name) {
    var names = order();
    var at = names.indexOf(name);
    if (action === "remove") {
      names.splice(at, 1);
      delete schema.properties[name];
      required(name, false);
      if (ui) { delete ui[name]; }
    } else {
      var to = action === "up" ? at - 1 : at + 1;
      names.splice(at, 1);
      names.splice(to, 0, name);
    }
    setOrder(names);
    write(); render();
  }

  function render() {
    list.textContent = "";
    var names = order();
    names.forEach(function (name, index) { list.appendChild(row(name, index, names)); });
  }

  function add() {
    if (!schema) { return; }
    var n = 1;
    while (schema.properties["field_" + n]) { n += 1; }
    var name = "field_" + n;
    var field = { title: L.new_field + " " + n };
    schema.properties[name] = field;
    applyKind(name, field, "text", []);
    setOrder(order().filter(function (x) { return x !== name; }).concat([name]));
    write(); render();
    var input = list.querySelector('[data-field="' + name + '"] [data-role="title"]');
    if (input) { input.focus(); }
  }

  titleInput.addEventListener("input", function () {
    if (schema) { schema.title = titleInput.value; write(); }
  });
  document.getElementById("builder-add").addEventListener("click", add);

  // Tabs: 字段 (this list) and 高级 (the JSON text); coming back re-reads the text.
  var tabs = Array.prototype.slice.call(document.querySelectorAll("[data-form-tab]"));
  function show(which) {
    tabs.forEach(function (tab) {
      var on = tab.getAttribute("data-form-tab") === which;
      tab.setAttribute("aria-selected", on ? "true" : "false");
      document.getElementById(tab.getAttribute("aria-controls")).hidden = !on;
    });
    if (which === "fields") { load(); }
  }
  tabs.forEach(function (tab) {
    tab.addEventListener("click", function () { show(tab.getAttribute("data-form-tab")); });
  });
  show(load() ? "fields" : "json");
}());
