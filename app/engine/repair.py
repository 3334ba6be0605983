"""Admin repairs of a running instance: retry what failed, edit its data, move a timer.

Each repair loads the state, changes it, and runs engine steps like any advance, so the result is
a `Step` the operations store exactly as they store a task completion.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from SpiffWorkflow.bpmn.specs.event_definitions.timer import TimerEventDefinition
from SpiffWorkflow.util.task import TaskState

from app.engine.runner import (
    MAX_DATA_BYTES,
    Budget,
    Environment,
    Failure,
    HumanTask,
    Step,
    _advance,
    _all_tasks,
    _current_data,
    _human_task,
    _next_timer,
    _ready_manual_tasks,
    _timer_time,
    _waiting,
    waiting_messages,
)
from app.engine.scripting import SafeScriptEngine
from app.engine.state import LoadedSpec, dump_state, load_state

ACTIVE = TaskState.READY | TaskState.WAITING | TaskState.STARTED | TaskState.ERROR


class RepairRefused(Exception):
    """The repair does not apply to this state (nothing failed, no such timer, bad data)."""


@dataclass(frozen=True)
class WaitingTimer:
    """A timer the instance waits for."""

    guid: str
    process_id: str
    element_id: str
    name: str
    due_at: datetime | None
    cycle: bool


def retry(spec: LoadedSpec, state: str, budget: Budget | None = None, env: Environment | None = None) -> Step:
    """Run the failed elements again (after the cause was fixed), then on to the next wait state.

    Elements in error go back to ready; an instance put in error without a failed element (no route
    after a timer, a state too large) simply runs again from its stored state.
    """
    engine = SafeScriptEngine()
    workflow = load_state(state, spec, engine)

    def action() -> None:
        for task in _all_tasks(workflow):
            if task.state == TaskState.ERROR:
                task._set_state(TaskState.READY)  # SpiffWorkflow has no public "retry"
        workflow.refresh_timers()

    return _advance(workflow, engine, budget or Budget(), action=action, previous=state, env=env)


def current_data(spec: LoadedSpec, state: str) -> dict[str, Any]:
    """The data the instance holds now (that of its newest open task, else of its last step)."""
    workflow = load_state(state, spec, SafeScriptEngine())
    return _current_data(workflow, _ready_manual_tasks(workflow))


def update_data(spec: LoadedSpec, state: str, changes: dict[str, Any], removed: list[str]
                ) -> tuple[str, dict[str, Any]]:
    """Set (`changes`) and delete (`removed`) keys in the data of every active element; nothing runs.

    Returns the new state and the instance's current data.
    """
    if len(json.dumps(changes, ensure_ascii=False, default=str).encode()) > MAX_DATA_BYTES:
        raise RepairRefused("the new values are too large")
    workflow = load_state(state, spec, SafeScriptEngine())
    active = [task for task in _all_tasks(workflow) if task.state & ACTIVE]
    if not active:
        raise RepairRefused("the instance has no active element whose data could change")
    for task in active:
        task.data.update(changes)
        for key in removed:
            task.data.pop(key, None)
    return dump_state(workflow), _current_data(workflow, _ready_manual_tasks(workflow))


def waiting_timers(spec: LoadedSpec, state: str) -> list[WaitingTimer]:
    """Every timer the instance waits for, with its due time (UTC)."""
    return _timers(load_state(state, spec, SafeScriptEngine()))


def waiting_for(spec: LoadedSpec, state: str) -> tuple[list[WaitingTimer], list[str]]:
    """The timers and the message names an instance waits for, from one load of its state."""
    workflow = load_state(state, spec, SafeScriptEngine())
    return _timers(workflow), sorted(waiting_messages(workflow))


def _timers(workflow: Any) -> list[WaitingTimer]:
    found = []
    for task, definition in _waiting(workflow):
        if not isinstance(definition, TimerEventDefinition):
            continue
        due, cycle = _due(task.internal_data.get("event_value"))
        found.append(WaitingTimer(guid=str(task.id), process_id=task.workflow.spec.name,
                                  element_id=task.task_spec.bpmn_id or task.task_spec.name,
                                  name=task.task_spec.bpmn_name or task.task_spec.bpmn_id or "",
                                  due_at=due, cycle=cycle))
    return sorted(found, key=lambda t: (t.due_at is None, t.due_at or datetime.max.replace(tzinfo=UTC)))


def reschedule_timer(spec: LoadedSpec, state: str, guid: str, due_at: datetime,
                     budget: Budget | None = None, env: Environment | None = None) -> Step:
    """Make a waiting timer due at `due_at` (a cycle timer: its next round); fires at once if due now."""
    if due_at.tzinfo is None:
        raise RepairRefused("the new due time has no time zone")
    engine = SafeScriptEngine()
    workflow = load_state(state, spec, engine)
    target = next((task for task, definition in _waiting(workflow)
                   if str(task.id) == guid and isinstance(definition, TimerEventDefinition)), None)
    if target is None:
        raise RepairRefused(f"the instance does not wait for timer {guid}")

    def action() -> None:
        value = target.internal_data.get("event_value")
        text = due_at.astimezone(UTC).isoformat()
        if isinstance(value, dict):
            target.internal_data["event_value"] = {**value, "next": text}
        else:
            target.internal_data["event_value"] = text
        workflow.refresh_timers()

    return _advance(workflow, engine, budget or Budget(), action=action, previous=state, env=env)


def _due(value: Any) -> tuple[datetime | None, bool]:
    if isinstance(value, dict):  # cycle timers keep {"cycles", "next", "duration"}
        text = value.get("next") if value.get("cycles", 0) != 0 else None
        return (_timer_time(text) if isinstance(text, str) else None), True
    return (_timer_time(value) if isinstance(value, str) else None), False


def snapshot(spec: LoadedSpec, state: str) -> tuple[list[HumanTask], datetime | None]:
    """The open user tasks (as a step would report them) and the next timer of a stored state,
    without running anything (after a version migration)."""
    workflow = load_state(state, spec, SafeScriptEngine())
    warnings: list[Failure] = []
    return [_human_task(task, warnings) for task in _ready_manual_tasks(workflow)], _next_timer(workflow)
