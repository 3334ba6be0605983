/**
 * Live lint while modelling: bpmnlint (through bpmn-js-bpmnlint) with our own rules, packed as the
 * plugin `bpmnlint-plugin-yuqing` and resolved in the bundle (nothing is fetched at run time).
 *
 *   yuqing/lane            a user or manual task lies in a lane (inside a sub-process: the sub-process
 *                          does), and the lane names roles (known ones when the page passes the role list)
 *   yuqing/form            a user or manual task has a form (warning: without one the deploy gives it
 *                          the generated confirmation form)
 *   yuqing/timer           a timer is a quoted ISO-8601 duration / date-time with offset / cycle, or one
 *                          variable name
 *   yuqing/condition       each outgoing flow of an exclusive or inclusive gateway with more than one
 *                          way out has a condition, except the default flow
 *   yuqing/operator        a service task calls an operator, one the server registered (when the page
 *                          passes the operator list)
 *   yuqing/disconnected    a task, gateway, sub-process or event has a sequence flow in or out
 *
 * These mirror the server's deploy checks (app/engine/spec_checks.py) to help while drawing; the
 * server stays the gate at deploy. Messages are English keys translated by i18n.js (Chinese by default).
 */

import { is, isAny } from 'bpmn-js/lib/util/ModelUtil';

const PLUGIN = 'bpmnlint-plugin-yuqing';
const SPIFF_PROPERTIES = 'spiffworkflow:Properties';
const SPIFF_OPERATOR = 'spiffworkflow:ServiceTaskOperator';

export const RULES = {
  'yuqing/lane': 'error',
  'yuqing/form': 'warn',
  'yuqing/timer': 'error',
  'yuqing/condition': 'error',
  'yuqing/operator': 'error',
  'yuqing/disconnected': 'warn',
};

function extensions(node, type) {
  const values = (node.extensionElements && node.extensionElements.values) || [];
  return values.filter((value) => is(value, type));
}

function spiffProperty(node, name) {
  for (const group of extensions(node, SPIFF_PROPERTIES)) {
    for (const property of group.properties || []) {
      if (property.name === name) {
        return property.value || '';
      }
    }
  }
  return '';
}

/**
 * How a finding names its element: the name, or (unnamed) its type and id, e.g. 用户任务 Activity_1x2y.
 * The type label is the English one of bpmn-js ("User Task"), translated by i18n.js.
 */
function label(node, t) {
  if (node.name && node.name.trim()) {
    return node.name.trim();
  }
  const type = (node.$type || '').replace(/^bpmn:/, '').replace(/([a-z])([A-Z])/g, '$1 $2');
  return type ? `${t(type)} ${node.id}` : node.id;
}

function isHumanTask(node) {
  return isAny(node, ['bpmn:UserTask', 'bpmn:ManualTask']);
}

/** Lanes of a process, nested ones included, each with the ids of its flow nodes. */
function lanesOf(process) {
  const lanes = [];
  const walk = (laneSets) => {
    for (const laneSet of laneSets || []) {
      for (const lane of laneSet.lanes || []) {
        lanes.push(lane);
        walk(lane.childLaneSet ? [lane.childLaneSet] : []);
      }
    }
  };
  walk(process.laneSets || (process.laneSet ? [process.laneSet] : []));
  return lanes;
}

/** [element, lane] of a process's flow elements, nested ones taking the lane of their sub-process. */
function withLanes(container, laneOf, inherited) {
  const found = [];
  for (const element of container.flowElements || []) {
    const lane = laneOf.get(element.id) || inherited;
    found.push([element, lane]);
    if (is(element, 'bpmn:SubProcess')) {
      found.push(...withLanes(element, laneOf, lane));
    }
  }
  return found;
}

/**
 * The sequence flows of a process or sub-process by source and by target. Read from the flows'
 * sourceRef/targetRef: files written by hand or other tools often leave out <incoming>/<outgoing>,
 * which the engine does not need either.
 */
function flowsOf(container) {
  const out = new Map();
  const into = new Map();
  for (const flow of container.flowElements || []) {
    if (!is(flow, 'bpmn:SequenceFlow')) {
      continue;
    }
    for (const [map, end] of [[out, flow.sourceRef], [into, flow.targetRef]]) {
      if (end) {
        map.set(end.id, [...(map.get(end.id) || []), flow]);
      }
    }
  }
  return { out, into };
}

function isContainer(node) {
  return isAny(node, ['bpmn:Process', 'bpmn:SubProcess']);
}

// ---- timers ------------------------------------------------------------------------------

const DURATION = /^P(?!$)(\d+(?:[.,]\d+)?Y)?(\d+(?:[.,]\d+)?M)?(\d+(?:[.,]\d+)?W)?(\d+(?:[.,]\d+)?D)?(T(?=\d)(\d+(?:[.,]\d+)?H)?(\d+(?:[.,]\d+)?M)?(\d+(?:[.,]\d+)?S)?)?$/;
const DATE_TIME = /^\d{4}-\d\d-\d\dT\d\d:\d\d(:\d\d([.,]\d+)?)?(Z|[+-]\d\d:?\d\d)$/;
const TIMER_LITERAL = /^\s*(['"])([^'"]{1,64})\1\s*$/;
const TIMER_NAME = /^\s*[A-Za-z][A-Za-z0-9_]{0,63}\s*$/;

function validDuration(text, allowMonths) {
  const match = DURATION.exec(text);
  if (!match) {
    return false;
  }
  // years and months have no fixed length: only a cycle's period may use them
  return allowMonths || (!match[1] && !match[2]);
}

function validDateTime(text) {
  return DATE_TIME.test(text) && !Number.isNaN(Date.parse(text.replace(',', '.')));
}

/** null when the timer text is accepted, else why not (an English key of i18n.js). */
export function timerProblem(text, kind) {
  const body = (text || '').trim();
  if (!body) {
    return 'The timer has no value.';
  }
  if (TIMER_NAME.test(body)) {
    return null;
  }
  const literal = TIMER_LITERAL.exec(body);
  if (!literal) {
    return 'The timer must be a quoted ISO-8601 value (e.g. "PT30M", "P1D", "R3/PT1H") or one variable name.';
  }
  const value = literal[2].toUpperCase();
  if (kind === 'timeCycle') {
    const cycle = /^R(\d{1,6})\/(.+)$/.exec(value);
    if (!cycle || Number(cycle[1]) > 1000) {
      return 'A timer cycle needs a repeat count up to 1000, e.g. "R3/PT1H".';
    }
    const parts = cycle[2].split('/');
    const valid = parts.length <= 2 && parts.every((part) => (
      part.startsWith('P') ? validDuration(part, true) : validDateTime(part)));
    return valid ? null : 'The timer value is not a valid ISO-8601 duration or date-time with offset.';
  }
  const valid = value.startsWith('P') ? validDuration(value, false) : validDateTime(literal[2]);
  return valid ? null : 'The timer value is not a valid ISO-8601 duration or date-time with offset.';
}

// ---- rules -------------------------------------------------------------------------------

function laneRule(config, t) {
  const known = new Set((config.roles || []).map((role) => role.value));
  return {
    check(node, reporter) {
      if (!is(node, 'bpmn:Process')) {
        return;
      }
      const lanes = lanesOf(node);
      const laneOf = new Map();
      for (const lane of lanes) {
        for (const ref of lane.flowNodeRef || []) {
          laneOf.set(ref.id, lane);
        }
      }
      const checkedLanes = new Set();
      for (const [element, lane] of withLanes(node, laneOf, null)) {
        if (!isHumanTask(element)) {
          continue;
        }
        if (!lane) {
          reporter.report(element.id, lanes.length
            ? t('Task "{task}" is in no lane: drag it into the lane of the people who do it.', { task: label(element, t) })
            : t('Task "{task}" is in no lane: add a lane with roles to the pool and put the task in it.',
              { task: label(element, t) }));
          continue;
        }
        if (checkedLanes.has(lane.id)) {
          continue;
        }
        checkedLanes.add(lane.id);
        const roles = spiffProperty(lane, 'roles').split(',').map((role) => role.trim()).filter(Boolean);
        if (!roles.length) {
          reporter.report(lane.id, t('Lane "{lane}" has no roles: select it and choose roles in the properties panel.',
            { lane: label(lane, t) }));
        } else if (known.size) {
          const unknown = roles.filter((role) => !known.has(role));
          if (unknown.length) {
            reporter.report(lane.id, t('Lane "{lane}" names unknown roles: {roles}.',
              { lane: label(lane, t), roles: unknown.join(', ') }));
          }
        }
      }
    },
  };
}

function formRule(config, t) {
  return {
    check(node, reporter) {
      if (isHumanTask(node) && !spiffProperty(node, 'formJsonSchemaFilename')) {
        reporter.report(node.id, t('Task "{task}" has no form: it will get the generated confirmation form '
          + '(instructions + done/comment); choose a form in the properties panel if it needs more.', { task: label(node, t) }));
      }
    },
  };
}

function timerRule(config, t) {
  return {
    check(node, reporter) {
      if (!is(node, 'bpmn:TimerEventDefinition')) {
        return;
      }
      const owner = node.$parent;
      const kind = ['timeDuration', 'timeDate', 'timeCycle'].find((name) => node[name]);
      const problem = timerProblem(kind ? node[kind].body : '', kind);
      if (problem && owner && owner.id) {
        reporter.report(owner.id, t('{element}: {problem}', { element: label(owner, t), problem: t(problem) }));
      }
    },
  };
}

function conditionRule(config, t) {
  return {
    check(container, reporter) {
      if (!isContainer(container)) {
        return;
      }
      const { out } = flowsOf(container);
      for (const node of container.flowElements || []) {
        if (!isAny(node, ['bpmn:ExclusiveGateway', 'bpmn:InclusiveGateway'])) {
          continue;
        }
        const outgoing = out.get(node.id) || [];
        if (outgoing.length < 2) {
          continue;
        }
        for (const flow of outgoing) {
          const body = flow.conditionExpression && (flow.conditionExpression.body || '').trim();
          if (flow !== node.default && !body) {
            reporter.report(flow.id, t('The flow "{flow}" out of gateway "{gateway}" has no condition: '
              + 'give it one, or make it the default flow.', { flow: label(flow, t), gateway: label(node, t) }));
          }
        }
      }
    },
  };
}

function operatorRule(config, t) {
  const registered = new Set((config.operators || []).map((operator) => operator.id));
  return {
    check(node, reporter) {
      if (!is(node, 'bpmn:ServiceTask')) {
        return;
      }
      const operator = extensions(node, SPIFF_OPERATOR)[0];
      if (!operator || !operator.id) {
        reporter.report(node.id, t('Service task "{task}" calls no operator: choose one in the properties panel.',
          { task: label(node, t) }));
      } else if (registered.size && !registered.has(operator.id)) {
        reporter.report(node.id, t('Service task "{task}" calls "{operator}", which is not a registered operator.',
          { task: label(node, t), operator: operator.id }));
      }
    },
  };
}

function disconnectedRule(config, t) {
  return {
    check(container, reporter) {
      if (!isContainer(container) || is(container, 'bpmn:AdHocSubProcess')) {
        return;
      }
      const { out, into } = flowsOf(container);
      for (const node of container.flowElements || []) {
        if (!isAny(node, ['bpmn:Task', 'bpmn:Gateway', 'bpmn:SubProcess', 'bpmn:Event']) || node.triggeredByEvent
            || node.isForCompensation || is(node, 'bpmn:BoundaryEvent')) {
          continue;
        }
        if (!out.has(node.id) && !into.has(node.id)) {
          reporter.report(node.id, t('"{element}" is not connected to the flow.', { element: label(node, t) }));
        }
      }
    },
  };
}

const FACTORIES = {
  lane: laneRule,
  form: formRule,
  timer: timerRule,
  condition: conditionRule,
  operator: operatorRule,
  disconnected: disconnectedRule,
};

/**
 * The `linting.bpmnlint` option of bpmn-js-bpmnlint: our rules resolved from the bundle.
 *
 * @param {Object} config    normaliseConfig() of the page's lists (operators, roles)
 * @param {Function} translate
 */
export function linterConfig(config, translate) {
  return {
    config: { rules: { ...RULES } },
    resolver: {
      resolveRule(pkg, ruleName) {
        const factory = pkg === PLUGIN ? FACTORIES[ruleName] : null;
        return factory ? () => factory(config, translate) : null;
      },
      resolveConfig() {
        return null;
      },
    },
  };
}

/**
 * bpmn-js-bpmnlint's issues ({elementId: [{id, message, category, rule}]}) as a flat list, errors first.
 */
export function flattenIssues(issues) {
  const list = [];
  for (const [id, entries] of Object.entries(issues || {})) {
    for (const entry of entries) {
      // an element without a shape is reported on its pool or the root: keep its own id
      list.push({ element_id: entry.actualElementId || entry.id || id, message: entry.message, category: entry.category === 'error' ? 'error' : 'warn',
        rule: entry.rule });
    }
  }
  return list.sort((a, b) => (a.category === b.category ? 0 : a.category === 'error' ? -1 : 1));
}
