"""Checks on elements no start event reaches, read from the XML itself.

SpiffWorkflow's parser leaves out what no start event reaches, so the checks that run on parsed task
specs never see an element the owner has drawn but not yet connected. Besides "no incoming flow"
(lint.check_xml), such an element gets the checks an owner would otherwise meet only after connecting
it: a service task's operator, a business-rule task's decision, a call activity's process and a
timer's value, so that 校验 lists every problem at once, as the modeller's live lint does.
"""

from __future__ import annotations

import re
from typing import Any

from app.engine import spec_checks
from app.engine.lint import BPMN, unreached_nodes

S = "{http://spiffworkflow.org/bpmn/schema/1.0/core}"  # definitions.SPIFF_NS (that module imports this one)
_TIMES = {f"{BPMN}timeDuration": False, f"{BPMN}timeDate": False, f"{BPMN}timeCycle": True}
_NAME = re.compile(r"^\s*[A-Za-z][A-Za-z0-9_]{0,63}\s*$")
_LITERAL = re.compile(r"""^\s*(['"])([^'"]{1,64})\1\s*$""")


def check_unreached(root: Any) -> list[tuple[str, str, dict[str, Any], str]]:
    """(element id, code, args, reason) for the settings of elements no start event reaches."""
    problems = []
    for node, kind in unreached_nodes(root):
        element = node.get("id")
        problems += [(element, code, args, reason) for code, args, reason in _settings(node, kind)]
    return problems


def _settings(node: Any, kind: str) -> list[tuple[str, dict[str, Any], str]]:
    ext = node.find(f"{BPMN}extensionElements")
    found: list[tuple[str, dict[str, Any], str]] = []
    if kind == "serviceTask" and (ext is None or ext.find(f"{S}serviceTaskOperator") is None):
        found.append(("no_operator", {}, "service task has no operator"))
    if kind == "businessRuleTask":
        ref = ext.find(f"{S}calledDecisionId") if ext is not None else None
        if ref is None or not (ref.text or "").strip():
            found.append(("no_decision", {}, "business rule task names no decision"))
    if kind == "callActivity" and not (node.get("calledElement") or "").strip():
        found.append(("no_called_process", {}, "call activity names no process"))
    for timer in node.iter(f"{BPMN}timerEventDefinition"):
        found += _timer(timer)
    return found


def _timer(timer: Any) -> list[tuple[str, dict[str, Any], str]]:
    values = [(child.text or "", _TIMES[child.tag]) for child in timer if child.tag in _TIMES]
    text, cycle = values[0] if values else ("", False)
    if not text.strip():
        return [("timer_empty", {}, "timer has no time")]
    if _NAME.match(text):
        return []
    match = _LITERAL.match(text)
    if not match:
        detail = f"timer '{text}': use a quoted ISO-8601 value or a single variable name"
        return [("timer", {"detail": detail}, detail)]
    try:
        spec_checks.check_timer_value(match.group(2), cycle=cycle)
    except ValueError as exc:
        return [("timer", {"detail": f"timer '{text}': {exc}"}, f"timer '{text}': {exc}")]
    return []
