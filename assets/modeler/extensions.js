/**
 * Reading and changing `spiffworkflow:` extension elements through the command stack (so every
 * change is one undoable step). A `Changes` collects `element.updateModdleProperties` commands and
 * runs them together through the properties panel's multi-command executor.
 */

import { is } from 'bpmn-js/lib/util/ModelUtil';

const MULTI_COMMAND = 'properties-panel.multi-command-executor';

/** Extension elements of a business object, optionally only those of one type. */
export function extensionValues(bo, type) {
  const extensionElements = bo && bo.get('extensionElements');
  if (!extensionElements) {
    return [];
  }
  const values = extensionElements.get('values') || [];
  return type ? values.filter((value) => is(value, type)) : values;
}

/** The first event definition of a type, or undefined. */
export function eventDefinition(bo, type) {
  return (bo.get('eventDefinitions') || []).find((definition) => is(definition, type));
}

export class Changes {
  constructor(element, injector) {
    this.element = element;
    this.moddle = injector.get('moddle');
    this.commandStack = injector.get('commandStack');
    this.commands = [];
  }

  create(type, attrs) {
    return this.moddle.create(type, attrs);
  }

  update(moddleElement, properties, element) {
    this.commands.push({
      cmd: 'element.updateModdleProperties',
      context: { element: element || this.element, moddleElement, properties },
    });
  }

  /** Add an extension element to `bo`, creating `bpmn:extensionElements` when there is none. */
  addExtension(bo, value) {
    let extensionElements = bo.get('extensionElements');
    if (!extensionElements) {
      extensionElements = this.create('bpmn:ExtensionElements', { values: [value] });
      extensionElements.$parent = bo;
      value.$parent = extensionElements;
      this.update(bo, { extensionElements });
    } else {
      value.$parent = extensionElements;
      this.update(extensionElements, { values: [...extensionElements.get('values'), value] });
    }
  }

  /** Remove an extension element; `bpmn:extensionElements` goes too when it becomes empty. */
  removeExtension(bo, value) {
    const extensionElements = bo.get('extensionElements');
    if (!extensionElements) {
      return;
    }
    const rest = extensionElements.get('values').filter((other) => other !== value);
    if (rest.length) {
      this.update(extensionElements, { values: rest });
    } else {
      this.update(bo, { extensionElements: undefined });
    }
  }

  execute() {
    if (this.commands.length) {
      this.commandStack.execute(MULTI_COMMAND, this.commands);
    }
    this.commands = [];
  }
}

/** `spiffworkflow:properties/property[@name]/@value` of a task or lane, or undefined. */
export function getSpiffProperty(bo, name) {
  for (const container of extensionValues(bo, 'spiffworkflow:Properties')) {
    const property = container.get('properties').find((candidate) => candidate.get('name') === name);
    if (property) {
      return property.get('value');
    }
  }
  return undefined;
}

/**
 * Set several `spiffworkflow:property` values at once ({name: value}); an empty value removes the
 * property, and the `spiffworkflow:properties` container when nothing is left in it.
 */
export function setSpiffProperties(element, bo, values, injector) {
  const changes = new Changes(element, injector);
  const container = extensionValues(bo, 'spiffworkflow:Properties')[0];
  let list = container ? container.get('properties').slice() : [];
  let listChanged = false;
  for (const [name, raw] of Object.entries(values)) {
    const value = raw === undefined || raw === null ? '' : String(raw);
    const existing = list.find((property) => property.get('name') === name);
    if (!value) {
      if (existing) {
        list = list.filter((property) => property !== existing);
        listChanged = true;
      }
    } else if (existing) {
      if (existing.get('value') !== value) {
        changes.update(existing, { value });
      }
    } else {
      list.push(changes.create('spiffworkflow:Property', { name, value }));
      listChanged = true;
    }
  }
  if (listChanged) {
    if (container && list.length) {
      list.forEach((property) => { property.$parent = container; });
      changes.update(container, { properties: list });
    } else if (container) {
      changes.removeExtension(bo, container);
    } else {
      const created = changes.create('spiffworkflow:Properties', { properties: list });
      list.forEach((property) => { property.$parent = created; });
      changes.addExtension(bo, created);
    }
  }
  changes.execute();
}

/** Text of a body-only extension element (`spiffworkflow:calledDecisionId` …), or undefined. */
export function getBodyExtension(bo, type) {
  const value = extensionValues(bo, type)[0];
  return value ? value.get('value') : undefined;
}

/** Set the text of a body-only extension element; an empty text removes the element. */
export function setBodyExtension(element, bo, type, text, injector) {
  const changes = new Changes(element, injector);
  const existing = extensionValues(bo, type)[0];
  if (!text) {
    if (existing) {
      changes.removeExtension(bo, existing);
    }
  } else if (existing) {
    if (existing.get('value') !== text) {
      changes.update(existing, { value: text });
    }
  } else {
    changes.addExtension(bo, changes.create(type, { value: text }));
  }
  changes.execute();
}
