"""Deploy-time checks of parsed specs: every expression, script, timer, service call and lane.

Each text SpiffWorkflow will evaluate goes through the same checker the evaluator uses at run time;
timers must be quoted ISO-8601 literals or a single variable name (docs/security.md §1).
"""

from __future__ import annotations

import ast
import re
from collections.abc import Iterable
from typing import Any

from SpiffWorkflow.bpmn.specs.event_definitions.timer import CycleTimerEventDefinition, TimerEventDefinition

from app.engine import checker, helpers, lint, services

MAX_CYCLES = helpers.MAX_CYCLES

Found = tuple[str, str, dict[str, Any]]  # (English reason, code, args)
GENERATED_FORM = "yq_confirm.schema.json"
# The form a user or manual task without a form of its own gets: its instructions, 完成 and 意见.
GENERATED_SCHEMA: dict[str, Any] = {
    "title": "确认办理", "type": "object", "additionalProperties": False,
    "description": "请按办理说明完成本任务,确认完成并填写意见(可选)后提交。",
    "required": ["done"],
    "properties": {
        "done": {"type": "string", "title": "完成情况", "oneOf": [{"const": "done", "title": "已完成"}]},
        "comment": {"type": "string", "title": "意见", "maxLength": 2000},
    },
}


def check_specs(specs: dict[str, Any], file_of_process: dict[str, str],
                lanes: dict[str, dict[str, tuple[str, ...]]], known_roles: Iterable[str] | None,
                known_forms: Iterable[str] | None, run_lint: bool
                ) -> list[tuple[str, str | None, str, str, dict[str, Any]]]:
    """(file, element id, reason, code, args) for every refused expression, script, timer, service call,
    lane and loop."""
    problems: list[tuple[str, str | None, str, str, dict[str, Any]]] = []
    forms = set(known_forms) if known_forms is not None else None
    roles = set(known_roles) if known_roles is not None else None
    for process_id, spec in specs.items():
        filename = file_of_process.get(process_id, process_id)
        file_lanes = lanes.get(filename, {})
        for task_spec in spec.task_specs.values():
            element = task_spec.bpmn_id
            if element is None:
                continue
            for reason, code, args in _spec_problems(task_spec, file_lanes, roles, forms):
                problems.append((filename, element, reason, code, args))
        if run_lint:
            problems.extend((filename, element, reason, code, args)
                            for element, code, args, reason in lint.check_process(spec, specs))
    return problems


def _spec_problems(task_spec: Any, file_lanes: dict[str, tuple[str, ...]], roles: set[str] | None,
                   forms: set[str] | None) -> list[Found]:
    problems: list[Found] = []
    for label, text in _expressions(task_spec):
        problems += [(f"{label}: {p}", "expression", {"where": label, "detail": str(p)})
                     for p in checker.check_expression(text)]
    for label, text in _scripts(task_spec):
        problems += [(f"{label}: {p}", "script", {"where": label, "detail": str(p)})
                     for p in checker.check_script(text)]
    definition = getattr(task_spec, "event_definition", None)
    if isinstance(definition, TimerEventDefinition):
        problems += [(p, "timer", {"detail": p}) for p in check_timer(definition)]
    if isinstance(getattr(task_spec, "operation_name", None), str):  # a service task (ours or stock)
        params = task_spec.operation_params
        literals = {name: value for name, p in params.items() if (value := _literal(p["value"])) is not _NOT_LITERAL}
        problems += [(p, "service", {"operator": task_spec.operation_name, "detail": p})
                     for p in services.check_call(task_spec.operation_name, set(params), literals)]
        if task_spec.operation_name == "notify":
            problems += _recipient_problems(literals.get("recipients"), file_lanes, roles)
    if task_spec.manual:
        problems += _human_task_problems(task_spec, file_lanes, roles, forms)
    return problems


RECIPIENT_KEYS = ("initiator", "involved")
RECIPIENT_PREFIXES = ("assignee:", "unit_heads:")


def _recipient_problems(recipients: Any, file_lanes: dict[str, tuple[str, ...]], roles: set[str] | None
                        ) -> list[Found]:
    """A notification must reach somebody: every recipient key is a known role or a known kind of key."""
    if not isinstance(recipients, list):
        return []
    problems = []
    for key in recipients:
        if not isinstance(key, str) or key in RECIPIENT_KEYS or key.startswith(RECIPIENT_PREFIXES):
            continue
        if key.startswith("lane:"):
            if key[5:] not in file_lanes:
                problems.append((f"recipient '{key}' names no lane of this file", "recipient_lane", {"key": key}))
        elif roles is not None and key not in roles:
            problems.append((f"recipient '{key}' is not a role (nor initiator, involved, lane:, assignee:, "
                             "unit_heads:)", "recipient_role", {"key": key}))
    return problems


def _expressions(task_spec: Any) -> list[tuple[str, str]]:
    found: list[tuple[str, str]] = []
    for condition, target in getattr(task_spec, "cond_task_specs", []) or []:
        text = getattr(condition, "args", [condition])[0] if condition is not None else None
        if isinstance(text, str) and text:
            found.append((f"condition to '{target}'", text))
    definition = getattr(task_spec, "event_definition", None)
    for attr in ("expression",):
        value = getattr(definition, attr, None)
        if isinstance(value, str) and value and not isinstance(definition, TimerEventDefinition):
            found.append(("event payload", value))
    for attr in ("cardinality", "condition"):
        value = getattr(task_spec, attr, None)
        if isinstance(value, str) and value:
            found.append((attr, value))
    if isinstance(getattr(task_spec, "operation_name", None), str):  # a service task (ours or stock)
        found += [(f"parameter '{n}'", p["value"]) for n, p in task_spec.operation_params.items()]
    # A business rule task's decision table is checked with its own file (dmn_checks), cell by cell.
    return found + _property_expressions(task_spec)


def _property_expressions(task_spec: Any) -> list[tuple[str, str]]:
    """Task properties that hold expressions: the due time, the unit, the direct assignee."""
    props = (getattr(task_spec, "extensions", None) or {}).get("properties", {})
    return [(name, props[name]) for name in ("dueAt", "unit", "assignee") if props.get(name)]


def _scripts(task_spec: Any) -> list[tuple[str, str]]:
    found = []
    for attr, label in (("script", "script"), ("prescript", "pre-script"), ("postscript", "post-script")):
        value = getattr(task_spec, attr, None)
        if isinstance(value, str) and value.strip():
            found.append((label, value))
    return found


def _human_task_problems(task_spec: Any, file_lanes: dict[str, tuple[str, ...]], roles: set[str] | None,
                         forms: set[str] | None) -> list[Found]:
    problems: list[Found] = []
    if not task_spec.lane:
        problems.append(("user task is not in a lane", "no_lane", {"lanes": ", ".join(file_lanes) or "-"}))
    elif not file_lanes.get(task_spec.lane):
        problems.append((f"lane '{task_spec.lane}' names no roles (spiffworkflow:property name=\"roles\")",
                         "lane_roles", {"lane": task_spec.lane}))
    elif roles is not None:
        unknown = [r for r in file_lanes[task_spec.lane] if r not in roles]
        if unknown:
            problems.append((f"lane '{task_spec.lane}' names unknown roles: {', '.join(unknown)}", "lane_unknown_roles",
                             {"lane": task_spec.lane, "roles": ", ".join(unknown)}))
    props = task_spec.extensions.get("properties", {})
    for key in ("formJsonSchemaFilename", "formUiSchemaFilename"):
        name = props.get(key)
        if name and name != GENERATED_FORM and forms is not None and name not in forms:
            problems.append((f"form '{name}' does not exist in forms/", "form_missing", {"form": name}))
    target = props.get("returnTo")
    other = getattr(task_spec, "_wf_spec", None) and task_spec._wf_spec.task_specs.get(target) if target else None
    if target and (other is None or not other.manual):
        problems.append((f"returnTo '{target}' is not a user task of this process", "return_to", {"task": target}))
    kind = props.get("ledger")
    if kind is not None and kind not in services.LEDGER_KINDS:
        problems.append((f"ledger kind '{kind}' is not one of {', '.join(services.LEDGER_KINDS)}", "ledger_kind",
                         {"kind": kind, "choices": ", ".join(services.LEDGER_KINDS)}))
    return problems


def give_generated_forms(specs: dict[str, Any]) -> bool:
    """Give every user or manual task without a form the generated confirmation form; True if any got it."""
    given = False
    for spec in specs.values():
        for task_spec in spec.task_specs.values():
            if not task_spec.manual:
                continue
            props = task_spec.extensions.setdefault("properties", {})
            if not props.get("formJsonSchemaFilename"):
                props["formJsonSchemaFilename"] = GENERATED_FORM
                given = True
    return given


_NOT_LITERAL = object()


def _literal(text: Any) -> Any:
    """The constant an expression spells (`"quick_report"`, `["monitor"]`), else `_NOT_LITERAL`."""
    try:
        return ast.literal_eval(text) if isinstance(text, str) else _NOT_LITERAL
    except (ValueError, SyntaxError, TypeError, MemoryError, RecursionError):
        return _NOT_LITERAL


_TIMER_LITERAL = re.compile(r"""^\s*(['"])([^'"]{1,64})\1\s*$""")
_TIMER_NAME = re.compile(r"^\s*[A-Za-z][A-Za-z0-9_]{0,63}\s*$")


def check_timer(definition: TimerEventDefinition) -> list[str]:
    """A timer is a quoted ISO-8601 literal or one variable name (docs/security.md §1 Timers)."""
    text = definition.expression or ""
    if _TIMER_NAME.match(text):
        return []
    match = _TIMER_LITERAL.match(text)
    if not match:
        return [f"timer '{text}': use a quoted ISO-8601 value or a single variable name"]
    try:
        check_timer_value(match.group(2), cycle=isinstance(definition, CycleTimerEventDefinition))
    except ValueError as exc:
        return [f"timer '{text}': {exc}"]
    return []


def check_timer_value(value: str, *, cycle: bool) -> None:
    """Raise ValueError unless `value` is a safe duration, dated time (with offset) or cycle."""
    if cycle:
        match = re.fullmatch(r"R(\d{1,6})/(.+)", value)
        if not match or int(match.group(1)) > MAX_CYCLES:
            raise ValueError(f"a cycle needs a repeat count up to {MAX_CYCLES}, e.g. R3/PT1H")
        for part in match.group(2).split("/"):
            _check_time_or_duration(part, allow_months=True)
        TimerEventDefinition.parse_iso_recurring_interval(value)
        return
    _check_time_or_duration(value, allow_months=False)


def _check_time_or_duration(part: str, *, allow_months: bool) -> None:
    if part.upper().startswith("P"):
        if allow_months and re.fullmatch(r"P\d{1,3}[MY]", part):
            return
        helpers.parse_duration(part)
        return
    helpers.parse_datetime(part)
