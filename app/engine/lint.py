"""Structural checks a diagram must pass beyond what the parser enforces.

- every flow node has an incoming sequence flow unless it starts by itself, and gateways and start
  events have an outgoing one (unconnected elements are refused; implicit ends are valid);
- no loop can run without a wait state (a user task, a catching event, or a call activity that
  waits), so no diagram can spin without a person or a timer in between (docs/security.md §9).
"""

from __future__ import annotations

from typing import Any

from SpiffWorkflow.bpmn.specs.mixins.events.event_types import CatchingEvent
from SpiffWorkflow.bpmn.specs.mixins.subworkflow_task import SubWorkflowTask

BPMN = "{http://www.omg.org/spec/BPMN/20100524/MODEL}"
_FLOW_NODES = {
    "task", "userTask", "manualTask", "serviceTask", "scriptTask", "businessRuleTask", "sendTask", "receiveTask",
    "callActivity", "subProcess", "transaction", "startEvent", "endEvent", "intermediateCatchEvent",
    "intermediateThrowEvent", "boundaryEvent", "exclusiveGateway", "parallelGateway", "inclusiveGateway",
    "eventBasedGateway", "complexGateway",
}


_MUST_CONTINUE = {"startEvent", "exclusiveGateway", "parallelGateway", "inclusiveGateway", "eventBasedGateway",
                  "complexGateway"}


def check_xml(root: Any) -> list[tuple[str, str, dict[str, Any], str]]:
    """(element id, code, args, reason) for flow nodes that are not connected (checked on the XML
    itself, because SpiffWorkflow silently leaves out what no start event reaches).

    Valid BPMN that is not a mistake passes: an event sub-process starts by its event, a boundary
    event or a compensation handler has no incoming flow, and a path may end at an activity or an
    event without an end event (an implicit end). A gateway or a start event leading nowhere is refused.
    """
    problems = []
    for container in root.iter(f"{BPMN}process", f"{BPMN}subProcess", f"{BPMN}transaction"):
        flows = [f for f in container if f.tag == f"{BPMN}sequenceFlow"]
        sources = {f.get("sourceRef") for f in flows}
        targets = {f.get("targetRef") for f in flows}
        event_sub = container.get("triggeredByEvent") == "true"
        for node in container:
            kind = node.tag.removeprefix(BPMN) if isinstance(node.tag, str) else ""
            if kind not in _FLOW_NODES:
                continue
            element = node.get("id")
            starts_itself = (kind in ("startEvent", "boundaryEvent") or node.get("triggeredByEvent") == "true"
                             or node.get("isForCompensation") == "true")
            if element not in targets and not starts_itself:
                problems.append((element, "no_incoming", {}, "element has no incoming sequence flow"))
            if element not in sources and kind in _MUST_CONTINUE and not (event_sub and kind == "startEvent"):
                problems.append((element, "no_outgoing", {}, "element has no outgoing sequence flow"))
    return problems


def unreached_nodes(root: Any) -> list[tuple[Any, str]]:
    """(node, kind) of the flow nodes nothing leads to and that do not start by themselves: what
    SpiffWorkflow's parser leaves out (their settings are checked on the XML, app/engine/xml_checks.py)."""
    found = []
    for container in root.iter(f"{BPMN}process", f"{BPMN}subProcess", f"{BPMN}transaction"):
        targets = {f.get("targetRef") for f in container if f.tag == f"{BPMN}sequenceFlow"}
        for node in container:
            kind = node.tag.removeprefix(BPMN) if isinstance(node.tag, str) else ""
            starts_itself = (kind in ("startEvent", "boundaryEvent") or node.get("triggeredByEvent") == "true"
                             or node.get("isForCompensation") == "true")
            if kind in _FLOW_NODES and node.get("id") not in targets and not starts_itself:
                found.append((node, kind))
    return found


def implicit_ends(root: Any) -> set[str]:
    """Ids of activities and events a path ends at without an end event (valid BPMN)."""
    found = set()
    for container in root.iter(f"{BPMN}process", f"{BPMN}subProcess", f"{BPMN}transaction"):
        sources = {f.get("sourceRef") for f in container if f.tag == f"{BPMN}sequenceFlow"}
        for node in container:
            kind = node.tag.removeprefix(BPMN) if isinstance(node.tag, str) else ""
            if (kind in _FLOW_NODES and kind not in _MUST_CONTINUE and kind != "endEvent"
                    and node.get("id") not in sources and node.get("triggeredByEvent") != "true"
                    and node.get("isForCompensation") != "true"):
                found.add(node.get("id"))
    return found


def check_process(spec: Any, specs: dict[str, Any]) -> list[tuple[str, str, dict[str, Any], str]]:
    """(element id, reason) for every loop that can run without waiting for a person or an event."""
    problems = []
    for component in _cycles(spec, lambda task_spec: _waits(task_spec, spec, specs)):
        ids = sorted({t.bpmn_id for t in component if t.bpmn_id})
        element = ids[0] if ids else spec.name
        problems.append((element, "loop", {"elements": ", ".join(ids)},
                         "loop without a wait state (user task, timer or message) through " + ", ".join(ids)))
    return problems


def _waits(task_spec: Any, spec: Any, specs: dict[str, Any], seen: set[str] | None = None) -> bool:
    if task_spec.manual or isinstance(task_spec, CatchingEvent):
        return True
    if isinstance(task_spec, SubWorkflowTask):
        called = specs.get(task_spec.spec)
        seen = seen or set()
        if called is None or task_spec.spec in seen:
            return False
        seen.add(task_spec.spec)
        return any(_waits(t, called, specs, seen) for t in called.task_specs.values())
    inner = getattr(task_spec, "task_spec", None)  # loops and multi-instance wrap a child spec
    if isinstance(inner, str):
        inner = spec.task_specs.get(inner)
    return inner is not None and inner is not task_spec and _waits(inner, spec, specs, seen)


def _cycles(spec: Any, skip: Any) -> list[list[Any]]:
    """Cycles of the flow graph that remain once the nodes `skip` accepts are taken out."""
    finder = _Tarjan(skip)
    for node in spec.task_specs.values():
        if node.name not in finder.index and not skip(node):
            finder.visit(node)
    return finder.cycles


class _Tarjan:
    """Tarjan's algorithm, iterative so deep diagrams cannot exhaust the Python stack."""

    def __init__(self, skip: Any) -> None:
        self.skip = skip
        self.index: dict[str, int] = {}
        self.low: dict[str, int] = {}
        self.on_stack: set[str] = set()
        self.stack: list[Any] = []
        self.cycles: list[list[Any]] = []

    def _enter(self, node: Any) -> None:
        self.index[node.name] = self.low[node.name] = len(self.index)
        self.stack.append(node)
        self.on_stack.add(node.name)

    def visit(self, root: Any) -> None:
        self._enter(root)
        work = [(root, self._next(root))]
        while work:
            node, children = work[-1]
            child = next(children, None)
            if child is None:
                work.pop()
                if work:
                    parent = work[-1][0]
                    self.low[parent.name] = min(self.low[parent.name], self.low[node.name])
                self._close(node)
            elif child.name not in self.index:
                self._enter(child)
                work.append((child, self._next(child)))
            elif child.name in self.on_stack:
                self.low[node.name] = min(self.low[node.name], self.index[child.name])

    def _next(self, node: Any) -> Any:
        return iter([child for child in node.outputs if not self.skip(child)])

    def _close(self, node: Any) -> None:
        if self.low[node.name] != self.index[node.name]:
            return
        component = []
        while True:
            member = self.stack.pop()
            self.on_stack.discard(member.name)
            component.append(member)
            if member is node:
                break
        if len(component) > 1 or node in node.outputs:
            self.cycles.append(component)
