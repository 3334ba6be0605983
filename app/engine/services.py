"""Service-task operators: each turns its parameters into a request for a side effect.

An operator never performs anything. It checks its parameters and returns a `SideEffect` that the
operations layer stores in the same transaction as the state change (an outbox row, an in-app
notification, a ledger line). Diagrams name an operator and give it parameter expressions; the
deploy checks refuse unknown operators and unknown or missing parameters.
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


@dataclass(frozen=True)
class Operator:
    """A registered service-task operator."""

    name: str
    description: str
    parameters: tuple[Parameter, ...]
    check: Callable[[dict[str, Any]], None] = lambda params: None

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


OPERATORS: dict[str, Operator] = {
    op.name: op
    for op in (
        Operator(
            name="notify",
            description="Send a notification of a registered type to recipients named by role",
            parameters=(
                Parameter("template", str, description="notification type, e.g. quick_report"),
                Parameter("recipients", list, description="role codes, 'initiator', 'lane:<lane name>', "
                                                          "'assignee:<task id>'"),
                Parameter("urgent", bool, required=False, description="also use urgent channels"),
                Parameter("once", str, required=False,
                          description="send only the first time for this value in the instance (e.g. the "
                                      "deadline), however many paths ask"),
            ),
            check=_check_notify,
        ),
    )
}


def check_call(name: str, param_names: set[str]) -> list[str]:
    """Problems with a service task's operator name and parameter names (deploy-time check)."""
    operator = OPERATORS.get(name)
    if operator is None:
        return [f"unknown service operator '{name}' (known: {', '.join(sorted(OPERATORS))})"]
    problems = [f"operator '{name}' has no parameter '{p}'" for p in sorted(param_names)
                if operator.parameter(p) is None]
    problems += [f"operator '{name}' needs parameter '{p.name}'" for p in operator.parameters
                 if p.required and p.name not in param_names]
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
        checked[parameter.name] = value
    operator.check(checked)
    return checked
