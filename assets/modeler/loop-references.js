/**
 * `<bpmn:loopDataInputRef>commentators</bpmn:loopDataInputRef>`: SpiffWorkflow reads the text as the
 * name of a task-data variable, while BPMN moddle expects the id of an item-aware element and drops
 * the reference it cannot resolve (with an "unresolved reference" warning), which would lose the
 * collection on export. After parsing, such a reference is replaced by a detached
 * `bpmn:ItemAwareElement` with that id, which exports as the same text, and its warning is removed.
 */

const LOOP_REFERENCES = ['bpmn:loopDataInputRef', 'bpmn:loopDataOutputRef'];

export function keepLoopReferences(moddle, warnings) {
  for (let index = warnings.length - 1; index >= 0; index--) {
    const warning = warnings[index];
    if (!warning || !LOOP_REFERENCES.includes(warning.property) || !warning.element || !warning.value
        || !/^unresolved reference/.test(warning.message || '')) {
      continue;
    }
    const reference = moddle.create('bpmn:ItemAwareElement', { id: warning.value });
    warning.element.set(warning.property, reference);
    warnings.splice(index, 1);
  }
}

function LoopReferences(eventBus, moddle) {
  eventBus.on('import.parse.complete', 2000, (event) => {
    if (!event.error && event.warnings) {
      keepLoopReferences(moddle, event.warnings);
    }
  });
}

LoopReferences.$inject = ['eventBus', 'moddle'];

export default {
  __init__: ['yuqingLoopReferences'],
  yuqingLoopReferences: ['type', LoopReferences],
};
