/**
 * Element templates: our recurring patterns as palette entries (and `insertTemplate`), written the way
 * processes/*.bpmn writes them.
 *
 *   notify          service task calling `notify` (template, recipients, urgent)
 *   ledger          service task calling `ledger` (kind)
 *   deadline-watch  user task with a non-interrupting boundary timer → notify → ledger
 *                   `deadline_missed` → end event (cf. yq_aftermath's tb_summary_due)
 *   approval-loop   join gateway → draft (user task) → approve (user task) → decision gateway whose
 *                   condition `approval == "approve"` goes on and whose default flow returns to the
 *                   join (cf. yq_aftermath's ut_summary / ut_approve_summary / gw_summary_decision)
 *
 * A palette click or drag places the group like any new element: dropped on a sequence flow, a single
 * service task is inserted into that flow; dropped in a lane, the tasks belong to that lane. The
 * values are placeholders the owner edits (the live lint and the deploy checks say what is missing).
 */

const TEMPLATES = ['notify', 'ledger', 'deadline-watch', 'approval-loop'];

const TITLES = {
  notify: 'Template: notify (service task)',
  ledger: 'Template: ledger entry (service task)',
  'deadline-watch': 'Template: deadline watch (task + timer + notify + ledger)',
  'approval-loop': 'Template: approval loop (draft, approve, return)',
};

const ICONS = {
  notify: 'bpmn-icon-service-task yq-template yq-template-notify',
  ledger: 'bpmn-icon-service-task yq-template yq-template-ledger',
  'deadline-watch': 'bpmn-icon-intermediate-event-catch-non-interrupting-timer yq-template',
  'approval-loop': 'bpmn-icon-gateway-xor yq-template',
};

function quote(text) {
  return JSON.stringify(text);
}

export default function TemplateFactory(bpmnFactory, elementFactory, create, translate) {
  this._bpmnFactory = bpmnFactory;
  this._elementFactory = elementFactory;
  this._create = create;
  this._translate = translate;
}

TemplateFactory.$inject = ['bpmnFactory', 'elementFactory', 'create', 'translate'];

TemplateFactory.prototype.names = function () {
  return TEMPLATES.slice();
};

TemplateFactory.prototype.title = function (name) {
  return this._translate(TITLES[name]);
};

TemplateFactory.prototype.icon = function (name) {
  return ICONS[name];
};

TemplateFactory.prototype._serviceTask = function (name, operator, result, parameters, position) {
  const factory = this._bpmnFactory;
  const list = factory.create('spiffworkflow:Parameters', {
    parameters: parameters.map(([id, type, value]) => factory.create('spiffworkflow:Parameter', { id, type, value })),
  });
  const call = factory.create('spiffworkflow:ServiceTaskOperator', { id: operator, resultVariable: result });
  call.set('parameterList', list);
  const businessObject = factory.create('bpmn:ServiceTask', {
    name,
    extensionElements: factory.create('bpmn:ExtensionElements', { values: [call] }),
  });
  return this._elementFactory.createShape({ type: 'bpmn:ServiceTask', businessObject, ...position });
};

TemplateFactory.prototype._notify = function (position, options = {}) {
  const t = this._translate;
  return this._serviceTask(options.name || t('Send notification'), 'notify', options.result || 'notified', [
    ['template', 'str', quote(options.template || 'notice')],
    ['recipients', 'list', JSON.stringify(options.recipients || ['involved'])],
    ['urgent', 'bool', options.urgent ? 'True' : 'False'],
  ], position);
};

TemplateFactory.prototype._ledger = function (position, options = {}) {
  const t = this._translate;
  const parameters = [['kind', 'str', quote(options.kind || 'notice')]];
  if (options.deadline) {
    parameters.push(['deadline', 'str', quote(options.deadline)]);
  }
  return this._serviceTask(options.name || t('Ledger entry'), 'ledger', options.result || 'ledger_entry',
    parameters, position);
};

TemplateFactory.prototype._userTask = function (name, position) {
  const businessObject = this._bpmnFactory.create('bpmn:UserTask', { name });
  return this._elementFactory.createShape({ type: 'bpmn:UserTask', businessObject, ...position });
};

TemplateFactory.prototype._shape = function (type, attrs, position) {
  const businessObject = this._bpmnFactory.create(type, attrs || {});
  return this._elementFactory.createShape({ type, businessObject, ...position });
};

TemplateFactory.prototype._flow = function (source, target, attrs) {
  const businessObject = this._bpmnFactory.create('bpmn:SequenceFlow', attrs || {});
  const from = { x: source.x + source.width, y: source.y + source.height / 2 };
  const to = { x: target.x, y: target.y + target.height / 2 };
  const waypoints = from.y === to.y ? [from, to] : [from, { x: (from.x + to.x) / 2, y: from.y },
    { x: (from.x + to.x) / 2, y: to.y }, to];
  return this._elementFactory.createConnection({ type: 'bpmn:SequenceFlow', businessObject, source, target, waypoints });
};

/** The elements of a template (shapes and connections at positions relative to each other). */
TemplateFactory.prototype.elements = function (name) {
  const t = this._translate;
  if (name === 'notify') {
    return [this._notify({ x: 0, y: 0 })];
  }
  if (name === 'ledger') {
    return [this._ledger({ x: 0, y: 0 })];
  }
  if (name === 'deadline-watch') {
    const task = this._userTask(t('Task with a deadline'), { x: 0, y: 0 });
    const timer = this._shape('bpmn:BoundaryEvent', { name: t('Deadline reached'), cancelActivity: false },
      { x: 62, y: 62, host: task, eventDefinitionType: 'bpmn:TimerEventDefinition' });
    timer.businessObject.eventDefinitions[0].set('timeDuration',
      this._bpmnFactory.create('bpmn:FormalExpression', { body: quote('P1D') }));
    timer.businessObject.attachedToRef = task.businessObject;  // as bpmn-js's copy and paste does
    task.attachers = [timer];
    const notify = this._notify({ x: 130, y: 130 }, {
      name: t('Deadline reminder'), template: 'deadline_reminder', result: 'notified_deadline', urgent: true,
    });
    const ledger = this._ledger({ x: 290, y: 130 }, {
      name: t('Record the missed deadline'), kind: 'deadline_missed', deadline: 'summary', result: 'ledger_deadline_missed',
    });
    const end = this._shape('bpmn:EndEvent', { name: t('Reminded') }, { x: 442, y: 152 });
    const timerOut = this._flow({ x: 62, y: 62, width: 36, height: 36 }, notify);
    timerOut.source = timer;
    timerOut.waypoints = [{ x: 80, y: 98 }, { x: 80, y: 170 }, { x: 130, y: 170 }];
    return [task, timer, notify, ledger, end, timerOut, this._flow(notify, ledger), this._flow(ledger, end)];
  }
  if (name === 'approval-loop') {
    const join = this._shape('bpmn:ExclusiveGateway', {}, { x: 0, y: 15 });
    const draft = this._userTask(t('Draft'), { x: 100, y: 0 });
    const approve = this._userTask(t('Approve'), { x: 260, y: 0 });
    const decision = this._shape('bpmn:ExclusiveGateway', { name: t('Approved?') }, { x: 420, y: 15 });
    const end = this._shape('bpmn:EndEvent', { name: t('Approved') }, { x: 530, y: 22 });
    const approved = this._flow(decision, end, {
      name: t('Approve'),
      conditionExpression: this._bpmnFactory.create('bpmn:FormalExpression', {
        body: 'defined("approval") and approval == "approve"',
      }),
    });
    const returned = this._flow(decision, join, { name: t('Return for changes') });
    returned.waypoints = [{ x: 445, y: 65 }, { x: 445, y: 130 }, { x: 25, y: 130 }, { x: 25, y: 65 }];
    decision.businessObject.default = returned.businessObject;
    return [join, draft, approve, decision, end, this._flow(join, draft), this._flow(draft, approve),
      this._flow(approve, decision), approved, returned];
  }
  throw new Error(`YuqingModeler: no template "${name}"`);
};

/** Start placing a template, as a palette click or drag does. */
TemplateFactory.prototype.start = function (event, name) {
  const elements = this.elements(name);
  this._create.start(event, elements.length === 1 ? elements[0] : elements, {
    hints: { autoSelect: [elements[0]] },
  });
};

function TemplatePalette(palette, yuqingTemplates) {
  this._templates = yuqingTemplates;
  palette.registerProvider(this);
}

TemplatePalette.$inject = ['palette', 'yuqingTemplates'];

TemplatePalette.prototype.getPaletteEntries = function () {
  const templates = this._templates;
  const entries = { 'yq-template-separator': { group: 'yuqing-templates', separator: true } };
  for (const name of templates.names()) {
    const start = (event) => templates.start(event, name);
    entries[`yq-template-${name}`] = {
      group: 'yuqing-templates',
      className: templates.icon(name),
      title: templates.title(name),
      action: { click: start, dragstart: start },
    };
  }
  return entries;
};

export const TemplatesModule = {
  __init__: ['yuqingTemplatePalette'],
  yuqingTemplates: ['type', TemplateFactory],
  yuqingTemplatePalette: ['type', TemplatePalette],
};
