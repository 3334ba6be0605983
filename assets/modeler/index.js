/**
 * window.YuqingModeler — the process modeller of the platform, built into one file
 * (app/static/vendor/modeler/modeler.js, by tools/build_modeler.py): bpmn-js's Modeler with the
 * properties panel, a provider for our `spiffworkflow:` attributes (provider.js) and their moddle
 * descriptor (spiffworkflow.json), plus dmn-js's Modeler for decision tables. A page needs exactly
 *   <link rel="stylesheet" href="/static/vendor/modeler/modeler.css">
 *   <script src="/static/vendor/modeler/modeler.js"></script>
 * and nothing is fetched at run time (the fonts sit next to modeler.css). It runs under
 * `script-src 'self'` (no eval); bpmn-js, dmn-js and the panel write style attributes, so styles need
 * DIAGRAM_CSP's `'unsafe-inline'` (`style-src-attr 'unsafe-inline'` alone is enough).
 *
 *   YuqingModeler.createBpmn({container, panel, xml, forms, uiForms, processes, decisions, operators,
 *                             ledgerKinds, roles, locale}) -> Promise<BpmnHandle>
 *     container  element or CSS selector that gets the diagram (give it a height)
 *     panel      element or selector for the properties panel (optional)
 *     xml        BPMN XML to open (optional: an empty diagram)
 *     forms      ["ut_x.schema.json", …] or [{value, label}]: the user task form select (names
 *                ending .uischema.json among them go to the UI form select instead)
 *     uiForms    ["ut_x.uischema.json", …]: the UI form select (also accepted as `uiforms`)
 *     processes  ["yq_release", …] or [{id, name}]: call activity process select
 *     decisions  ["yq_grade", …] or [{id, name}]: business rule task decision select
 *     operators  [{name (or id), description, parameters: [name | {name, type, required,
 *                description, choices}]}] — app.engine.services.operator_catalogue()
 *     ledgerKinds optional [kind]; default: choices of the `ledger` operator's `kind` parameter
 *     roles      optional [code | {value, label}], listed under a lane's roles (and the lint's
 *                known roles)
 *     lint       false to leave out the live lint (default: on)
 *     minimap    false to start with the minimap closed (default: open)
 *     locale     'zh' (default, Chinese labels) or 'en'
 *
 *   BpmnHandle
 *     warnings                    messages of the last import (none expected for our files)
 *     saveXML() -> Promise<string>
 *     importXML(xml) -> Promise<{warnings: string[]}>   (clears problem and diff markers; rejects
 *                                 when the XML cannot be read)
 *     markProblems([{element_id, message}]) -> {marked: [id], missing: [id]}
 *                                 red `el--problem` marker + an overlay with the message(s) on each
 *                                 element that exists (a process id marks its pool)
 *     clearProblems()
 *     highlight({added: [id], removed: [id], changed: [id]}) -> {missing: [id]}
 *                                 `diff--added` / `diff--removed` / `diff--changed` markers,
 *                                 replacing the previous ones (highlight({}) clears)
 *     select(id) -> boolean       select an element (its properties show in the panel) and scroll
 *                                 it into view; false when there is no such element
 *     on(event, fn) -> off()      'change' (fn() after any edit, undo or redo), 'select'
 *                                 (fn([ids])), 'import' (fn(warnings)), 'lint' (fn(issues) after each
 *                                 live lint, issues as lintIssues() gives them); any other name is a
 *                                 bpmn-js event bus event
 *     lintIssues() -> [{element_id, message, category: 'error'|'warn', rule}]
 *                                 the live lint's latest findings (lint.js: our bpmnlint rules), errors first
 *     templates() -> [name]       the element templates (templates.js): notify, ledger, deadline-watch,
 *                                 approval-loop; the palette offers them too
 *     insertTemplate(name, {x, y}?) -> [id]   place a template's elements (default: the pool's middle)
 *     resized()                   tell the canvas its container changed size (e.g. fullscreen)
 *     destroy()
 *     modeler                     the bpmn-js Modeler itself, for what this API does not cover
 *
 *   YuqingModeler.createDmn({container, xml, locale}) -> Promise<DmnHandle>
 *     opens the first decision table of the file (the DRD when it has none)
 *     DmnHandle: saveXML() -> Promise<string>, importXML(xml) -> Promise<{warnings}>, destroy(), modeler
 */

import BpmnModeler from 'bpmn-js/lib/Modeler';
import DmnModeler from 'dmn-js/lib/Modeler';
import { BpmnPropertiesPanelModule, BpmnPropertiesProviderModule } from 'bpmn-js-properties-panel';
import LintModule from 'bpmn-js-bpmnlint';
import MinimapModule from 'diagram-js-minimap';

import spiffworkflowDescriptor from './spiffworkflow.json';
import YuqingPropertiesProvider, { normaliseConfig } from './provider.js';
import LoopReferencesModule from './loop-references.js';
import { createTranslate, translateModule } from './i18n.js';
import { flattenIssues, linterConfig } from './lint.js';
import { TemplatesModule } from './templates.js';

const PROBLEM_MARKER = 'el--problem';
const PROBLEM_OVERLAY = 'yq-problem';
// groups of the properties panel shown open (the others start collapsed)
const OPEN_GROUPS = ['general', 'yq-lane', 'yq-user-task', 'yq-called-element', 'yq-decision', 'yq-service-task',
  'yq-parameters', 'yq-condition', 'yq-gateway', 'message', 'escalation', 'timer', 'multiInstance'];

// a new object each time: the panel writes the user's open/closed choices into it
function initialLayout() {
  return { groups: Object.fromEntries(OPEN_GROUPS.map((id) => [id, { open: true }])) };
}
const DIFF_MARKERS = { added: 'diff--added', removed: 'diff--removed', changed: 'diff--changed' };

function resolve(target, what) {
  const node = typeof target === 'string' ? document.querySelector(target) : target;
  if (!node) {
    throw new Error(`YuqingModeler: ${what} not found`);
  }
  return node;
}

/**
 * Resolve once the browser has painted and preact has run its effects: the properties panel
 * subscribes to selection changes in an effect, so a selection made before that is not shown.
 */
function afterPaint() {
  return new Promise((resolve) => {
    let done = false;
    const finish = () => {
      if (!done) {
        done = true;
        setTimeout(resolve, 0);
      }
    };
    requestAnimationFrame(finish);
    setTimeout(finish, 120); // like preact, when no frame comes (hidden tab)
  });
}

function messages(warnings) {
  return (warnings || []).map((warning) => (warning && warning.message) || String(warning));
}

async function createBpmn(options = {}) {
  const container = resolve(options.container, 'container');
  const panel = options.panel ? resolve(options.panel, 'panel') : null;
  const config = normaliseConfig(options);
  const lint = options.lint !== false;
  const modeler = new BpmnModeler({
    container,
    propertiesPanel: panel ? { parent: panel, layout: initialLayout() } : undefined,
    linting: lint ? { active: true, bpmnlint: linterConfig(config, createTranslate(options.locale)) } : undefined,
    minimap: { open: options.minimap !== false },
    additionalModules: [
      BpmnPropertiesPanelModule,
      BpmnPropertiesProviderModule,
      LoopReferencesModule,
      ...(lint ? [LintModule] : []),
      MinimapModule,
      TemplatesModule,
      translateModule(options.locale),
      {
        __init__: ['yuqingPropertiesProvider'],
        yuqingPropertiesProvider: ['type', YuqingPropertiesProvider],
        yuqingConfig: ['value', config],
      },
    ],
    moddleExtensions: { spiffworkflow: spiffworkflowDescriptor },
  });
  const eventBus = modeler.get('eventBus');
  const canvas = modeler.get('canvas');
  const elementRegistry = modeler.get('elementRegistry');
  const overlays = modeler.get('overlays');
  const problems = new Set();
  const diff = new Map();
  let lintIssues = [];
  eventBus.on('linting.completed', (event) => {
    lintIssues = flattenIssues(event.issues);
  });

  function findElement(id) {
    return elementRegistry.get(id) || elementRegistry.find((element) => {
      const bo = element.businessObject;
      return !!bo && !!bo.processRef && bo.processRef.id === id;
    });
  }

  function clearProblems() {
    overlays.remove({ type: PROBLEM_OVERLAY });
    for (const id of problems) {
      if (elementRegistry.get(id)) {
        canvas.removeMarker(id, PROBLEM_MARKER);
      }
    }
    problems.clear();
  }

  function markProblems(list) {
    clearProblems();
    const byElement = new Map();
    const missing = [];
    for (const problem of list || []) {
      const id = problem && (problem.element_id ?? problem.elementId);
      const element = id ? findElement(String(id)) : null;
      if (!element) {
        if (id && !missing.includes(id)) {
          missing.push(id);
        }
        continue;
      }
      if (!byElement.has(element.id)) {
        byElement.set(element.id, { element, texts: [] });
      }
      if (problem.message) {
        byElement.get(element.id).texts.push(String(problem.message));
      }
    }
    for (const [id, { element, texts }] of byElement) {
      canvas.addMarker(id, PROBLEM_MARKER);
      problems.add(id);
      const html = document.createElement('div');
      html.className = 'yq-problem-overlay';
      for (const text of texts) {
        const line = document.createElement('div');
        line.textContent = text;
        html.appendChild(line);
      }
      if (texts.length) {
        overlays.add(element, PROBLEM_OVERLAY, { position: { bottom: -4, left: 0 }, html });
      }
    }
    return { marked: [...byElement.keys()], missing };
  }

  function clearDiff() {
    for (const [id, marker] of diff) {
      if (elementRegistry.get(id)) {
        canvas.removeMarker(id, marker);
      }
    }
    diff.clear();
  }

  function highlight(changes = {}) {
    clearDiff();
    const missing = [];
    for (const [kind, marker] of Object.entries(DIFF_MARKERS)) {
      for (const id of changes[kind] || []) {
        const element = findElement(String(id));
        if (!element) {
          missing.push(id);
          continue;
        }
        canvas.addMarker(element.id, marker);
        diff.set(element.id, marker);
      }
    }
    return { missing };
  }

  const handle = {
    modeler,
    warnings: [],
    async saveXML() {
      const { xml } = await modeler.saveXML({ format: true });
      return xml;
    },
    async importXML(xml) {
      problems.clear();
      diff.clear();
      const result = await modeler.importXML(xml);
      handle.warnings = messages(result.warnings);
      canvas.zoom('fit-viewport', 'auto');
      await afterPaint();
      return { warnings: handle.warnings };
    },
    markProblems,
    clearProblems,
    highlight,
    lintIssues() {
      return lintIssues.slice();
    },
    templates() {
      return modeler.get('yuqingTemplates').names();
    },
    insertTemplate(name, position) {
      const elements = modeler.get('yuqingTemplates').elements(name);
      const root = canvas.getRootElement();
      const parent = root.children.find((child) => child.type === 'bpmn:Participant') || root;
      const at = position || { x: parent.x + parent.width / 2 || 200, y: parent.y + parent.height / 2 || 200 };
      const created = modeler.get('modeling').createElements(elements, at, parent, {});
      return created.filter((element) => !element.waypoints && element.type !== 'label').map((element) => element.id);
    },
    resized() {
      canvas.resized();
    },
    select(id) {
      const element = findElement(String(id));
      if (element) {
        // leave a field of the panel first, as a click on the canvas does (its pending edit is kept)
        if (panel && panel.contains(document.activeElement)) {
          document.activeElement.blur();
        }
        modeler.get('selection').select(element);
        if (element.waypoints || element.width !== undefined) {
          canvas.scrollToElement(element);
        }
      }
      return !!element;
    },
    on(event, fn) {
      let name = event;
      let listener = fn;
      if (event === 'change') {
        name = 'commandStack.changed';
        listener = () => fn();
      } else if (event === 'select') {
        name = 'selection.changed';
        listener = (payload) => fn((payload.newSelection || []).map((element) => element.id));
      } else if (event === 'lint') {
        name = 'linting.completed';
        listener = (payload) => fn(flattenIssues(payload.issues));
      } else if (event === 'import') {
        name = 'import.done';
        listener = (payload) => fn(messages(payload.warnings));
      }
      eventBus.on(name, listener);
      return () => eventBus.off(name, listener);
    },
    destroy() {
      // an open context pad would still try to follow its element after the canvas is gone
      modeler.get('selection').select(null);
      modeler.destroy();
    },
  };

  if (options.xml) {
    await handle.importXML(options.xml);
  } else {
    const result = await modeler.createDiagram();
    handle.warnings = messages(result.warnings);
    await afterPaint();
  }
  return handle;
}

async function createDmn(options = {}) {
  const container = resolve(options.container, 'container');
  // dmn-js drops `common.additionalModules`: each view gets the translation module itself
  const translation = { additionalModules: [translateModule(options.locale)] };
  const modeler = new DmnModeler({
    container,
    drd: translation,
    decisionTable: translation,
    literalExpression: translation,
    boxedExpression: translation,
  });
  const handle = {
    modeler,
    warnings: [],
    async saveXML() {
      const { xml } = await modeler.saveXML({ format: true });
      return xml;
    },
    async importXML(xml) {
      const result = await modeler.importXML(xml);
      handle.warnings = messages(result.warnings);
      const table = modeler.getViews().find((view) => view.type === 'decisionTable');
      if (table && modeler.getActiveView() !== table) {
        await modeler.open(table);
      }
      return { warnings: handle.warnings };
    },
    destroy() {
      modeler.destroy();
    },
  };
  if (options.xml) {
    await handle.importXML(options.xml);
  }
  return handle;
}

window.YuqingModeler = { createBpmn, createDmn };

export { createBpmn, createDmn };
