"""Structural checks a diagram must pass beyond what the parser enforces.

- every flow node is reachable and leads somewhere (unconnected elements are refused);
- every cycle contains a wait state (a user task, a catching event or a call activity that
  waits), so no diagram can spin without a person or a timer in between (docs/security.md §9).
"""

from __future__ import annotations

from typing import Any

from SpiffWorkflow.bpmn.specs.mixins.events.event_types import CatchingEvent
from SpiffWorkflow.bpmn.specs.mixins.subworkflow_task import SubWorkflowTask

_NO_INPUT_OK = {"StartEvent", "BoundaryEvent", "EventBasedGateway"}
_NO_OUTPUT_OK = {"EndEvent"}


def check_process(spec: Any, specs: dict[str, Any]) -> list[tuple[str, str]]:
    """(element id, reason) for every structural problem of one process spec."""
    problems = _connection_problems(spec)
    for component in _cycles(spec):
        if not any(_waits(task_spec, specs) for task_spec in component):
            ids = sorted(t.bpmn_id for t in component if t.bpmn_id)
            element = ids[0] if ids else spec.name
            problems.append((element, "loop without a wait state (user task, timer or message) through "
                                      + ", ".join(ids)))
    return problems


def _connection_problems(spec: Any) -> list[tuple[str, str]]:
    problems = []
    for task_spec in spec.task_specs.values():
        kind = type(task_spec).__name__
        if task_spec.bpmn_id is None or kind == "BoundaryEvent":
            continue
        if not task_spec.inputs and kind not in _NO_INPUT_OK:
            problems.append((task_spec.bpmn_id, "element has no incoming sequence flow"))
        if not task_spec.outputs and kind not in _NO_OUTPUT_OK:
            problems.append((task_spec.bpmn_id, "element has no outgoing sequence flow"))
    return problems


def _waits(task_spec: Any, specs: dict[str, Any], seen: set[str] | None = None) -> bool:
    if task_spec.manual or isinstance(task_spec, CatchingEvent):
        return True
    if isinstance(task_spec, SubWorkflowTask):
        called = specs.get(task_spec.spec)
        seen = seen or set()
        if called is None or task_spec.spec in seen:
            return False
        seen.add(task_spec.spec)
        return any(_waits(t, specs, seen) for t in called.task_specs.values())
    inner = getattr(task_spec, "task_spec", None)
    return inner is not None and _waits(inner, specs, seen)


def _cycles(spec: Any) -> list[list[Any]]:
    """Strongly connected components that form cycles (Tarjan, iterative)."""
    nodes = list(spec.task_specs.values())
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    on_stack: set[str] = set()
    stack: list[Any] = []
    result: list[list[Any]] = []
    counter = 0
    for root in nodes:
        if root.name in index:
            continue
        work = [(root, iter(root.outputs))]
        index[root.name] = low[root.name] = counter
        counter += 1
        stack.append(root)
        on_stack.add(root.name)
        while work:
            node, children = work[-1]
            child = next(children, None)
            if child is not None:
                if child.name not in index:
                    index[child.name] = low[child.name] = counter
                    counter += 1
                    stack.append(child)
                    on_stack.add(child.name)
                    work.append((child, iter(child.outputs)))
                elif child.name in on_stack:
                    low[node.name] = min(low[node.name], index[child.name])
                continue
            work.pop()
            if work:
                parent = work[-1][0]
                low[parent.name] = min(low[parent.name], low[node.name])
            if low[node.name] == index[node.name]:
                component = []
                while True:
                    member = stack.pop()
                    on_stack.discard(member.name)
                    component.append(member)
                    if member is node:
                        break
                if len(component) > 1 or node in node.outputs:
                    result.append(component)
    return result
