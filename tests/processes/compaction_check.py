"""The compacted state must restore to what the full state restores to (docs/decisions.md 89), and the
workflow kept in memory after a step must equal what its state restores to (decision 114).

`checked_dump` replaces the runner's `dump_state` in the scenario tests of this folder (conftest.py):
at every step of every scenario path, the workflow is written both ways, both are restored, and the
open tasks, their data, what the instance waits for, its current data, the diagram's element statuses
and every task the compacted state kept are compared; then the workflow itself (the one the next step
continues, state.WARM) is compared with the restored compacted state, task by task.
"""

from __future__ import annotations

from typing import Any

from app.engine import compaction, runner, state
from app.engine.scripting import SafeScriptEngine
from app.engine.state import LoadedSpec

checked = {"steps": 0, "smaller": 0}


def checked_dump(workflow: Any) -> str:
    spec = LoadedSpec(workflow.spec, workflow.subprocess_specs)
    full = state.dump_full_state(workflow)
    compacted = state.dump_state(workflow)
    restored = restore(compacted, spec)
    assert_same(restore(full, spec), restored)
    assert_warm_equals_restored(workflow, restored)
    checked["steps"] += 1
    checked["smaller"] += len(compacted) < len(full)
    return compacted


def restore(text: str, spec: LoadedSpec) -> Any:
    return state.load_state(text, spec, SafeScriptEngine())


def view(workflow: Any) -> dict[str, Any]:
    """What the platform reads from a restored instance."""
    ready = runner._ready_manual_tasks(workflow)
    return {
        "ready": sorted((str(t.id), t.task_spec.bpmn_id, repr(sorted(t.data.items()))) for t in ready),
        "waiting": sorted((str(t.id), type(d).__name__, getattr(d, "name", None),
                           repr(t.internal_data.get("event_value"))) for t, d in runner._waiting(workflow)),
        "messages": sorted(runner.waiting_messages(workflow)),
        "next_timer": runner._next_timer(workflow),
        "completed": workflow.completed,
        "data": repr(sorted(workflow.data.items())),
        "current": repr(sorted(runner._current_data(workflow, ready).items())),
        "elements": compaction.merge(workflow.finished_elements,
                                     compaction.summarize(runner._all_tasks(workflow), {})),
    }


def assert_same(full: Any, compacted: Any) -> None:
    assert view(compacted) == view(full)
    kept = {task.id: task for task in runner._all_tasks(compacted)}
    whole = {task.id: task for task in runner._all_tasks(full)}
    assert kept.keys() <= whole.keys()
    for task_id, task in kept.items():
        other = whole[task_id]
        assert (task.state, task.task_spec.name, task.data) == (other.state, other.task_spec.name, other.data)


def assert_warm_equals_restored(warm: Any, restored: Any) -> None:
    """The workflow a step leaves in memory is what a restore of its state gives: the same view, the
    same tasks (state, element, parent, children, data, internal data, last change) in every process."""
    assert view(warm) == view(restored)
    assert warm.subprocesses.keys() == restored.subprocesses.keys()
    for mine, theirs in [(warm, restored), *((warm.subprocesses[key], restored.subprocesses[key])
                                             for key in warm.subprocesses)]:
        assert mine.tasks.keys() == theirs.tasks.keys()
        for task_id, task in mine.tasks.items():
            other = theirs.tasks[task_id]
            for name in ("state", "_parent", "_children", "data", "internal_data", "last_state_change", "triggered"):
                # internal data holds engine objects (BpmnEvent) without equality: compared as written
                mine_value, their_value = (state.SERIALIZER.registry.convert(getattr(item, name))
                                           for item in (task, other))
                assert mine_value == their_value, (task.task_spec.name, name, mine_value, their_value)
    assert sorted(map(str, warm.event_manager.tasks)) == sorted(map(str, restored.event_manager.tasks))
