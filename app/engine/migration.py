"""Move a running instance from one deployed version of a process to a newer one, with a preview.

An element of the instance maps to the new version only when the new version's spec of the same
process has an element with the same id (`task_spec.name`) and the same serialized type. There is
no shape-based guessing (SpiffWorkflow's `SpecDiff` aligns unmatched ids by structure; we do not).

`plan` lists every open task (ready, waiting, started; in called processes too) with its target and
every reason the instance cannot move. `migrate` refuses unless the plan is movable, then swaps each
task's spec for the new one with the same name, keeps ids, states and data of every task that was
reached, and predicts again the branches ahead of open tasks so the instance goes on along the new
diagram. SpiffWorkflow's `migrate_workflow`/`reset_branch` is not used: it resets ready and waiting
tasks (data from the parent, internal data such as a timer's due time cleared, ready hooks run again).
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from SpiffWorkflow.bpmn.specs.control import EventSplit
from SpiffWorkflow.specs.Join import Join
from SpiffWorkflow.util.task import TaskState

from app.engine.scripting import SafeScriptEngine
from app.engine.state import SERIALIZER, LoadedSpec, StateError, dump_state, load_state

OPEN = TaskState.READY | TaskState.WAITING | TaskState.STARTED
PREDICTED = TaskState.FUTURE | TaskState.LIKELY | TaskState.MAYBE
# Tasks whose predicted children are dropped and predicted again from the new spec.
PREDICTS_AHEAD = OPEN | TaskState.ERROR | TaskState.FUTURE


@dataclass(frozen=True)
class TaskMapping:
    """One open task of the instance and the element it becomes in the new version."""

    process_id: str
    element_id: str
    element_name: str | None
    state: str
    target_id: str | None
    changed: list[str]  # serialized attributes that differ (informational)


@dataclass(frozen=True)
class MigrationPlan:
    """Whether the instance can move, where its open tasks go, and why not if it cannot."""

    movable: bool
    tasks: list[TaskMapping]
    blockers: list[str]


class MigrationRefused(Exception):
    """The instance cannot move to the new version; `plan.blockers` says why."""

    def __init__(self, plan: MigrationPlan):
        super().__init__("; ".join(plan.blockers) or "the instance cannot move to the new version")
        self.plan = plan


def plan(old: LoadedSpec, new: LoadedSpec, state: str) -> MigrationPlan:
    """Preview moving an instance (stored `state`, deployed as `old`) to `new`; nothing is changed."""
    return _plan(load_state(state, old, SafeScriptEngine()), new)


def migrate(old: LoadedSpec, new: LoadedSpec, state: str) -> str:
    """The instance's state moved to `new`, in the runner's format; MigrationRefused if it cannot move.

    Ids (guids), states and data of every task the instance reached stay as they are; the predicted
    tasks ahead of the open ones are predicted again from the new diagram.
    """
    workflow = load_state(state, old, SafeScriptEngine())
    result = _plan(workflow, new)
    if not result.movable:
        raise MigrationRefused(result)
    workflow.subprocess_specs = new.subprocess_specs
    for process, new_spec in _processes(workflow, new, []):
        if new_spec is None:  # cannot happen once the plan is movable
            raise MigrationRefused(result)
        _move(process, new_spec)
    moved = dump_state(workflow)
    try:
        load_state(moved, new, SafeScriptEngine())
    except StateError as exc:  # a bug here, not a property of the instance: refuse rather than store it
        raise MigrationRefused(MigrationPlan(False, result.tasks, [f"the moved state does not load: {exc}"])) from exc
    return moved


# -- plan -----------------------------------------------------------------------------------------


def _plan(workflow: Any, new: LoadedSpec) -> MigrationPlan:
    blockers: list[str] = []
    tasks: list[TaskMapping] = []
    if workflow.completed:
        blockers.append("the instance has ended; there is nothing to move")
    for process, new_spec in _processes(workflow, new, blockers):
        tasks.extend(_check_process(process, new_spec, blockers))
    unique = list(dict.fromkeys(blockers))
    return MigrationPlan(movable=not unique, tasks=tasks, blockers=unique)


def _processes(workflow: Any, new: LoadedSpec, blockers: list[str]) -> Iterator[tuple[Any, Any | None]]:
    """(workflow or subprocess, its spec in the new version or None), parents before their subprocesses.

    Reasons a (sub)process has no spec in the new version are added to `blockers` once.
    """
    old_id, new_id = workflow.spec.name, new.spec.name
    if old_id != new_id:
        blockers.append(f"the instance runs process '{old_id}' but the new version's top-level process is "
                        f"'{new_id}'; only versions of the same process can be moved between")
    targets: dict[int, Any | None] = {id(workflow): new.spec if old_id == new_id else None}
    yield workflow, targets[id(workflow)]
    for sub in workflow.subprocesses.values():
        targets[id(sub)] = _subprocess_target(sub, targets.get(id(sub.parent_workflow)), new, blockers)
        yield sub, targets[id(sub)]


def _subprocess_target(sub: Any, parent_spec: Any | None, new: LoadedSpec, blockers: list[str]) -> Any | None:
    if parent_spec is None:
        return None  # the parent cannot move: already a blocker
    owner = sub.parent_workflow.tasks[sub.parent_task_id]
    new_owner = parent_spec.task_specs.get(owner.task_spec.name)
    if new_owner is None or _typename(new_owner) != _typename(owner.task_spec):
        return None  # the element that runs it is gone or changed type: a blocker of the parent
    called, where = sub.spec.name, f"{_label(owner.task_spec)} in process '{sub.parent_workflow.spec.name}'"
    status = "finished" if sub.completed else "running"
    if new_owner.spec != called:
        blockers.append(f"{where} ran process '{called}' ({status} in this instance) but calls '{new_owner.spec}' "
                        "in the new version")
        return None
    if called not in new.subprocess_specs:
        blockers.append(f"{where} ran process '{called}' ({status} in this instance), which the new version does "
                        "not contain, so the instance's state could not be loaded with the new version")
        return None
    return new.subprocess_specs[called]


def _check_process(process: Any, new_spec: Any | None, blockers: list[str]) -> list[TaskMapping]:
    """Blockers for every task the instance reached in `process`; mappings of its open tasks."""
    process_id = process.spec.name
    mappings = []
    for task in _reached(process)[0]:
        spec = task.task_spec
        target = None if new_spec is None else new_spec.task_specs.get(spec.name)
        if target is not None and _typename(target) != _typename(spec):
            if new_spec is not None:
                blockers.append(f"{_label(spec)} in process '{process_id}' is a {_typename(spec)} but a "
                                f"{_typename(target)} in the new version; an element maps only to one of the "
                                "same type")
            target = None
        elif target is None and new_spec is not None:
            blockers.append(_missing(task, process_id))
        state = TaskState.get_name(task.state)
        if target is not None and task.has_state(OPEN):
            blockers.extend(_open_task_problems(task, target, process, new_spec, process_id))
        if task.has_state(OPEN) and spec.bpmn_id is not None:
            mappings.append(TaskMapping(
                process_id=process_id,
                element_id=spec.name,
                element_name=spec.bpmn_name,
                state=state,
                target_id=None if target is None else target.name,
                changed=[] if target is None else _changes(spec, target),
            ))
    return mappings


def _missing(task: Any, process_id: str) -> str:
    state = TaskState.get_name(task.state).lower()
    if task.has_state(OPEN):
        return (f"the {state} task {_label(task.task_spec)} in process '{process_id}' does not exist in the new "
                "version")
    return (f"{_label(task.task_spec)} in process '{process_id}' is part of this instance ({state}) but does not "
            "exist in the new version, so the instance's state could not be loaded with the new version")


def _open_task_problems(task: Any, target: Any, process: Any, new_spec: Any, process_id: str) -> list[str]:
    """Reasons an open task with a same-id, same-type target still cannot carry on in the new version."""
    spec, where = task.task_spec, f"{_label(task.task_spec)} in process '{process_id}'"
    problems = []
    old_event, new_event = (_typename(getattr(s, "event_definition", None)) for s in (spec, target))
    if old_event != new_event:
        problems.append(f"{where} waits for a {old_event} but for a {new_event} in the new version")
    if isinstance(spec, Join) and spec.bpmn_id is not None and _names(spec.inputs) != _names(target.inputs):
        problems.append(f"{where} waits for its incoming branches ({', '.join(_names(spec.inputs))}), which are "
                        f"{', '.join(_names(target.inputs))} in the new version; it could wait forever")
    old_boundary, new_boundary = _boundary_events(process.spec, spec.name), _boundary_events(new_spec, spec.name)
    if old_boundary != new_boundary:
        problems.append(f"{where} has the boundary events [{', '.join(old_boundary)}] but [{', '.join(new_boundary)}] "
                        "in the new version; boundary events are set up when the task is reached, so the open task "
                        "cannot carry on with the new ones")
    return problems


def _boundary_events(process_spec: Any, name: str) -> list[str]:
    split = process_spec.task_specs.get(f"{name}.BoundaryEventSplit")
    return [] if split is None else sorted(n for n in _names(split.outputs) if n != name)


def _names(specs: list[Any]) -> list[str]:
    return sorted(s.name for s in specs)


def _changes(spec: Any, target: Any) -> list[str]:
    """Serialized attributes of the two specs that differ; extensions are compared one level down."""
    registry = SERIALIZER.registry
    before, after = registry.convert(spec), registry.convert(target)
    changed = []
    for key in sorted(set(before) | set(after)):
        if before.get(key) == after.get(key):
            continue
        if key == "extensions" and isinstance(before.get(key), dict) and isinstance(after.get(key), dict):
            changed.extend(_dict_changes("extensions", before[key], after[key]))
        else:
            changed.append(key)
    return changed


def _dict_changes(prefix: str, before: dict[str, Any], after: dict[str, Any]) -> list[str]:
    changed = []
    for key in sorted(set(before) | set(after)):
        old, new = before.get(key), after.get(key)
        if old == new:
            continue
        if key == "properties" and isinstance(old, dict) and isinstance(new, dict):
            changed.extend(_dict_changes(f"{prefix}.properties", old, new))
        else:
            changed.append(f"{prefix}.{key}")
    return changed


def _typename(obj: Any) -> str:
    if obj is None:
        return "none"
    return SERIALIZER.registry.typenames.get(type(obj), type(obj).__name__)


def _label(spec: Any) -> str:
    if spec.bpmn_id is None:
        return f"engine step '{spec.name}'"
    return f"'{spec.name}' ({spec.bpmn_name})" if spec.bpmn_name and spec.bpmn_name != spec.name else f"'{spec.name}'"


# -- move -----------------------------------------------------------------------------------------


def _reached(process: Any) -> tuple[list[Any], list[Any]]:
    """(tasks kept as they are, in tree order; tasks whose children are dropped and predicted again).

    A task's children are predicted again when the task is open, failed or predicted-to-run (FUTURE, as
    a child of a finished task) and all its children are predictions. Everything under such a task
    is a prediction from the old diagram and is not checked against the new one.
    """
    kept, roots = [], []
    stack = [process.task_tree]
    while stack:
        task = stack.pop()
        kept.append(task)
        if task.has_state(PREDICTS_AHEAD) and all(child.has_state(PREDICTED) for child in task.children):
            roots.append(task)
        else:
            stack.extend(reversed(task.children))
    return kept, roots


def _move(process: Any, new_spec: Any) -> None:
    """Swap every kept task to the new spec and predict again ahead of the open ones."""
    kept, roots = _reached(process)
    for task in roots:
        for child in list(task.children):
            process._remove_task(child.id)  # no public way to drop predictions
    process.spec = new_spec
    for task in kept:
        task.task_spec = new_spec.task_specs[task.task_spec.name]
    for task in roots:
        _predict(task)


def _predict(task: Any) -> None:
    """Predict the children of `task` from its (new) spec, as SpiffWorkflow did when it reached the task.

    A failed task predicts as if ready (an error state would be copied onto its children); a waiting
    event attached by an event split (boundary event) predicts MAYBE children, as the split did.
    """
    saved = task._state  # set back below: _set_state would log and touch last_state_change
    if saved == TaskState.ERROR:
        task._state = TaskState.READY
    elif saved == TaskState.WAITING and _attached_event(task):
        task._state = TaskState.MAYBE
    try:
        task.task_spec._predict(task, mask=PREDICTED | task._state)
    finally:
        task._state = saved


def _attached_event(task: Any) -> bool:
    """Whether `task` is an event attached by an event split (a boundary event), not the task it guards."""
    split = None if task.parent is None else task.parent.task_spec
    return isinstance(split, EventSplit) and isinstance(task.task_spec, split.event_type)
