"""The script engine every workflow gets: all evaluation through the allow-list evaluator,
service tasks turned into side-effect requests, timer values and multi-instance sizes checked.
"""

from __future__ import annotations

import json
from typing import Any

from SpiffWorkflow.bpmn.exceptions import WorkflowTaskException
from SpiffWorkflow.bpmn.script_engine import PythonScriptEngine
from SpiffWorkflow.bpmn.script_engine.python_environment import BasePythonScriptEngineEnvironment
from SpiffWorkflow.bpmn.specs.event_definitions.timer import TimerEventDefinition

from app.engine import environment, evaluator, services
from app.engine.services import SideEffect
from app.engine.spec_checks import check_timer_value

MAX_INSTANCES = 200


class _SafeEnvironment(BasePythonScriptEngineEnvironment):
    """Routes every evaluation SpiffWorkflow makes through the allow-list evaluator."""

    def evaluate(self, expression: str, context: dict[str, Any], external_context: Any = None) -> Any:
        return evaluator.evaluate(expression, context, external_context)

    def execute(self, script: str, context: dict[str, Any], external_context: Any = None) -> bool:
        evaluator.execute(script, context, external_context)
        return True

    def call_service(self, context: dict[str, Any], **kwargs: Any) -> str:
        raise evaluator.EvaluationError("service calls go through the script engine")


class SafeScriptEngine(PythonScriptEngine):
    """The only script engine our workflows get; collects service-task requests."""

    def __init__(self) -> None:
        super().__init__(environment=_SafeEnvironment())
        self.requests: list[SideEffect] = []

    def evaluate(self, task: Any, expression: str, external_context: Any = None) -> Any:
        value = super().evaluate(task, expression, external_context)
        if expression == getattr(task.task_spec, "cardinality", None):
            _check_cardinality(value, task)
        definition = getattr(task.task_spec, "event_definition", None)
        for timer in getattr(definition, "event_definitions", None) or [definition]:
            if isinstance(timer, TimerEventDefinition) and timer.expression == expression:
                _check_timer_value(timer, value, task)
        return value

    def validate(self, expression: str) -> None:
        problems = evaluator.check_expression(expression)
        if problems:
            raise SyntaxError("; ".join(str(p) for p in problems))

    def call_service(self, task: Any, operation_name: str = "", operation_params: Any = None,
                     **kwargs: Any) -> str:
        params = {name: spec["value"] for name, spec in (operation_params or {}).items()}
        checked = services.request(operation_name, params)
        operator = services.OPERATORS[operation_name]
        if operator.kind == "query":
            try:
                answer = environment.current().query(operation_name, checked)
                return json.dumps(answer, ensure_ascii=False)
            except (environment.EnvironmentError_, TypeError, ValueError) as exc:
                raise services.ServiceError(f"{operation_name}: {exc}") from exc
        effect = SideEffect(
            operator=operation_name,
            params=checked,
            task_spec=task.task_spec.bpmn_id or task.task_spec.name,
            process_id=task.workflow.spec.name,
            task_guid=str(task.id),
            data=json.loads(json.dumps(task.data, default=str)) if operator.with_data else {},
        )
        record = environment.current().record
        if operator.immediate and record is not None:
            record(effect)
        else:
            self.requests.append(effect)
        return json.dumps({"requested": True})


def _check_timer_value(timer: TimerEventDefinition, value: Any, task: Any) -> None:
    """A timer's run-time value must be as safe as a literal checked at deploy (security.md §1)."""
    try:
        if not isinstance(value, str):
            raise ValueError("a timer value must be an ISO-8601 string")
        check_timer_value(value, cycle=type(timer).__name__ == "CycleTimerEventDefinition")
    except ValueError as exc:
        raise WorkflowTaskException(f"timer value {value!r} refused: {exc}", task=task) from exc


def _check_cardinality(value: Any, task: Any) -> None:
    """A multi-instance task creates all its instances at once; keep that number humane."""
    if not isinstance(value, int) or isinstance(value, bool) or not 0 <= value <= MAX_INSTANCES:
        raise WorkflowTaskException(
            f"multi-instance cardinality {value!r} refused: must be a whole number up to {MAX_INSTANCES}", task=task)
