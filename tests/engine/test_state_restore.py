"""Restoring a state: tasks stored as deltas from their parent start from a copy of the parent's data
(`converters.DeltaTaskConverter`), exactly as SpiffWorkflow's own task converter restores them."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from typing import Any

from diagrams import bundle, chain, end, load, start, user_task
from SpiffWorkflow.bpmn.serializer.default.workflow import TaskConverter
from SpiffWorkflow.util.task import TaskState

from app.engine import runner, state
from app.engine.converters import make_serializer
from app.engine.state import dump_state, load_state

WHEN = datetime(2026, 12, 7, 9, 0, tzinfo=UTC)
STOCK = make_serializer(state.SERIALIZER_VERSION, task_converter=TaskConverter)  # SpiffWorkflow's own task restore


def _run(workflow: Any, change: Any) -> None:
    task = next(t for t in workflow.get_tasks(state=TaskState.READY) if t.task_spec.bpmn_id)
    change(task.data)
    task.run()
    workflow.do_engine_steps()


def _history() -> tuple[Any, str]:
    """Three steps whose data adds, replaces (mutable by immutable and back) and deletes keys."""
    spec = load(bundle(start(), user_task("ut1"), user_task("ut2"), user_task("ut3"), end(),
                       chain("start", "ut1", "ut2", "ut3", "end")))
    workflow = load_state(runner.start(spec, {"title": "标题"}).state, spec, runner.SafeScriptEngine())
    _run(workflow, lambda d: d.update(tags=["网信"], nested={"a": [1, 2], "at": WHEN}, seen={"x"}, gone=1, text="t",
                                      when=WHEN, gap=timedelta(minutes=30)))
    _run(workflow, lambda d: (d.pop("gone"), d.update(tags="不再是列表", text=["现在是列表"], added={"b": 2})))
    return spec, dump_state(workflow)


def _stock_restore(text: str, spec: Any) -> Any:
    dct = json.loads(text)
    dct.pop("serializer_version")
    dct["spec"], dct["subprocess_specs"] = spec.spec, spec.subprocess_specs
    return STOCK.from_dict(dct)


def _tasks(workflow: Any) -> dict[Any, Any]:
    registry = state.SERIALIZER.registry
    return {task.id: (task.task_spec.name, task.state, task.data, registry.convert(task.internal_data))
            for task in workflow.get_tasks()}


def test_restored_tasks_equal_spiffworkflows_restore() -> None:
    spec, text = _history()
    ours = load_state(text, spec, runner.SafeScriptEngine())
    stock = _stock_restore(text, spec)
    assert '"delta"' in text and '"deletions":["gone"]' in text.replace(" ", "")
    assert _tasks(ours) == _tasks(stock)
    ready = next(t for t in ours.get_tasks(state=TaskState.READY) if t.task_spec.bpmn_id)
    assert ready.data["when"] == ready.data["nested"]["at"] == WHEN
    assert ready.data["gap"] == timedelta(minutes=30)
    assert ready.data["tags"] == "不再是列表" and ready.data["text"] == ["现在是列表"] and "gone" not in ready.data
    assert dump_state(ours) == dump_state(stock)


def test_a_task_does_not_share_mutable_values_with_its_parent() -> None:
    spec, text = _history()
    workflow = load_state(text, spec, runner.SafeScriptEngine())
    for task in workflow.get_tasks():
        parent = task.parent
        if parent is None:
            continue
        for key, value in task.data.items():
            if isinstance(value, (dict, list, set)) and key in parent.data:
                assert value is not parent.data[key], (task.task_spec.name, key)
    ready = next(t for t in workflow.get_tasks(state=TaskState.READY) if t.task_spec.bpmn_id)
    ready.data["nested"]["b"] = 3  # shallow copies, as SpiffWorkflow makes: the top-level value is the task's own
    ready.data["added"]["c"] = 4
    ready.data["text"].append("追加")
    earlier = [t for t in workflow.get_tasks() if t.task_spec.bpmn_id == "ut2" and t.state == TaskState.COMPLETED]
    assert earlier and earlier[0].data["text"] == ["现在是列表"] and earlier[0].data["added"] == {"b": 2}
