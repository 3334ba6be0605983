/**
 * Properties provider for our `spiffworkflow:` attributes (docs/processes.md). It runs after the
 * standard BPMN provider (lower priority) and
 *   - adds groups: lane roles, user task (form, UI form, dueAt, unit, assignee, returnTo, ledger), called
 *     process, decision table, service task operator + parameter rows, condition (sequence flow),
 *     branch conditions + default flow (gateway), scripts (script task body, pre/post scripts);
 *   - adds entries to standard groups: message variable / payload (message), escalation variable /
 *     payload (escalation), collection, element variable, output collection / element and
 *     scriptsOnInstances (multi-instance).
 * Standard groups kept: general, documentation, message, signal, escalation, timer, multi-instance.
 *
 * The lists the host passes in (forms, processes, decisions, operators, ledgerKinds, roles) come
 * from the `yuqingConfig` service.
 */

import { is, getBusinessObject } from 'bpmn-js/lib/util/ModelUtil';
import { useService } from 'bpmn-js-properties-panel';
import {
  CheckboxEntry,
  Group,
  ListGroup,
  SelectEntry,
  TextAreaEntry,
  TextFieldEntry,
  isCheckboxEntryEdited,
  isSelectEntryEdited,
  isTextAreaEntryEdited,
  isTextFieldEntryEdited,
} from '@bpmn-io/properties-panel';

import {
  Changes,
  eventDefinition,
  extensionValues,
  getBodyExtension,
  getSpiffProperty,
  setBodyExtension,
  setSpiffProperties,
} from './extensions.js';

const LOW_PRIORITY = 500;
const PARAMETER_TYPES = ['str', 'int', 'float', 'bool', 'list', 'dict', 'any'];
// how a parameter type reads on the page (English keys, translated by i18n.js: 文本, 列表, 是否…)
const PARAMETER_TYPE_LABELS = {
  str: 'Text', int: 'Whole number', float: 'Number', bool: 'Yes/no', list: 'List', dict: 'Object (key: value)',
  any: 'Any value',
};

function typeLabel(type, translate) {
  return PARAMETER_TYPE_LABELS[type] ? translate(PARAMETER_TYPE_LABELS[type]) : type;
}
const UI_SCHEMA = /\.uischema\.json$/;

// ---------------------------------------------------------------------------------------------
// options of select entries

function choiceOf(item) {
  if (item === null || item === undefined) {
    return null;
  }
  if (typeof item !== 'object') {
    return { value: String(item), label: String(item) };
  }
  const value = item.value ?? item.id ?? item.name;
  if (value === undefined || value === null) {
    return null;
  }
  const label = item.label ?? (item.name && item.name !== value ? `${value} ${item.name}` : String(value));
  return { value: String(value), label: String(label) };
}

export function choices(list) {
  return (Array.isArray(list) ? list : []).map(choiceOf).filter(Boolean);
}

function selectOptions(list, current, translate) {
  const options = [{ value: '', label: translate('<none>') }, ...list];
  if (current && !list.some((option) => option.value === current)) {
    options.push({ value: current, label: translate('{value} (not in the list)', { value: current }) });
  }
  return options;
}

/** Normalise what the host passed in (see index.js). */
export function normaliseConfig(options) {
  const operators = (Array.isArray(options.operators) ? options.operators : []).map((operator) => {
    if (typeof operator !== 'object') {
      return { id: String(operator), label: String(operator), parameters: [] };
    }
    const id = String(operator.id ?? operator.name);
    const parameters = (operator.parameters || []).map((parameter) => (typeof parameter === 'object'
      ? {
        name: String(parameter.name ?? parameter.id),
        type: parameter.type || 'str',
        required: parameter.required !== false,
        description: parameter.description || '',
        choices: parameter.choices || [],
      }
      : { name: String(parameter), type: 'str', required: true, description: '', choices: [] }));
    const label = operator.label || (operator.description ? `${id} — ${operator.description}` : id);
    return { id, label, parameters };
  });
  let ledgerKinds = options.ledgerKinds;
  if (!ledgerKinds) {
    const ledger = operators.find((operator) => operator.id === 'ledger');
    const kind = ledger && ledger.parameters.find((parameter) => parameter.name === 'kind');
    ledgerKinds = kind && kind.choices.length ? kind.choices : null;
  }
  const forms = choices(options.forms);
  const uiForms = [...forms.filter((form) => UI_SCHEMA.test(form.value)),
    ...choices(options.uiForms || options.uiforms)];
  return {
    forms: forms.filter((form) => !UI_SCHEMA.test(form.value)),
    uiForms: uiForms.filter((form, index) => uiForms.findIndex((other) => other.value === form.value) === index),
    processes: choices(options.processes),
    decisions: choices(options.decisions),
    operators,
    ledgerKinds: ledgerKinds ? choices(ledgerKinds) : null,
    roles: choices(options.roles),
  };
}

/** `element.updateModdleProperties` of one property, skipped when the value does not change. */
function updateProperty(commandStack, element, moddleElement, name, value) {
  if ((moddleElement.get(name) ?? '') === (value ?? '')) {
    return;
  }
  commandStack.execute('element.updateModdleProperties', {
    element, moddleElement, properties: { [name]: value },
  });
}

// ---------------------------------------------------------------------------------------------
// generic entries

/** A text entry bound to a spiffworkflow property of the element's business object. */
function SpiffPropertyText(props) {
  const { element, id, property, label, description, note, rows } = props;
  const injector = useService('injector');
  const translate = useService('translate');
  const debounce = useService('debounceInput');
  const bo = getBusinessObject(element);
  const entry = {
    element,
    id,
    label: translate(label),
    description: [description ? translate(description) : '', note || ''].filter(Boolean).join(' ') || undefined,
    getValue: () => getSpiffProperty(bo, property) || '',
    setValue: (value) => setSpiffProperties(element, bo, { [property]: value }, injector),
    debounce,
  };
  return rows ? TextAreaEntry({ ...entry, rows, autoResize: true }) : TextFieldEntry(entry);
}

/** A select entry bound to a spiffworkflow property; `listName` names a list of yuqingConfig. */
function SpiffPropertySelect(props) {
  const { element, id, property, label, description, listName, onChange } = props;
  const injector = useService('injector');
  const translate = useService('translate');
  const config = useService('yuqingConfig');
  const bo = getBusinessObject(element);
  return SelectEntry({
    element,
    id,
    label: translate(label),
    description: description ? translate(description) : undefined,
    getValue: () => getSpiffProperty(bo, property) || '',
    setValue: (value) => setSpiffProperties(element, bo, onChange ? onChange(value, config, bo)
      : { [property]: value }, injector),
    getOptions: () => selectOptions(config[listName] || [], getSpiffProperty(bo, property), translate),
  });
}

/** A text entry bound to a body-only extension element of some business object. */
function BodyExtensionText(props) {
  const { element, id, type, label, description, rows, target } = props;
  const injector = useService('injector');
  const translate = useService('translate');
  const debounce = useService('debounceInput');
  const bo = target || getBusinessObject(element);
  const entry = {
    element,
    id,
    label: translate(label),
    description: description ? translate(description) : undefined,
    getValue: () => getBodyExtension(bo, type) || '',
    setValue: (value) => setBodyExtension(element, bo, type, value, injector),
    debounce,
  };
  return rows ? TextAreaEntry({ ...entry, rows, autoResize: true, monospace: true }) : TextFieldEntry(entry);
}

// ---------------------------------------------------------------------------------------------
// lanes and user tasks

function LaneRolesGroup(element, translate, config) {
  const known = config.roles.map((role) => role.value).join(', ');
  return {
    id: 'yq-lane',
    label: translate('Lane roles'),
    component: Group,
    entries: [{
      id: 'yq-lane-roles',
      component: SpiffPropertyText,
      property: 'roles',
      label: 'Roles',
      description: 'Role codes separated by commas; a user task in this lane is open to people holding one of them.',
      isEdited: isTextFieldEntryEdited,
      note: known ? translate('Known roles: {roles}', { roles: known }) : '',
    }],
  };
}

function formChanged(value, config, bo) {
  const changes = { formJsonSchemaFilename: value };
  // the UI schema of the same stem goes with the form when none is set yet
  const stem = value && value.replace(/\.schema\.json$/, '');
  const ui = stem && `${stem}.uischema.json`;
  if (ui && !getSpiffProperty(bo, 'formUiSchemaFilename') && config.uiForms.some((form) => form.value === ui)) {
    changes.formUiSchemaFilename = ui;
  }
  return changes;
}

function UserTaskGroup(element, translate, config) {
  const ledger = config.ledgerKinds
    ? { component: SpiffPropertySelect, listName: 'ledgerKinds', isEdited: isSelectEntryEdited }
    : { component: SpiffPropertyText, isEdited: isTextFieldEntryEdited };
  return {
    id: 'yq-user-task',
    label: translate('User task'),
    component: Group,
    entries: [
      { id: 'yq-form', component: SpiffPropertySelect, property: 'formJsonSchemaFilename', label: 'Form',
        listName: 'forms', onChange: formChanged, isEdited: isSelectEntryEdited },
      { id: 'yq-ui-form', component: SpiffPropertySelect, property: 'formUiSchemaFilename', label: 'UI form',
        listName: 'uiForms', isEdited: isSelectEntryEdited },
      { id: 'yq-due-at', component: SpiffPropertyText, property: 'dueAt', label: 'Due at (expression)',
        description: 'An expression giving an ISO date-time with offset, e.g. release_due_at.',
        isEdited: isTextFieldEntryEdited },
      { id: 'yq-unit', component: SpiffPropertyText, property: 'unit', label: 'Unit (expression)',
        description: 'Only people of this unit who hold a lane role see and claim the task.',
        isEdited: isTextFieldEntryEdited },
      { id: 'yq-assignee', component: SpiffPropertyText, property: 'assignee', label: 'Assignee (expression)',
        description: 'An expression giving a username; the task goes to that person directly.',
        isEdited: isTextFieldEntryEdited },
      { id: 'yq-return-to', component: SpiffPropertyText, property: 'returnTo', label: 'Return to (task id)',
        description: 'A user task id of this process; when the task opens again, it goes back, claimed, to whoever completed that task last.',
        isEdited: isTextFieldEntryEdited },
      { id: 'yq-ledger', property: 'ledger', label: 'Ledger kind',
        description: 'On completion the submitted form is written to the incident ledger.', ...ledger },
    ],
  };
}

// ---------------------------------------------------------------------------------------------
// call activities and business rule tasks

function CalledElementSelect(props) {
  const { element, id } = props;
  const commandStack = useService('commandStack');
  const translate = useService('translate');
  const config = useService('yuqingConfig');
  const bo = getBusinessObject(element);
  return SelectEntry({
    element,
    id,
    label: translate('Process'),
    getValue: () => bo.get('calledElement') || '',
    setValue: (value) => updateProperty(commandStack, element, bo, 'calledElement', value || undefined),
    getOptions: () => selectOptions(config.processes, bo.get('calledElement'), translate),
  });
}

function DecisionSelect(props) {
  const { element, id } = props;
  const injector = useService('injector');
  const translate = useService('translate');
  const config = useService('yuqingConfig');
  const bo = getBusinessObject(element);
  return SelectEntry({
    element,
    id,
    label: translate('Decision'),
    getValue: () => getBodyExtension(bo, 'spiffworkflow:CalledDecisionId') || '',
    setValue: (value) => setBodyExtension(element, bo, 'spiffworkflow:CalledDecisionId', value, injector),
    getOptions: () => selectOptions(config.decisions, getBodyExtension(bo, 'spiffworkflow:CalledDecisionId'),
      translate),
  });
}

// ---------------------------------------------------------------------------------------------
// service tasks

function operatorOf(bo) {
  return extensionValues(bo, 'spiffworkflow:ServiceTaskOperator')[0];
}

function parametersOf(operator) {
  const list = operator && operator.get('parameterList');
  return list ? list.get('parameters') : [];
}

function declaredOperator(config, id) {
  return config.operators.find((operator) => operator.id === id);
}

/** Replace the parameter rows of an operator element (creating or dropping the container). */
function setParameters(changes, operator, parameters) {
  const container = operator.get('parameterList');
  if (container && parameters.length) {
    parameters.forEach((parameter) => { parameter.$parent = container; });
    changes.update(container, { parameters });
  } else if (container) {
    changes.update(operator, { parameterList: undefined });
  } else if (parameters.length) {
    const created = changes.create('spiffworkflow:Parameters', { parameters });
    created.$parent = operator;
    parameters.forEach((parameter) => { parameter.$parent = created; });
    changes.update(operator, { parameterList: created });
  }
}

function setOperator(element, injector, config, id) {
  const bo = getBusinessObject(element);
  const changes = new Changes(element, injector);
  const operator = operatorOf(bo);
  const declared = declaredOperator(config, id);
  if (!id) {
    if (operator) {
      changes.removeExtension(bo, operator);
    }
    changes.execute();
    return;
  }
  const current = parametersOf(operator);
  let parameters = current;
  if (declared) {
    const names = declared.parameters.map((parameter) => parameter.name);
    parameters = current.filter((parameter) => names.includes(parameter.get('id')));
    for (const parameter of declared.parameters) {
      if (parameter.required && !parameters.some((row) => row.get('id') === parameter.name)) {
        parameters.push(changes.create('spiffworkflow:Parameter',
          { id: parameter.name, type: parameter.type, value: '' }));
      }
    }
  }
  if (!operator) {
    const created = changes.create('spiffworkflow:ServiceTaskOperator', { id });
    if (parameters.length) {
      const list = changes.create('spiffworkflow:Parameters', { parameters });
      list.$parent = created;
      parameters.forEach((parameter) => { parameter.$parent = list; });
      created.set('parameterList', list);
    }
    changes.addExtension(bo, created);
  } else {
    changes.update(operator, { id });
    if (parameters.length !== current.length || parameters.some((row, index) => row !== current[index])) {
      setParameters(changes, operator, parameters);
    }
  }
  changes.execute();
}

function OperatorSelect(props) {
  const { element, id } = props;
  const injector = useService('injector');
  const translate = useService('translate');
  const config = useService('yuqingConfig');
  const bo = getBusinessObject(element);
  const current = () => (operatorOf(bo) ? operatorOf(bo).get('id') || '' : '');
  return SelectEntry({
    element,
    id,
    label: translate('Operator'),
    getValue: current,
    setValue: (value) => setOperator(element, injector, config, value),
    getOptions: () => selectOptions(config.operators.map((operator) => ({ value: operator.id, label: operator.label })),
      current(), translate),
  });
}

function OperatorText(props) {
  const { element, id } = props;
  const injector = useService('injector');
  const translate = useService('translate');
  const debounce = useService('debounceInput');
  const config = useService('yuqingConfig');
  const bo = getBusinessObject(element);
  return TextFieldEntry({
    element,
    id,
    label: translate('Operator'),
    getValue: () => (operatorOf(bo) ? operatorOf(bo).get('id') || '' : ''),
    setValue: (value) => setOperator(element, injector, config, value),
    debounce,
  });
}

function ResultVariable(props) {
  const { element, id } = props;
  const commandStack = useService('commandStack');
  const translate = useService('translate');
  const debounce = useService('debounceInput');
  const operator = operatorOf(getBusinessObject(element));
  return TextFieldEntry({
    element,
    id,
    label: translate('Result variable'),
    getValue: () => operator.get('resultVariable') || '',
    setValue: (value) => updateProperty(commandStack, element, operator, 'resultVariable', value || undefined),
    debounce,
  });
}

function ServiceTaskGroup(element, translate, config) {
  const operator = operatorOf(getBusinessObject(element));
  const entries = [{
    id: 'yq-operator',
    component: config.operators.length ? OperatorSelect : OperatorText,
    isEdited: config.operators.length ? isSelectEntryEdited : isTextFieldEntryEdited,
  }];
  if (operator) {
    entries.push({ id: 'yq-result-variable', component: ResultVariable, isEdited: isTextFieldEntryEdited });
  }
  return { id: 'yq-service-task', label: translate('Service task'), component: Group, entries };
}

function ParameterAttribute(props) {
  const { element, id, parameter, attribute, kind } = props;
  const commandStack = useService('commandStack');
  const translate = useService('translate');
  const debounce = useService('debounceInput');
  const config = useService('yuqingConfig');
  const operator = operatorOf(getBusinessObject(element));
  const declared = declaredOperator(config, operator && operator.get('id'));
  const spec = declared && declared.parameters.find((candidate) => candidate.name === parameter.get('id'));
  // a parameter always has its three attributes (an empty value is refused by the deploy checks)
  const setValue = (value) => updateProperty(commandStack, element, parameter, attribute, value || '');
  const getValue = () => parameter.get(attribute) || '';
  if (attribute === 'id' && declared) {
    const options = declared.parameters.map((candidate) => ({
      value: candidate.name,
      label: candidate.required ? `${candidate.name} ${translate('(required)')}` : candidate.name,
    }));
    return SelectEntry({ element, id, label: translate('Parameter name'), getValue, setValue,
      getOptions: () => selectOptions(options, getValue(), translate) });
  }
  if (attribute === 'type') {
    const options = PARAMETER_TYPES.map((type) => ({ value: type, label: typeLabel(type, translate) }));
    if (spec && !PARAMETER_TYPES.includes(spec.type)) {
      options.push({ value: spec.type, label: spec.type });
    }
    return SelectEntry({ element, id, label: translate('Type'), getValue, setValue,
      getOptions: () => selectOptions(options, getValue(), translate) });
  }
  let description;
  if (kind === 'value' && spec) {
    description = [spec.description,
      spec.choices.length ? translate('Choices: {choices}', { choices: spec.choices.join(', ') }) : '']
      .filter(Boolean).join(' ');
  }
  return TextFieldEntry({
    element,
    id,
    label: translate(attribute === 'id' ? 'Parameter name' : 'Value (expression)'),
    description,
    getValue,
    setValue,
    debounce,
  });
}

function ParametersGroup(element, translate, config, injector) {
  const bo = getBusinessObject(element);
  const operator = operatorOf(bo);
  if (!operator) {
    return null;
  }
  const rows = parametersOf(operator);
  const declared = declaredOperator(config, operator.get('id'));
  const items = rows.map((parameter, index) => {
    const prefix = `yq-parameter-${index}`;
    return {
      id: prefix,
      label: `${parameter.get('id') || ''}${parameter.get('type') ? `(${typeLabel(parameter.get('type'), translate)})` : ''}`,
      autoFocusEntry: `${prefix}-value`,
      entries: [
        { id: `${prefix}-id`, component: ParameterAttribute, parameter, attribute: 'id',
          isEdited: declared ? isSelectEntryEdited : isTextFieldEntryEdited },
        { id: `${prefix}-type`, component: ParameterAttribute, parameter, attribute: 'type',
          isEdited: isSelectEntryEdited },
        { id: `${prefix}-value`, component: ParameterAttribute, parameter, attribute: 'value', kind: 'value',
          isEdited: isTextFieldEntryEdited },
      ],
      remove: (event) => {
        if (event) {
          event.stopPropagation();
        }
        const changes = new Changes(element, injector);
        setParameters(changes, operator, parametersOf(operator).filter((row) => row !== parameter));
        changes.execute();
      },
    };
  });
  const add = (event) => {
    if (event) {
      event.stopPropagation();
    }
    const used = parametersOf(operator).map((row) => row.get('id'));
    const next = declared && declared.parameters.find((parameter) => !used.includes(parameter.name));
    let name = next ? next.name : 'param';
    for (let counter = 2; !next && used.includes(name); counter++) {
      name = `param_${counter}`;
    }
    const changes = new Changes(element, injector);
    const parameter = changes.create('spiffworkflow:Parameter',
      { id: name, type: next ? next.type : 'str', value: '' });
    setParameters(changes, operator, [...parametersOf(operator), parameter]);
    changes.execute();
  };
  return {
    id: 'yq-parameters',
    label: translate('Parameters'),
    component: ListGroup,
    items,
    add,
    shouldOpen: true,
    translate,
  };
}

// ---------------------------------------------------------------------------------------------
// messages and escalations

function messageEntries(element) {
  const bo = getBusinessObject(element);
  const definition = eventDefinition(bo, 'bpmn:MessageEventDefinition');
  if (!definition) {
    return [];
  }
  if (is(bo, 'bpmn:CatchEvent')) {
    return [{ id: 'yq-message-variable', component: BodyExtensionText, target: definition,
      type: 'spiffworkflow:MessageVariable', label: 'Message variable',
      description: 'The message payload is stored in this variable.', isEdited: isTextFieldEntryEdited }];
  }
  return [{ id: 'yq-message-payload', component: BodyExtensionText, target: definition,
    type: 'spiffworkflow:MessagePayload', label: 'Message payload (expression)', rows: 3,
    isEdited: isTextAreaEntryEdited }];
}

function escalationEntries(element) {
  const bo = getBusinessObject(element);
  const definition = eventDefinition(bo, 'bpmn:EscalationEventDefinition');
  const escalation = definition && definition.get('escalationRef');
  if (!escalation) {
    return [];
  }
  if (is(bo, 'bpmn:CatchEvent')) {
    return [{ id: 'yq-escalation-variable', component: BodyExtensionText, target: escalation,
      type: 'spiffworkflow:VariableName', label: 'Escalation variable',
      description: 'The payload of the caught escalation is stored in this variable.',
      isEdited: isTextFieldEntryEdited }];
  }
  return [{ id: 'yq-escalation-payload', component: BodyExtensionText, target: escalation,
    type: 'spiffworkflow:PayloadExpression', label: 'Escalation payload (expression)', rows: 3,
    isEdited: isTextAreaEntryEdited }];
}

// ---------------------------------------------------------------------------------------------
// conditions

function conditionBody(flow) {
  const expression = flow.get('conditionExpression');
  return expression ? expression.get('body') || '' : '';
}

function setCondition(injector, flowShape, flow, value) {
  const changes = new Changes(flowShape, injector);
  const expression = flow.get('conditionExpression');
  if (!value) {
    if (expression) {
      changes.update(flow, { conditionExpression: undefined });
    }
  } else if (expression) {
    if (expression.get('body') !== value) {
      changes.update(expression, { body: value });
    }
  } else {
    const created = changes.create('bpmn:FormalExpression', { body: value });
    created.$parent = flow;
    changes.update(flow, { conditionExpression: created });
  }
  changes.execute();
}

function isConditionalSource(source) {
  return is(source, 'bpmn:ExclusiveGateway') || is(source, 'bpmn:InclusiveGateway')
    || (is(source, 'bpmn:Activity') && !is(source, 'bpmn:SubProcess'));
}

function ConditionEntry(props) {
  const { element, id, flow, label } = props;
  const injector = useService('injector');
  const translate = useService('translate');
  const debounce = useService('debounceInput');
  const elementRegistry = useService('elementRegistry');
  const source = flow.get('sourceRef');
  const isDefault = source && source.get('default') === flow;
  return TextAreaEntry({
    element,
    id,
    label: label || translate('Condition expression'),
    description: isDefault ? translate('Default flow: taken when no other condition holds.') : undefined,
    getValue: () => conditionBody(flow),
    setValue: (value) => setCondition(injector, elementRegistry.get(flow.id) || element, flow, value),
    debounce,
    rows: 1,
    autoResize: true,
    monospace: true,
  });
}

function DefaultFlowSelect(props) {
  const { element, id } = props;
  const commandStack = useService('commandStack');
  const translate = useService('translate');
  const bo = getBusinessObject(element);
  const outgoing = bo.get('outgoing') || [];
  return SelectEntry({
    element,
    id,
    label: translate('Default flow'),
    getValue: () => (bo.get('default') ? bo.get('default').id : ''),
    setValue: (value) => commandStack.execute('element.updateProperties', {
      element, properties: { default: outgoing.find((flow) => flow.id === value) },
    }),
    getOptions: () => [{ value: '', label: translate('<none>') }, ...outgoing.map((flow) => ({
      value: flow.id, label: flowLabel(flow, translate),
    }))],
  });
}

function flowLabel(flow, translate) {
  const target = flow.get('targetRef');
  const text = translate('to {target}', { target: (target && (target.name || target.id)) || '?' });
  return flow.name ? `${flow.name} (${text})` : text;
}

function ConditionGroup(element, translate) {
  const bo = getBusinessObject(element);
  if (!is(bo, 'bpmn:SequenceFlow') || !isConditionalSource(bo.get('sourceRef'))) {
    return null;
  }
  return {
    id: 'yq-condition',
    label: translate('Condition'),
    component: Group,
    entries: [{ id: 'yq-condition-expression', component: ConditionEntry, flow: bo,
      isEdited: isTextAreaEntryEdited }],
  };
}

function GatewayGroup(element, translate) {
  const bo = getBusinessObject(element);
  if (!(is(bo, 'bpmn:ExclusiveGateway') || is(bo, 'bpmn:InclusiveGateway'))) {
    return null;
  }
  const outgoing = bo.get('outgoing') || [];
  if (outgoing.length < 2) {
    return null;
  }
  return {
    id: 'yq-gateway',
    label: translate('Branch conditions'),
    component: Group,
    entries: [
      ...outgoing.map((flow) => ({ id: `yq-branch-${flow.id}`, component: ConditionEntry, flow,
        label: flowLabel(flow, translate), isEdited: isTextAreaEntryEdited })),
      { id: 'yq-default-flow', component: DefaultFlowSelect, isEdited: isSelectEntryEdited },
    ],
  };
}

// ---------------------------------------------------------------------------------------------
// multi-instance

function loopOf(element) {
  const loop = getBusinessObject(element).get('loopCharacteristics');
  return loop && is(loop, 'bpmn:MultiInstanceLoopCharacteristics') ? loop : null;
}

function LoopReference(props) {
  const { element, id, property, label } = props;
  const commandStack = useService('commandStack');
  const moddle = useService('moddle');
  const translate = useService('translate');
  const debounce = useService('debounceInput');
  const loop = loopOf(element);
  return TextFieldEntry({
    element,
    id,
    label: translate(label),
    getValue: () => {
      const reference = loop.get(property);
      return (reference && (reference.id || reference.name)) || '';
    },
    setValue: (value) => {
      const reference = loop.get(property);
      if (((reference && reference.id) || '') === (value || '')) {
        return;
      }
      commandStack.execute('element.updateModdleProperties', {
        element,
        moddleElement: loop,
        properties: { [property]: value ? moddle.create('bpmn:ItemAwareElement', { id: value }) : undefined },
      });
    },
    debounce,
  });
}

function LoopItem(props) {
  const { element, id, property, type, label } = props;
  const commandStack = useService('commandStack');
  const moddle = useService('moddle');
  const translate = useService('translate');
  const debounce = useService('debounceInput');
  const loop = loopOf(element);
  return TextFieldEntry({
    element,
    id,
    label: translate(label),
    getValue: () => {
      const item = loop.get(property);
      return (item && (item.name || item.id)) || '';
    },
    setValue: (value) => {
      const current = loop.get(property);
      if (((current && (current.name || current.id)) || '') === (value || '')) {
        return;
      }
      let item;
      if (value) {
        item = moddle.create(type, { id: value, name: value });
        item.$parent = loop;
      }
      commandStack.execute('element.updateModdleProperties', {
        element, moddleElement: loop, properties: { [property]: item },
      });
    },
    debounce,
  });
}

function ScriptsOnInstances(props) {
  const { element, id } = props;
  const commandStack = useService('commandStack');
  const translate = useService('translate');
  const loop = loopOf(element);
  return CheckboxEntry({
    element,
    id,
    label: translate('Run pre/post scripts on each instance'),
    getValue: () => !!loop.get('spiffworkflow:scriptsOnInstances'),
    setValue: (value) => commandStack.execute('element.updateModdleProperties', {
      element, moddleElement: loop, properties: { 'spiffworkflow:scriptsOnInstances': value || undefined },
    }),
  });
}

function multiInstanceEntries(element) {
  if (!loopOf(element)) {
    return [];
  }
  return [
    { id: 'yq-loop-input', component: LoopReference, property: 'loopDataInputRef',
      label: 'Collection (loop data input)', isEdited: isTextFieldEntryEdited },
    { id: 'yq-loop-input-item', component: LoopItem, property: 'inputDataItem', type: 'bpmn:DataInput',
      label: 'Element variable', isEdited: isTextFieldEntryEdited },
    { id: 'yq-loop-output', component: LoopReference, property: 'loopDataOutputRef',
      label: 'Output collection', isEdited: isTextFieldEntryEdited },
    { id: 'yq-loop-output-item', component: LoopItem, property: 'outputDataItem', type: 'bpmn:DataOutput',
      label: 'Output element variable', isEdited: isTextFieldEntryEdited },
    { id: 'yq-loop-scripts', component: ScriptsOnInstances, isEdited: isCheckboxEntryEdited },
  ];
}

// ---------------------------------------------------------------------------------------------
// scripts

function ScriptBody(props) {
  const { element, id } = props;
  const commandStack = useService('commandStack');
  const translate = useService('translate');
  const debounce = useService('debounceInput');
  const bo = getBusinessObject(element);
  return TextAreaEntry({
    element,
    id,
    label: translate('Script (evaluator expressions, one statement a line)'),
    getValue: () => bo.get('script') || '',
    setValue: (value) => updateProperty(commandStack, element, bo, 'script', value || undefined),
    debounce,
    rows: 6,
    autoResize: true,
    monospace: true,
  });
}

function ScriptsGroup(element, translate) {
  const bo = getBusinessObject(element);
  if (!is(bo, 'bpmn:Activity') || is(bo, 'bpmn:SubProcess')) {
    return null;
  }
  const entries = [];
  if (is(bo, 'bpmn:ScriptTask')) {
    entries.push({ id: 'yq-script', component: ScriptBody, isEdited: isTextAreaEntryEdited });
  }
  entries.push(
    { id: 'yq-pre-script', component: BodyExtensionText, type: 'spiffworkflow:PreScript', label: 'Pre-script',
      rows: 2, isEdited: isTextAreaEntryEdited },
    { id: 'yq-post-script', component: BodyExtensionText, type: 'spiffworkflow:PostScript', label: 'Post-script',
      rows: 2, isEdited: isTextAreaEntryEdited },
  );
  return { id: 'yq-scripts', label: translate('Scripts'), component: Group, entries };
}

// ---------------------------------------------------------------------------------------------

function extendGroup(groups, id, entries) {
  if (!entries.length) {
    return;
  }
  const group = groups.find((candidate) => candidate.id === id);
  if (group) {
    group.entries = [...group.entries, ...entries];
  }
}

export default class YuqingPropertiesProvider {
  constructor(propertiesPanel, injector, translate, yuqingConfig) {
    this._injector = injector;
    this._translate = translate;
    this._config = yuqingConfig;
    propertiesPanel.registerProvider(LOW_PRIORITY, this);
  }

  getGroups(element) {
    return (groups) => {
      const translate = this._translate;
      const config = this._config;
      const bo = getBusinessObject(element);
      const added = [];
      if (is(bo, 'bpmn:Lane')) {
        added.push(LaneRolesGroup(element, translate, config));
      }
      if (is(bo, 'bpmn:UserTask')) {
        added.push(UserTaskGroup(element, translate, config));
      }
      if (is(bo, 'bpmn:CallActivity')) {
        added.push({ id: 'yq-called-element', label: translate('Called process'), component: Group,
          entries: [{ id: 'yq-called-element-select', component: CalledElementSelect,
            isEdited: isSelectEntryEdited }] });
      }
      if (is(bo, 'bpmn:BusinessRuleTask')) {
        added.push({ id: 'yq-decision', label: translate('Decision table'), component: Group,
          entries: [{ id: 'yq-decision-select', component: DecisionSelect, isEdited: isSelectEntryEdited }] });
      }
      if (is(bo, 'bpmn:ServiceTask')) {
        added.push(ServiceTaskGroup(element, translate, config));
        added.push(ParametersGroup(element, translate, config, this._injector));
      }
      added.push(ConditionGroup(element, translate), GatewayGroup(element, translate),
        ScriptsGroup(element, translate));

      extendGroup(groups, 'message', messageEntries(element));
      extendGroup(groups, 'escalation', escalationEntries(element));
      const loopEntries = multiInstanceEntries(element);
      const multiInstance = groups.find((group) => group.id === 'multiInstance');
      if (multiInstance && loopEntries.length) {
        multiInstance.entries = [...loopEntries, ...multiInstance.entries];
      }

      // ours go after "general" and before the documentation
      const position = Math.max(0, groups.findIndex((group) => group.id === 'general') + 1);
      return [...groups.slice(0, position), ...added.filter(Boolean), ...groups.slice(position)];
    };
  }
}

YuqingPropertiesProvider.$inject = ['propertiesPanel', 'injector', 'translate', 'yuqingConfig'];
