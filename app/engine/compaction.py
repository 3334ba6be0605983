"""Keep the stored state small: finished call-activity subprocesses leave it (docs/decisions.md 89).

A call activity's subprocess stays in SpiffWorkflow's `subprocesses` map for the life of the instance,
every task of it serialized at every step, though nothing runs in it again once the call activity has
completed (or was cancelled): its data went back to the calling task, and the audit trail and ledger
hold the record of what was done. When the state is written, such subprocesses (and the ones they
called) are left out; what the admin console reads from them — each element's most telling status and
how often it completed, per process — is kept as a small summary (`finished_elements`) that
`runner.element_status` merges in.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from SpiffWorkflow.util.task import TaskState

STATUS_ORDER = {"error": 4, "active": 3, "waiting": 2, "completed": 1, "cancelled": 0}
_NAMES = {TaskState.COMPLETED: "completed", TaskState.READY: "active", TaskState.STARTED: "active",
          TaskState.WAITING: "waiting", TaskState.ERROR: "error", TaskState.CANCELLED: "cancelled"}
FINISHED = TaskState.COMPLETED | TaskState.CANCELLED

Summary = dict[str, dict[str, dict[str, Any]]]  # process id → element id → {"status", "count"}


def status_name(state: int) -> str | None:
    return _NAMES.get(state)


def summarize(tasks: Iterable[Any], into: Summary) -> Summary:
    """Add each task's element status (the most telling one wins) and completion count to `into`."""
    for task in tasks:
        element = task.task_spec.bpmn_id
        status = status_name(task.state)
        if element is None or status is None:
            continue
        _add(into, task.workflow.spec.name, element, status, 1 if status == "completed" else 0)
    return into


def merge(summary: Summary, into: Summary) -> Summary:
    """Add a stored summary to `into` (same rules as `summarize`)."""
    for process, elements in summary.items():
        for element, entry in elements.items():
            _add(into, process, element, entry["status"], entry["count"])
    return into


def _add(into: Summary, process: str, element: str, status: str, count: int) -> None:
    entry = into.setdefault(process, {}).setdefault(element, {"status": status, "count": 0})
    entry["count"] += count
    if STATUS_ORDER[status] > STATUS_ORDER[entry["status"]]:
        entry["status"] = status


def finished_subprocesses(workflow: Any) -> set[Any]:
    """Keys (calling task ids) of the subprocesses nothing will run in again: the calling task has
    completed or was cancelled, or the subprocess was called from one of those."""
    finished: set[Any] = set()
    for key, sub in sorted(workflow.subprocesses.items(), key=lambda item: item[1].depth):
        owner_workflow = sub.parent_workflow
        if owner_workflow is not None and owner_workflow is not workflow and owner_workflow.parent_task_id in finished:
            finished.add(key)
            continue
        owner = owner_workflow.tasks.get(key) if owner_workflow is not None else None
        if owner is not None and owner.state & FINISHED and _settled(sub):
            finished.add(key)
    return finished


def _settled(sub: Any) -> bool:
    """No task of the subprocess is still open or waiting (a cancelled one may keep cancelled tasks)."""
    return not any(task.state & (TaskState.READY | TaskState.STARTED | TaskState.WAITING | TaskState.ERROR)
                   for task in sub.tasks.values())


def split(workflow: Any) -> tuple[dict[Any, Any], Summary]:
    """(the subprocesses to store, the summary of everything left out so far, this step's included)."""
    finished = finished_subprocesses(workflow)
    summary = merge(getattr(workflow, "finished_elements", None) or {}, {})
    for key in finished:
        summarize(workflow.subprocesses[key].tasks.values(), summary)
    return {key: sub for key, sub in workflow.subprocesses.items() if key not in finished}, summary
