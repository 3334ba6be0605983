"""Moving running instances to a newer version through the real engine: plan, refusals, the path after."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from diagrams import (
    FORM,
    bundle,
    chain,
    definitions,
    end,
    flow,
    gateway,
    load,
    process,
    script_task,
    start,
    timer_boundary,
    timer_catch,
    user_task,
)
from SpiffWorkflow.util.task import TaskState

from app.engine import migration, runner
from app.engine.migration import MigrationRefused, TaskMapping
from app.engine.state import LoadedSpec, load_state
from tests.conftest import START, FakeClock


def _linear(*nodes: str, ids: tuple[str, ...], **kwargs: Any) -> LoadedSpec:
    return load(bundle(start(), *nodes, end(), chain("start", *ids, "end"), **kwargs))


def _linear_users(*ids: str) -> LoadedSpec:
    return _linear(*(user_task(i) for i in ids), ids=ids)


def _ready(step: runner.Step) -> list[str]:
    return [t.spec_id for t in step.ready]


def _task(spec: LoadedSpec, state: str, name: str) -> Any:
    workflow = load_state(state, spec, runner.SafeScriptEngine())
    return next(t for t in runner._all_tasks(workflow) if t.task_spec.name == name)


# -- the path after the waiting task follows the new diagram ---------------------------------------


def test_a_task_added_after_the_waiting_task_is_taken_after_the_move() -> None:
    v1, v2 = _linear_users("A", "B"), _linear_users("A", "C", "B")
    first = runner.start(v1, {"x": 1})
    guid = first.ready[0].guid

    plan = migration.plan(v1, v2, first.state)
    assert plan.movable
    assert plan.blockers == []
    assert [(t.process_id, t.element_id, t.state, t.target_id) for t in plan.tasks] == [("p", "A", "READY", "A")]

    moved = migration.migrate(v1, v2, first.state)
    assert str(_task(v2, moved, "A").id) == guid  # open human tasks are keyed by guid
    step = runner.complete(v2, moved, guid, {"y": 2})
    assert step.failure is None
    assert _ready(step) == ["C"]
    step = runner.complete(v2, step.state, step.ready[0].guid, {})
    assert _ready(step) == ["B"]
    step = runner.complete(v2, step.state, step.ready[0].guid, {})
    assert step.ended
    assert step.data == {"x": 1, "y": 2}


def test_the_move_keeps_ids_states_and_data_of_every_task_reached() -> None:
    v1, v2 = _linear_users("A", "B"), _linear_users("A", "C", "B")
    first = runner.start(v1, {"x": 1})
    before = load_state(first.state, v1, runner.SafeScriptEngine())
    reached = {t.id: (t.task_spec.name, t.state, t.data) for t in before.get_tasks()
               if not t.has_state(migration.PREDICTED)}
    after = load_state(migration.migrate(v1, v2, first.state), v2, runner.SafeScriptEngine())
    assert {t.id: (t.task_spec.name, t.state, t.data) for t in after.get_tasks()
            if not t.has_state(migration.PREDICTED)} == reached
    assert after.spec is v2.spec


# -- refusals -------------------------------------------------------------------------------------


def test_a_waiting_task_removed_in_the_new_version_blocks_the_move() -> None:
    v1, v2 = _linear_users("A", "B"), _linear_users("A2", "B")
    first = runner.start(v1, {})
    plan = migration.plan(v1, v2, first.state)
    assert not plan.movable
    assert plan.tasks == [TaskMapping("p", "A", "A", "READY", None, [])]
    assert len(plan.blockers) == 1
    assert "'A'" in plan.blockers[0]
    assert "process 'p'" in plan.blockers[0]
    assert "does not exist in the new version" in plan.blockers[0]
    with pytest.raises(MigrationRefused) as refused:
        migration.migrate(v1, v2, first.state)
    assert refused.value.plan == plan


def test_a_completed_element_removed_in_the_new_version_blocks_the_move() -> None:
    v1, v2 = _linear_users("A", "B"), _linear_users("B")
    first = runner.start(v1, {})
    waiting_b = runner.complete(v1, first.state, first.ready[0].guid, {})
    plan = migration.plan(v1, v2, waiting_b.state)
    assert not plan.movable
    assert [(t.element_id, t.target_id) for t in plan.tasks] == [("B", "B")]
    assert len(plan.blockers) == 1
    assert "'A' in process 'p'" in plan.blockers[0]
    assert "could not be loaded with the new version" in plan.blockers[0]
    with pytest.raises(MigrationRefused):
        migration.migrate(v1, v2, waiting_b.state)


def test_a_waiting_element_that_changed_type_blocks_the_move() -> None:
    v1 = _linear_users("A")
    v2 = _linear(script_task("A", "y = 1"), ids=("A",))
    plan = migration.plan(v1, v2, runner.start(v1, {}).state)
    assert not plan.movable
    assert plan.tasks[0].target_id is None
    assert "'A' in process 'p' is a UserTask but a ScriptTask in the new version" in plan.blockers[0]


def test_another_top_level_process_blocks_the_move() -> None:
    v1 = _linear_users("A")
    v2 = load(bundle(start(), user_task("A"), end(), chain("start", "A", "end"), pid="q"), pid="q")
    plan = migration.plan(v1, v2, runner.start(v1, {}).state)
    assert not plan.movable
    assert plan.blockers == ["the instance runs process 'p' but the new version's top-level process is 'q'; "
                             "only versions of the same process can be moved between"]
    assert plan.tasks[0].target_id is None


def test_an_ended_instance_is_not_moved() -> None:
    v1 = _linear(script_task("s", "y = 1"), ids=("s",))
    step = runner.start(v1, {})
    assert step.ended
    plan = migration.plan(v1, v1, step.state)
    assert plan.blockers == ["the instance has ended; there is nothing to move"]


def _parallel(extra_step: bool) -> LoadedSpec:
    x_path = (user_task("X2"), chain("X", "X2", "pj")) if extra_step else (flow("X", "pj"),)
    return load(bundle(start(), gateway("ps", "parallel"), user_task("X"), user_task("Y"), gateway("pj", "parallel"),
                       end(), flow("start", "ps"), flow("ps", "X"), flow("ps", "Y"), flow("Y", "pj"), flow("pj", "end"),
                       *x_path))


def test_a_waiting_join_whose_incoming_branches_changed_blocks_the_move() -> None:
    # Moved anyway, the join would wait for X2 forever: X was done on the old path.
    v1, v2 = _parallel(extra_step=False), _parallel(extra_step=True)
    first = runner.start(v1, {})
    step = runner.complete(v1, first.state, next(t.guid for t in first.ready if t.spec_id == "X"), {})
    plan = migration.plan(v1, v2, step.state)
    assert not plan.movable
    assert plan.blockers == ["'pj' in process 'p' waits for its incoming branches (X, Y), which are X2, Y in the new "
                             "version; it could wait forever"]
    assert {(t.element_id, t.state) for t in plan.tasks} == {("Y", "READY"), ("pj", "WAITING")}


def test_boundary_events_added_to_a_waiting_task_block_the_move() -> None:
    # Moved anyway, completing the task fails: the boundary split of the new version was never reached.
    v1 = _linear_users("ut")
    v2 = load(bundle(start(), user_task("ut"), timer_boundary("tb", "ut", "timeDuration", '"PT1H"'), end(),
                     end("end_t"), chain("start", "ut", "end"), flow("tb", "end_t")))
    plan = migration.plan(v1, v2, runner.start(v1, {}).state)
    assert not plan.movable
    assert "'ut' in process 'p' has the boundary events [] but [tb] in the new version" in plan.blockers[0]


# -- call activities ------------------------------------------------------------------------------


def _called(*sub_tasks: str, called: str = "sub") -> LoadedSpec:
    main = definitions(process(start(), f'<bpmn:callActivity id="ca" calledElement="{called}"/>', user_task("ut"),
                               end(), chain("start", "ca", "ut", "end")))
    sub = definitions(process(start("s_start"), *(user_task(t) for t in sub_tasks), end("s_end"),
                              chain("s_start", *sub_tasks, "s_end"), pid=called))
    return load({"main.bpmn": main, f"{called}.bpmn": sub})


def test_a_task_inside_a_called_process_moves_and_follows_the_new_called_process() -> None:
    v1, v2 = _called("s_ut"), _called("s_ut", "s_new")
    first = runner.start(v1, {})
    assert [(t.process_id, t.spec_id) for t in first.ready] == [("sub", "s_ut")]
    plan = migration.plan(v1, v2, first.state)
    assert plan.movable
    assert [(t.process_id, t.element_id, t.state, t.target_id) for t in plan.tasks] == [
        ("p", "ca", "STARTED", "ca"), ("sub", "s_ut", "READY", "s_ut")]

    moved = migration.migrate(v1, v2, first.state)
    step = runner.complete(v2, moved, first.ready[0].guid, {"z": 3})
    assert step.failure is None
    assert [(t.process_id, t.spec_id) for t in step.ready] == [("sub", "s_new")]
    step = runner.complete(v2, step.state, step.ready[0].guid, {})
    assert [(t.process_id, t.spec_id) for t in step.ready] == [("p", "ut")]
    step = runner.complete(v2, step.state, step.ready[0].guid, {})
    assert step.ended
    assert step.data["z"] == 3


def test_a_running_call_activity_that_calls_another_process_in_the_new_version_blocks_the_move() -> None:
    v1, v2 = _called("s_ut"), _called("s_ut", called="other")
    plan = migration.plan(v1, v2, runner.start(v1, {}).state)
    assert not plan.movable
    assert plan.blockers == ["'ca' in process 'p' ran process 'sub' (running in this instance) but calls 'other' "
                             "in the new version"]
    assert [(t.process_id, t.element_id, t.target_id) for t in plan.tasks] == [("p", "ca", "ca"), ("sub", "s_ut", None)]


# -- changed attributes ---------------------------------------------------------------------------


def test_changed_attributes_of_a_waiting_task_are_listed() -> None:
    v1 = _linear_users("A")
    renamed = user_task("A", form="other.schema.json").replace('name="A"', 'name="审批"')
    v2 = _linear(renamed, ids=("A",))
    first = runner.start(v1, {})
    plan = migration.plan(v1, v2, first.state)
    assert plan.movable
    mapping = plan.tasks[0]
    assert (mapping.element_id, mapping.element_name, mapping.target_id) == ("A", "A", "A")
    assert mapping.changed == ["bpmn_name", "extensions.properties.formJsonSchemaFilename"]
    step = runner.complete(v2, migration.migrate(v1, v2, first.state), first.ready[0].guid, {})
    assert step.ended


def test_unchanged_waiting_task_lists_no_changes() -> None:
    v1 = _linear_users("A")
    plan = migration.plan(v1, _linear(user_task("A", form=FORM), ids=("A",)), runner.start(v1, {}).state)
    assert plan.tasks[0].changed == []


# -- timers and failures --------------------------------------------------------------------------


def _timer_then(*ids: str) -> LoadedSpec:
    return _linear(timer_catch("tc", "timeDuration", '"PT30M"'), *(user_task(i) for i in ids), ids=("tc", *ids))


def test_a_waiting_timer_keeps_its_due_time_and_fires_into_the_new_path(fake_clock: FakeClock) -> None:
    v1, v2 = _timer_then("A"), _timer_then("C", "A")
    first = runner.start(v1, {})
    assert first.next_timer_at == START + timedelta(minutes=30)
    plan = migration.plan(v1, v2, first.state)
    assert [(t.element_id, t.state, t.target_id) for t in plan.tasks] == [("tc", "WAITING", "tc")]

    fake_clock.advance(minutes=10)
    moved = migration.migrate(v1, v2, first.state)
    fake_clock.advance(minutes=19)
    early = runner.fire_timers(v2, moved)
    assert early.ready == []
    assert early.next_timer_at == START + timedelta(minutes=30)  # not restarted by the move
    fake_clock.advance(minutes=2)
    step = runner.fire_timers(v2, moved)
    assert step.failure is None
    assert "tc" in step.completed_elements
    assert _ready(step) == ["C"]


def _guarded(*after: str) -> LoadedSpec:
    return load(bundle(start(), user_task("ut"), *(user_task(i) for i in after),
                       timer_boundary("tb", "ut", "timeDuration", '"PT1H"'), end(), end("end_t"),
                       chain("start", "ut", *after, "end"), flow("tb", "end_t")))


def test_a_task_with_a_boundary_timer_moves_and_both_branches_still_work(fake_clock: FakeClock) -> None:
    v1, v2 = _guarded(), _guarded("C")
    first = runner.start(v1, {})
    plan = migration.plan(v1, v2, first.state)
    assert plan.movable
    assert {(t.element_id, t.state) for t in plan.tasks} == {("ut", "READY"), ("tb", "WAITING")}
    moved = migration.migrate(v1, v2, first.state)

    done = runner.complete(v2, moved, first.ready[0].guid, {})
    assert _ready(done) == ["C"]
    fake_clock.advance(hours=1, seconds=1)
    fired = runner.fire_timers(v2, moved)
    assert fired.failure is None
    assert fired.completed_elements == ["tb", "end_t"]
    assert fired.ended


def test_a_failed_element_keeps_its_error_and_id_across_the_move() -> None:
    v1 = _linear(user_task("A"), script_task("sc", "y = undefined_name"), ids=("A", "sc"))
    v2 = _linear(user_task("A"), script_task("sc", "y = 1"), user_task("B"), ids=("A", "sc", "B"))
    first = runner.start(v1, {})
    failed = runner.complete(v1, first.state, first.ready[0].guid, {})
    assert failed.failure is not None
    before = _task(v1, failed.state, "sc")
    assert migration.plan(v1, v2, failed.state).movable
    after = _task(v2, migration.migrate(v1, v2, failed.state), "sc")
    assert (after.id, after.state) == (before.id, TaskState.ERROR)
    assert [c.task_spec.name for c in after.children] == ["B"]
