"""Service-task operators: each turns its parameters into a request for a side effect.

Two kinds of operator. An *effect* never performs anything: it checks its parameters and returns a
`SideEffect` that the operations layer stores in the same transaction as the state change (an outbox
row, an in-app notification, a ledger line, a new incident). A *query* asks the environment for
read-only data (statistics from the ledger) and its answer lands in the task's result variable.
Diagrams name an operator and give it parameter expressions; the deploy checks refuse unknown
operators, unknown or missing parameters, and literal values outside a parameter's choices.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any


class ServiceError(Exception):
    """A service task's parameters were refused."""


@dataclass(frozen=True)
class Parameter:
    """One declared parameter of an operator."""

    name: str
    kind: type | tuple[type, ...]
    required: bool = True
    description: str = ""
    choices: tuple[str, ...] = ()


@dataclass(frozen=True)
class Operator:
    """A registered service-task operator."""

    name: str
    description: str
    parameters: tuple[Parameter, ...]
    check: Callable[[dict[str, Any]], None] = lambda params: None
    kind: str = "effect"  # effect | query | async (the task waits for the answer: runner.resume_service)
    with_data: bool = False  # the effect carries a copy of the task data (the ledger picks fields)
    immediate: bool = False  # handed to the environment's `record` during the advance (see environment.py)

    def parameter(self, name: str) -> Parameter | None:
        return next((p for p in self.parameters if p.name == name), None)


@dataclass(frozen=True)
class SideEffect:
    """A request produced by a service task, carried out by the application after commit."""

    operator: str
    params: dict[str, Any]
    task_spec: str
    process_id: str
    task_guid: str
    data: dict[str, Any] = field(default_factory=dict)


def _check_notify(params: dict[str, Any]) -> None:
    recipients = params.get("recipients")
    if not isinstance(recipients, list) or not all(isinstance(r, str) for r in recipients):
        raise ServiceError("notify: 'recipients' must be a list of role codes or recipient keys")
    if not recipients:
        raise ServiceError("notify: 'recipients' is empty")


# Ledger entry kinds a diagram may write with the `ledger` operator (user tasks write theirs through
# the task property `ledger`); app/operations/ledger_kinds.py says what each one records.
LEDGER_KINDS = (
    "registered", "level_proposed", "level_confirmed", "leader_confirmed", "deadlines_set", "level_changed",
    "instruction_requested", "instruction_decided", "response_rejected", "external_report", "file_record",
    "task_force", "investigation", "consultation", "superior_measures", "dispatch", "unit_feedback",
    "release_drafted", "release_review", "external_approval", "release_published",
    "press_conference_requested", "spokesperson_designated", "press_conference_prepared", "press_conference",
    "false_info", "clarification_review", "false_info_result", "commentary", "monitor_report", "regrade",
    "update_received",
    "follow_up", "reply_plan", "reply", "subsided", "aftermath_watch", "summary", "summary_review",
    "accountability", "plan_revision", "deadline_missed", "notice", "closed",
)
DEADLINES = ("report", "first_release", "press_conference", "national", "summary", "dispatch")


def _check_ledger(params: dict[str, Any]) -> None:
    if params.get("kind") == "deadline_missed" and params.get("deadline") not in DEADLINES:
        raise ServiceError(f"ledger: kind 'deadline_missed' needs 'deadline', one of {', '.join(DEADLINES)}")


def _check_fields(params: dict[str, Any]) -> None:
    for name in ("data", "update"):
        value = params.get(name)
        if value is not None and not all(isinstance(k, str) for k in value):
            raise ServiceError(f"'{name}' must be a dict with text keys")


OPERATORS: dict[str, Operator] = {
    op.name: op
    for op in (
        Operator(
            name="notify",
            description="Send a notification of a registered type to recipients named by role",
            parameters=(
                Parameter("template", str, description="notification type, e.g. quick_report"),
                Parameter("recipients", list, description="role codes, 'initiator', 'involved' (everyone who "
                          "has held or done a task of the instance), 'lane:<lane name>', 'assignee:<task id>', "
                          "'unit_heads:<data name>'"),
                Parameter("urgent", bool, required=False, description="also use urgent channels"),
                Parameter("once", str, required=False,
                          description="send only the first time for this value in the instance (e.g. the "
                                      "deadline), however many paths ask"),
                Parameter("until", str, required=False,
                          description="not sent at or after this time (a warning before a deadline that has "
                                      "already passed, when the timer fires late)"),
            ),
            check=_check_notify,
            with_data=True,  # unit_heads:<name> and the message text read the data of the task that asked
        ),
        Operator(
            name="ledger",
            description="Write a line in the incident ledger (台账); the kind decides what it records",
            parameters=(
                Parameter("kind", str, description="entry kind", choices=LEDGER_KINDS),
                Parameter("deadline", str, required=False, description="for deadline_missed: which deadline",
                          choices=DEADLINES),
                Parameter("due_at", str, required=False,
                          description="for deadline_missed: the due time, when it is not the incident's own "
                                      "(a dispatched task's row)"),
                Parameter("subject", str, required=False,
                          description="for deadline_missed: whose deadline (a unit code), so two units late at "
                                      "once are two lines"),
                Parameter("note", str, required=False, description="a line of text for the ledger"),
            ),
            check=_check_ledger,
            with_data=True,
            immediate=True,
        ),
        Operator(
            name="start_incident",
            description="Open a new incident (its own yq_incident instance) from a lead, with data prefilled",
            parameters=(Parameter("data", dict, description="fields the new incident starts with"),),
            check=_check_fields,
            with_data=True,
        ),
        Operator(
            name="forward_update",
            description="Deliver msg_yq_update to the running incident with this number, and note it in "
                        "its ledger",
            parameters=(
                Parameter("incident_no", str, description="the incident number, e.g. YQ-2026-0001"),
                Parameter("update", dict, description="what is new (links, metrics, note)"),
            ),
            check=_check_fields,
            with_data=True,
        ),
        Operator(
            name="call_system",
            description="Send a JSON object to an external system registered by an admin (a webhook channel, "
                        "by name) and wait for its answer; the answer ({status, body}) goes into the result "
                        "variable. The call is retried while the system is unreachable; the instance waits",
            parameters=(
                Parameter("channel", str, description="the name of the registered channel (never an address)"),
                Parameter("payload", dict, description="the JSON object to send"),
            ),
            kind="async",
        ),
        Operator(
            name="monthly_stats",
            description="Statistics of the incident ledger for a period (query)",
            parameters=(
                Parameter("period_start", str, description="ISO datetime, inclusive"),
                Parameter("period_end", str, description="ISO datetime, exclusive"),
            ),
            kind="query",
        ),
        Operator(
            name="incident_record",
            description="This incident's ledger: timeline and deadlines met or missed (query)",
            parameters=(),
            kind="query",
        ),
    )
}


def check_call(name: str, param_names: set[str], literals: dict[str, Any] | None = None) -> list[str]:
    """Problems with a service task's operator name and parameters (deploy-time check).

    `literals` maps parameter names whose expression is a constant to that constant; constants
    outside a parameter's choices are refused here rather than when an instance reaches the task.
    """
    operator = OPERATORS.get(name)
    if operator is None:
        return [f"unknown service operator '{name}' (known: {', '.join(sorted(OPERATORS))})"]
    problems = [f"operator '{name}' has no parameter '{p}'" for p in sorted(param_names)
                if operator.parameter(p) is None]
    problems += [f"operator '{name}' needs parameter '{p.name}'" for p in operator.parameters
                 if p.required and p.name not in param_names]
    for param, value in (literals or {}).items():
        spec = operator.parameter(param)
        if spec is not None and not isinstance(value, spec.kind):
            problems.append(f"operator '{name}': parameter '{param}' has the wrong type")
        elif spec is not None and spec.choices and value not in spec.choices:
            problems.append(f"operator '{name}': {param} {value!r} is not one of {', '.join(spec.choices)}")
    if not problems and literals is not None and set(literals) == param_names:
        try:
            operator.check(literals)
        except ServiceError as exc:
            problems.append(str(exc))
    return problems


def request(name: str, params: dict[str, Any]) -> dict[str, Any]:
    """Check evaluated parameters of a service call; returns the checked parameters."""
    operator = OPERATORS.get(name)
    if operator is None:
        raise ServiceError(f"unknown service operator '{name}'")
    checked: dict[str, Any] = {}
    for parameter in operator.parameters:
        if parameter.name not in params:
            if parameter.required:
                raise ServiceError(f"{name}: missing parameter '{parameter.name}'")
            continue
        value = params[parameter.name]
        if not isinstance(value, parameter.kind):
            raise ServiceError(f"{name}: parameter '{parameter.name}' has the wrong type")
        if parameter.choices and value not in parameter.choices:
            raise ServiceError(f"{name}: {parameter.name} {value!r} is not one of {', '.join(parameter.choices)}")
        checked[parameter.name] = value
    operator.check(checked)
    return checked


def operator_catalogue() -> list[dict[str, Any]]:
    """The registry as plain data, for the modeller's operator and parameter pickers."""
    return [{"name": op.name, "description": op.description, "kind": op.kind,
             "parameters": [{"name": p.name, "type": getattr(p.kind, "__name__", str(p.kind)),
                             "required": p.required, "description": p.description, "choices": list(p.choices)}
                            for p in op.parameters]}
            for op in OPERATORS.values()]
