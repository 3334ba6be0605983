"""Advance instances: start, complete a user task, fire timers, deliver a message → `Step`.

Every advance runs engine steps under a budget (count and wall time) and returns plain data: the
new state, the user tasks now open, side-effect requests, the next timer due and whether the
instance ended. Failures come back as `Step.failure` with the element id, never as a hung call.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any
from uuid import UUID

from SpiffWorkflow.bpmn.specs.event_definitions.message import (
    MessageEventDefinition as MessageEventDefinitionBase,
)
from SpiffWorkflow.bpmn.specs.event_definitions.timer import TimerEventDefinition
from SpiffWorkflow.bpmn.util import BpmnEvent
from SpiffWorkflow.exceptions import SpiffWorkflowException, WorkflowException
from SpiffWorkflow.spiff.specs.event_definitions import MessageEventDefinition
from SpiffWorkflow.util.task import TaskState

from app.engine import compaction, environment, evaluator, services
from app.engine.environment import Environment
from app.engine.scripting import SafeScriptEngine
from app.engine.services import SideEffect
from app.engine.state import LoadedSpec, dump_state, keep_warm, load_state, new_workflow, resume_state

DEFAULT_STEP_BUDGET = 500
DEFAULT_TIME_BUDGET = 5.0
MAX_DATA_BYTES = 256 * 1024
MAX_STATE_BYTES = 2 * 1024 * 1024


class StepBudgetExceeded(Exception):
    """An advance ran more engine steps (or longer) than its budget."""


class RouteRefused(Exception):
    """A gateway had no outgoing flow for the data; the submission that led there is refused."""

    def __init__(self, element_id: str, element_name: str, message: str):
        super().__init__(message)
        self.element_id = element_id
        self.element_name = element_name
        self.message = message


class TaskNotReady(Exception):
    """The user task is not open in this instance (already completed, cancelled or unknown)."""


@dataclass(frozen=True)
class HumanTask:
    """A user or manual task that is waiting for a person."""

    guid: str
    spec_id: str
    process_id: str
    name: str
    lane: str | None
    form: str | None
    ui_form: str | None
    documentation: str | None
    due_at: datetime | None
    data: dict[str, Any]
    unit: str | None = None  # the organisation unit whose people do it (property `unit`)
    assignee: str | None = None  # the username it goes to directly (property `assignee`)
    # property `returnTo`: the guid of that task's last completion in this (sub)process run, whose
    # holder gets this task back, claimed (a return loop); None on the first round
    return_to: str | None = None


@dataclass(frozen=True)
class Failure:
    """Why an advance stopped in error, and where."""

    element_id: str | None
    reason: str


@dataclass
class Step:
    """The outcome of one advance."""

    state: str
    ready: list[HumanTask]
    side_effects: list[SideEffect]
    next_timer_at: datetime | None
    ended: bool
    data: dict[str, Any]
    failure: Failure | None = None
    completed_elements: list[str] = field(default_factory=list)
    warnings: list[Failure] = field(default_factory=list)
    state_kept: bool = False  # the advance was discarded: `state` is the one before it


class _Guard:
    def __init__(self, steps: int, seconds: float):
        self.steps_left = steps
        self.deadline = time.monotonic() + seconds
        self.completed: list[str] = []

    def __call__(self, task: Any) -> None:
        self.steps_left -= 1
        if self.steps_left < 0 or time.monotonic() > self.deadline:
            raise StepBudgetExceeded(
                f"more than the allowed engine steps without reaching a wait state "
                f"(last element '{task.task_spec.bpmn_id or task.task_spec.name}')"
            )
        if task.task_spec.bpmn_id:
            self.completed.append(task.task_spec.bpmn_id)


@dataclass
class Budget:
    """Limits for one advance."""

    steps: int = DEFAULT_STEP_BUDGET
    seconds: float = DEFAULT_TIME_BUDGET


def start(spec: LoadedSpec, data: dict[str, Any], budget: Budget | None = None,
          env: Environment | None = None) -> Step:
    """Create an instance with `data` and run it to its first wait state."""
    engine = SafeScriptEngine()
    workflow = new_workflow(spec, engine)
    workflow.task_tree.data.update(data)
    start_task = workflow.get_next_task(state=TaskState.READY, spec_name="Start")
    if start_task is not None:
        start_task.data.update(data)
    return _advance(workflow, engine, budget or Budget(), action=None, previous=None, env=env)


def start_by_message(spec: LoadedSpec, name: str, payload: dict[str, Any], data: dict[str, Any],
                     budget: Budget | None = None, env: Environment | None = None) -> Step:
    """Create an instance of a process that begins with a message start event and deliver `name`.

    Refused with TaskNotReady when the process does not start on that message.
    """
    engine = SafeScriptEngine()
    workflow = new_workflow(spec, engine)
    workflow.task_tree.data.update(data)
    guard = _Guard(*_limits(budget or Budget()))

    def action() -> None:
        workflow.do_engine_steps(will_complete_task=guard)
        if name not in waiting_messages(workflow):
            raise TaskNotReady(f"the process does not start on message '{name}'")
        workflow.send_event(BpmnEvent(MessageEventDefinition(name), payload))

    return _advance(workflow, engine, budget or Budget(), action=action, previous=None, guard=guard, env=env)


def complete(spec: LoadedSpec, state: str, task_guid: str, data: dict[str, Any],
             budget: Budget | None = None, env: Environment | None = None) -> Step:
    """Complete an open user task with `data` and run to the next wait state."""
    engine = SafeScriptEngine()
    workflow = resume_state(state, spec, engine)
    task = _open_task(workflow, task_guid)

    def action() -> None:
        task.data.update(data)
        task.run()

    return _advance(workflow, engine, budget or Budget(), action=action, previous=state, env=env)


def fire_timers(spec: LoadedSpec, state: str, budget: Budget | None = None, env: Environment | None = None) -> Step:
    """Fire every timer of the instance that is due by the application clock."""
    engine = SafeScriptEngine()
    workflow = resume_state(state, spec, engine)
    return _advance(workflow, engine, budget or Budget(), action=workflow.refresh_timers, previous=state, env=env)


def send_message(spec: LoadedSpec, state: str, name: str, payload: dict[str, Any],
                 budget: Budget | None = None, env: Environment | None = None) -> Step:
    """Deliver a message to the instance; refused with TaskNotReady if nothing waits for it.

    Timers already due fire first: an event-based gateway whose timer has passed took that branch,
    even if nobody had fired it yet, and must not take the message branch as well.
    """
    engine = SafeScriptEngine()
    workflow = resume_state(state, spec, engine)

    def action() -> None:
        workflow.refresh_timers()
        workflow.do_engine_steps(will_complete_task=guard)
        if name not in waiting_messages(workflow):
            raise TaskNotReady(f"the instance is not waiting for message '{name}'")
        workflow.send_event(BpmnEvent(MessageEventDefinition(name), payload))

    guard = _Guard(*_limits(budget or Budget()))
    return _advance(workflow, engine, budget or Budget(), action=action, previous=state, guard=guard, env=env)


def resume_service(spec: LoadedSpec, state: str, task_guid: str, answer: Any,
                   budget: Budget | None = None, env: Environment | None = None) -> Step:
    """Complete a service task that waits for an asynchronous call, with the call's answer in its
    result variable, and run on. TaskNotReady when the task does not wait (any more)."""
    engine = SafeScriptEngine()
    workflow = resume_state(state, spec, engine)
    try:
        task = workflow.get_task_from_id(UUID(task_guid))
    except (ValueError, WorkflowException, KeyError) as exc:
        raise TaskNotReady(f"task {task_guid} is not part of this instance") from exc
    waiting = getattr(task.task_spec, "is_waiting", None) if task is not None else None
    if task is None or task.state != TaskState.STARTED or waiting is None or not waiting(task):
        raise TaskNotReady(f"task {task_guid} does not wait for an answer")

    def action() -> None:
        task.data[task.task_spec.result_variable] = answer
        task.complete()

    return _advance(workflow, engine, budget or Budget(), action=action, previous=state, env=env)


def _open_task(workflow: Any, task_guid: str) -> Any:
    try:
        task = workflow.get_task_from_id(UUID(task_guid))
    except (ValueError, WorkflowException, KeyError) as exc:
        raise TaskNotReady(f"task {task_guid} is not part of this instance") from exc
    if task is None or task.state != TaskState.READY or not task.task_spec.manual:
        raise TaskNotReady(f"task {task_guid} is not open")
    return task


def _limits(budget: Budget) -> tuple[int, float]:
    return budget.steps, budget.seconds


def _advance(workflow: Any, engine: SafeScriptEngine, budget: Budget, action: Any, previous: str | None,
             guard: _Guard | None = None, env: Environment | None = None) -> Step:
    guard = guard or _Guard(*_limits(budget))
    failure = None
    try:
        with environment.active(env):
            if action is not None:
                action()
            workflow.do_engine_steps(will_complete_task=guard)
    except StepBudgetExceeded as exc:
        failure = Failure(_element_of(workflow), str(exc))
    except SpiffWorkflowException as exc:
        refused = _route_refusal(exc)
        if refused is not None:
            raise refused from exc
        failure = Failure(_failed_element(exc, workflow), _describe(exc))
    except services.ServiceError as exc:
        failure = Failure(_element_of(workflow), str(exc))
    except (IndexError, KeyError, AttributeError, TypeError, ValueError) as exc:
        # A defect inside the engine's own code (an event-based gateway indexing a child it never
        # predicted, say) fails this instance like a script error: the completion that led here is
        # kept, the instance waits for an admin, and the request gets no 500.
        failure = Failure(_element_of(workflow), f"{type(exc).__name__}: {exc}")
    with environment.active(env):  # due times of new tasks may read the profile too
        return _step(workflow, engine, guard, failure, previous)


def _step(workflow: Any, engine: SafeScriptEngine, guard: _Guard, failure: Failure | None,
          previous: str | None) -> Step:
    state = dump_state(workflow)
    if len(state) > MAX_STATE_BYTES:
        reason = f"instance state larger than {MAX_STATE_BYTES // 1024} kB"
        reason += f" ({failure.reason})" if failure else ""
        if previous is None:
            raise RouteRefused(_element_of(workflow) or "", "", reason)
        return Step(state=previous, ready=[], side_effects=[], next_timer_at=None, ended=False, data={},
                    failure=Failure(failure.element_id if failure else None, reason), state_kept=True)
    if failure is None:  # the next step here continues it; a failed step's object may be mid-change: restored
        keep_warm(state, workflow)
    ready_tasks = _ready_manual_tasks(workflow)
    warnings: list[Failure] = []
    return Step(
        state=state,
        ready=[_human_task(task, warnings) for task in ready_tasks],
        side_effects=list(engine.requests),
        next_timer_at=_next_timer(workflow),
        ended=workflow.completed,
        data=_current_data(workflow, ready_tasks),
        failure=failure,
        completed_elements=guard.completed,
        warnings=warnings,
    )


def _current_data(workflow: Any, ready: list[Any]) -> dict[str, Any]:
    """What the instance knows now: the data of its newest open user task, else of its last step."""
    if workflow.completed:
        return dict(workflow.data)
    if ready:
        return dict(max(ready, key=lambda t: t.last_state_change).data)
    completed = [t for t in _all_tasks(workflow) if t.state == TaskState.COMPLETED]
    if completed:
        return dict(max(completed, key=lambda t: t.last_state_change).data)
    return dict(workflow.data)


def _all_tasks(workflow: Any) -> list[Any]:
    found = list(workflow.tasks.values())
    for sub in workflow.subprocesses.values():
        found.extend(sub.tasks.values())
    return found


def _ready_manual_tasks(workflow: Any) -> list[Any]:
    tasks = workflow.get_tasks(state=TaskState.READY, manual=True)
    scanned = [t for t in _all_tasks(workflow) if t.state == TaskState.READY and t.task_spec.manual]
    if len(scanned) != len(tasks):
        # The task iterator stops at a depth cap; a mismatch means the tree is too deep to trust.
        raise StepBudgetExceeded("task tree deeper than the engine can list")
    return tasks


def _human_task(task: Any, warnings: list[Failure]) -> HumanTask:
    spec = task.task_spec
    props = (getattr(spec, "extensions", None) or {}).get("properties", {})
    due_at = None
    if props.get("dueAt"):
        try:
            due_at = _parse_due(evaluator.evaluate(props["dueAt"], task.data))
        except (evaluator.EvaluationError, ValueError) as exc:
            # The task is open either way; a deadline that cannot be computed is reported, not fatal.
            warnings.append(Failure(spec.bpmn_id, f"dueAt '{props['dueAt']}' could not be evaluated: {exc}"))
    unit, assignee = (_text_property(props, name, task, warnings) for name in ("unit", "assignee"))
    return HumanTask(
        guid=str(task.id),
        spec_id=spec.bpmn_id or spec.name,
        process_id=task.workflow.spec.name,
        name=spec.bpmn_name or spec.bpmn_id or spec.name,
        lane=spec.lane,
        form=props.get("formJsonSchemaFilename"),
        ui_form=props.get("formUiSchemaFilename"),
        documentation=spec.documentation,
        due_at=due_at,
        data=dict(task.data),
        unit=unit,
        assignee=assignee,
        return_to=_last_completed(task, props["returnTo"]) if props.get("returnTo") else None,
    )


def _last_completed(task: Any, spec_id: str) -> str | None:
    """The guid of the latest completed task of element `spec_id` in `task`'s own (sub)process run."""
    done = [t for t in task.workflow.get_tasks(state=TaskState.COMPLETED) if t.task_spec.bpmn_id == spec_id]
    return str(max(done, key=lambda t: t.last_state_change).id) if done else None


def _text_property(props: dict[str, Any], name: str, task: Any, warnings: list[Failure]) -> str | None:
    """A task property holding an expression that names a unit code or a username (blank: none)."""
    if not props.get(name):
        return None
    try:
        value = evaluator.evaluate(props[name], task.data)
    except evaluator.EvaluationError as exc:
        warnings.append(Failure(task.task_spec.bpmn_id, f"{name} '{props[name]}' could not be evaluated: {exc}"))
        return None
    if value in (None, ""):
        return None
    if not isinstance(value, str) or len(value) > 64:
        warnings.append(Failure(task.task_spec.bpmn_id, f"{name} '{props[name]}' is not a code or username"))
        return None
    return value


def _parse_due(value: Any) -> datetime | None:
    if value is None or value == "":
        return None
    if not isinstance(value, str):
        raise ValueError("a due time must be an ISO-8601 string")
    parsed = datetime.fromisoformat(value)
    if parsed.tzinfo is None:
        raise ValueError(f"due time '{value}' has no UTC offset")
    return parsed.astimezone(UTC)


def _waiting(workflow: Any) -> list[tuple[Any, Any]]:
    """(task, event definition) for everything the instance waits for, event-based gateways unpacked."""
    found = []
    for task in workflow.event_manager.tasks.values():
        definition = task.task_spec.event_definition
        for item in getattr(definition, "event_definitions", None) or [definition]:
            found.append((task, item))
    return found


def _next_timer(workflow: Any) -> datetime | None:
    times = []
    for task, definition in _waiting(workflow):
        if not isinstance(definition, TimerEventDefinition):
            continue
        value = task.internal_data.get("event_value")
        if isinstance(value, dict):  # cycle timers keep {"cycles", "next", "duration"}
            value = value.get("next") if value.get("cycles", 0) != 0 else None
        if isinstance(value, str):
            parsed = _timer_time(value)
            if parsed is not None:
                times.append(parsed)
    return min(times) if times else None


def waiting_messages(workflow: Any) -> set[str]:
    """Names of the messages an instance waits for."""
    return {d.name for _, d in _waiting(workflow) if isinstance(d, MessageEventDefinitionBase)}


def _timer_time(value: str) -> datetime | None:
    try:
        parsed = datetime.fromisoformat(value)
    except ValueError:
        return None
    return parsed.astimezone(UTC) if parsed.tzinfo else parsed.replace(tzinfo=UTC)


def _element_of(workflow: Any) -> str | None:
    for task in workflow.get_tasks(state=TaskState.READY | TaskState.ERROR):
        if not task.task_spec.manual and task.task_spec.bpmn_id:
            return task.task_spec.bpmn_id
    return None


def _failed_element(exc: SpiffWorkflowException, workflow: Any) -> str | None:
    task = getattr(exc, "task", None)
    if task is not None:
        return task.task_spec.bpmn_id or task.task_spec.name
    spec = getattr(exc, "task_spec", None)
    if spec is not None:
        return getattr(spec, "bpmn_id", None) or spec.name
    return _element_of(workflow)


def _describe(exc: SpiffWorkflowException) -> str:
    notes = " ".join(getattr(exc, "__notes__", []) or [])
    cause = getattr(exc, "exception", None) or exc.__cause__
    text = str(exc)
    if cause is not None and str(cause) not in text:
        text = f"{text}: {cause}"
    return f"{text} {notes}".strip()


def _route_refusal(exc: SpiffWorkflowException) -> RouteRefused | None:
    spec = getattr(exc, "task_spec", None) or getattr(getattr(exc, "task", None), "task_spec", None)
    if spec is None or "No conditions satisfied" not in str(exc):
        return None
    return RouteRefused(
        element_id=spec.bpmn_id or spec.name,
        element_name=spec.bpmn_name or spec.bpmn_id or spec.name,
        message=(spec.documentation or "").strip(),
    )


def element_status(spec: LoadedSpec, state: str) -> dict[str, dict[str, dict[str, Any]]]:
    """Per process id, per element id: its most telling status and how often it completed (the
    subprocesses left out of the state by compaction count through their stored summary)."""
    workflow = load_state(state, spec, SafeScriptEngine())
    result = compaction.summarize(_all_tasks(workflow), {})
    return compaction.merge(getattr(workflow, "finished_elements", None) or {}, result)


def element_names(spec: LoadedSpec) -> dict[str, str]:
    """Display name of every named element (task, event, gateway) of the process and what it calls."""
    names: dict[str, str] = {}
    for process in (spec.spec, *spec.subprocess_specs.values()):
        for task_spec in process.task_specs.values():
            if getattr(task_spec, "bpmn_id", None) and getattr(task_spec, "bpmn_name", None):
                names.setdefault(task_spec.bpmn_id, task_spec.bpmn_name)
    return names


def process_names(spec: LoadedSpec) -> dict[str, str]:
    """Display name of the process and of every process it calls."""
    names = {spec.spec.name: spec.spec.description or spec.spec.name}
    names.update({pid: sub.description or pid for pid, sub in spec.subprocess_specs.items()})
    return names
