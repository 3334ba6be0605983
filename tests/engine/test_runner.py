"""Runtime behaviour through the real engine: budgets, refusals, timers, messages, DMN, state, services."""

from __future__ import annotations

import json
import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from diagrams import (
    DATA,
    bundle,
    business_rule,
    chain,
    end,
    flow,
    gateway,
    load,
    message_catch,
    multi_instance_script,
    script_task,
    service_task,
    start,
    timer_boundary,
    timer_catch,
    user_task,
)
from SpiffWorkflow.util.task import TaskState

from app.engine import runner, state
from app.engine.state import LoadedSpec, StateError, dump_state, load_state
from tests.conftest import START, FakeClock


def _linear(*nodes: str, ids: tuple[str, ...], **kwargs: Any) -> LoadedSpec:
    return load(bundle(start(), *nodes, end(), chain("start", *ids, "end"), **kwargs))


def _workflow(spec: LoadedSpec, step: runner.Step) -> Any:
    return load_state(step.state, spec, runner.SafeScriptEngine())


def _states(spec: LoadedSpec, step: runner.Step) -> dict[str, str]:
    return {t.task_spec.name: TaskState.get_name(t.state) for t in _workflow(spec, step).get_tasks()}


# -- budgets --------------------------------------------------------------------------------------


def test_infinite_script_loop_stops_at_the_step_budget() -> None:
    files = bundle(start(), script_task("s1", "x = x + 1"), gateway("g"), end(),
                   chain("start", "s1", "g"), flow("g", "s1", "x < 10**9", "f_back"),
                   flow("g", "end", "x >= 10**9", "f_out"))
    spec = load(files, run_lint=False)
    step = runner.start(spec, {"x": 0}, runner.Budget(steps=200))
    assert step.failure is not None
    assert step.failure.element_id in {"s1", "g"}
    assert "more than the allowed engine steps" in step.failure.reason
    assert not step.ended
    assert len(step.completed_elements) <= 200


@pytest.fixture(scope="module")
def huge_multi_instance() -> runner.Step:
    files = bundle(start(), multi_instance_script("mi", "y = 1", "100000"), end(), chain("start", "mi", "end"))
    spec = load(files, run_lint=False)  # lint refuses multi-instance tasks (see test_definitions)
    return runner.start(spec, {}, runner.Budget(steps=200))


def test_parallel_multi_instance_with_huge_cardinality_is_refused(huge_multi_instance: runner.Step) -> None:
    assert huge_multi_instance.failure is not None
    assert huge_multi_instance.failure.element_id == "mi"
    assert "cardinality 100000 refused" in huge_multi_instance.failure.reason
    assert not huge_multi_instance.ended


def test_failed_step_state_stays_within_the_state_size_cap(huge_multi_instance: runner.Step) -> None:
    assert len(huge_multi_instance.state.encode()) <= runner.MAX_STATE_BYTES


def test_multi_instance_with_small_cardinality_runs() -> None:
    files = bundle(start(), multi_instance_script("mi", "y = 1", "3"), end(), chain("start", "mi", "end"))
    step = runner.start(load(files, run_lint=False), {})
    assert step.failure is None
    assert step.ended


# -- refusals and script failures -----------------------------------------------------------------


def test_gateway_without_matching_flow_raises_route_refused() -> None:
    files = bundle(start(), gateway("gw_amount", documentation="金额不在可处理范围内"), end("e1"), end("e2"),
                   flow("start", "gw_amount"), flow("gw_amount", "e1", "amount > 100"),
                   flow("gw_amount", "e2", "amount < 0"))
    spec = load(files)
    with pytest.raises(runner.RouteRefused) as refused:
        runner.start(spec, {"amount": 50})
    assert refused.value.element_id == "gw_amount"
    assert refused.value.message == "金额不在可处理范围内"


def test_gateway_with_matching_flow_is_taken() -> None:
    files = bundle(start(), gateway("gw"), script_task("big", "path = 'big'"), end("e1"), end("e2"),
                   flow("start", "gw"), flow("gw", "big", "amount > 100"), flow("gw", "e2", "amount <= 100"),
                   flow("big", "e1"))
    step = runner.start(load(files), {"amount": 500})
    assert step.ended
    assert step.data["path"] == "big"


def test_script_error_after_user_task_keeps_the_completion() -> None:
    spec = _linear(user_task("ut"), script_task("sc", "y = undefined_name + 1"), ids=("ut", "sc"))
    first = runner.start(spec, {})
    step = runner.complete(spec, first.state, first.ready[0].guid, {"a": 1})
    assert step.failure is not None
    assert step.failure.element_id == "sc"
    assert "name 'undefined_name' is not defined" in step.failure.reason
    assert step.ready == []
    states = _states(spec, step)
    assert states["ut"] == "COMPLETED"
    assert states["sc"] == "ERROR"


def test_a_defect_inside_the_engine_fails_the_instance_and_keeps_the_completion() -> None:
    """An engine error that is not a SpiffWorkflowException (seen: IndexError in an event-based
    gateway) must not escape as a 500 and lose the person's completion."""
    spec = _linear(user_task("ut"), script_task("sc", "y = 1"), ids=("ut", "sc"))
    first = runner.start(spec, {})

    def defect(_task: Any) -> bool:
        raise IndexError("list index out of range")

    spec.spec.task_specs["sc"]._run_hook = defect
    step = runner.complete(spec, first.state, first.ready[0].guid, {"a": 1})
    assert step.failure is not None
    assert "IndexError: list index out of range" in step.failure.reason
    assert _states(spec, step)["ut"] == "COMPLETED"


def test_user_task_completion_data_reaches_the_next_task() -> None:
    spec = _linear(user_task("ut1"), script_task("sc", "total = amount * 2"), user_task("ut2"),
                   ids=("ut1", "sc", "ut2"))
    first = runner.start(spec, {"title": "t"})
    step = runner.complete(spec, first.state, first.ready[0].guid, {"amount": 21})
    assert [t.spec_id for t in step.ready] == ["ut2"]
    assert step.ready[0].data == {"title": "t", "amount": 21, "total": 42}


def test_script_producing_a_complex_number_is_a_failure_not_a_crash() -> None:
    spec = _linear(script_task("sc", "y = [(-1) ** 0.5]"), user_task("ut"), ids=("sc", "ut"))
    step = runner.start(spec, {})
    assert step.failure is not None
    assert step.failure.element_id == "sc"


@pytest.mark.parametrize("script", ["d = {}\ndel d[1]", "x = 1000000.0\ny = x ** 64"])
def test_script_error_with_non_text_argument_is_a_failure_not_a_crash(script: str) -> None:
    spec = _linear(script_task("sc", script), user_task("ut"), ids=("sc", "ut"))
    step = runner.start(spec, {})
    assert step.failure is not None
    assert step.failure.element_id == "sc"


@pytest.mark.parametrize("data", [{}, {"due_at": "tomorrow"}])
def test_user_task_due_at_that_cannot_be_read_does_not_crash_the_advance(data: dict[str, Any]) -> None:
    due = '<spiffworkflow:property name="dueAt" value="due_at"/>'
    spec = _linear(user_task("ut", extra_props=due), ids=("ut",))
    step = runner.start(spec, data)
    assert step.failure is not None or step.ready[0].due_at is None


def test_user_task_due_at_is_reported_in_utc() -> None:
    due = '<spiffworkflow:property name="dueAt" value="due_at"/>'
    spec = _linear(user_task("ut", extra_props=due), ids=("ut",))
    step = runner.start(spec, {"due_at": "2026-11-25T10:00:00+08:00"})
    assert step.ready[0].due_at == datetime(2026, 11, 25, 2, 0, tzinfo=UTC)


# -- task readiness -------------------------------------------------------------------------------


def test_completing_a_task_twice_raises_task_not_ready() -> None:
    spec = _linear(user_task("ut1"), user_task("ut2"), ids=("ut1", "ut2"))
    first = runner.start(spec, {})
    second = runner.complete(spec, first.state, first.ready[0].guid, {})
    with pytest.raises(runner.TaskNotReady, match="is not open"):
        runner.complete(spec, second.state, first.ready[0].guid, {})


@pytest.mark.parametrize("guid", [str(uuid.UUID(int=0x5EED)), "not-a-uuid", ""])
def test_completing_an_unknown_task_raises_task_not_ready(guid: str) -> None:
    spec = _linear(user_task("ut"), ids=("ut",))
    first = runner.start(spec, {})
    with pytest.raises(runner.TaskNotReady):
        runner.complete(spec, first.state, guid, {})


def test_completing_a_future_task_raises_task_not_ready() -> None:
    spec = _linear(user_task("ut1"), user_task("ut2"), ids=("ut1", "ut2"))
    first = runner.start(spec, {})
    future = next(t for t in _workflow(spec, first).get_tasks() if t.task_spec.name == "ut2")
    with pytest.raises(runner.TaskNotReady, match="is not open"):
        runner.complete(spec, first.state, str(future.id), {})


# -- timers ---------------------------------------------------------------------------------------


def _boundary_timer_spec() -> LoadedSpec:
    return load(bundle(start(), user_task("ut"), timer_boundary("tb", "ut", "timeDate", "due_at"), end(), end("end_t"),
                       chain("start", "ut", "end"), flow("tb", "end_t")))


def test_boundary_timer_reports_next_timer_at(fake_clock: FakeClock) -> None:
    step = runner.start(_boundary_timer_spec(), {"due_at": "2026-11-25T10:00:00+08:00"})
    assert step.failure is None
    assert step.next_timer_at == datetime(2026, 11, 25, 2, 0, tzinfo=UTC)
    assert [t.spec_id for t in step.ready] == ["ut"]


def test_boundary_timer_does_not_fire_before_its_time(fake_clock: FakeClock) -> None:
    spec = _boundary_timer_spec()
    first = runner.start(spec, {"due_at": "2026-11-25T10:00:00+08:00"})
    fake_clock.advance(timedelta(minutes=59))
    step = runner.fire_timers(spec, first.state)
    assert step.completed_elements == []
    assert [t.spec_id for t in step.ready] == ["ut"]
    assert not step.ended


def test_boundary_timer_fires_after_the_clock_passes_it(fake_clock: FakeClock) -> None:
    spec = _boundary_timer_spec()
    first = runner.start(spec, {"due_at": "2026-11-25T10:00:00+08:00"})
    fake_clock.advance(timedelta(hours=1, seconds=1))
    step = runner.fire_timers(spec, first.state)
    assert step.failure is None
    assert step.completed_elements == ["tb", "end_t"]
    assert step.ready == []
    assert step.ended


def _event_gateway_spec(*branch_scripts: str) -> LoadedSpec:
    timer_path = ("tc", "s_t", "end_t") if branch_scripts else ("tc", "end_t")
    message_path = ("mc", "s_m", "end_m") if branch_scripts else ("mc", "end_m")
    scripts = [script_task("s_t", branch_scripts[0]), script_task("s_m", branch_scripts[1])] if branch_scripts else []
    return load(bundle(start(), gateway("eg", kind="eventBased"), timer_catch("tc", "timeDuration", '"PT30M"'),
                       message_catch("mc", "report_ready", "report"), *scripts, end("end_t"), end("end_m"),
                       flow("start", "eg"), flow("eg", "tc"), flow("eg", "mc"),
                       chain(*timer_path), chain(*message_path),
                       messages=("report_ready",)))


def test_duration_timer_behind_event_gateway_reports_and_fires(fake_clock: FakeClock) -> None:
    spec = _event_gateway_spec()
    first = runner.start(spec, {})
    assert first.next_timer_at == START + timedelta(minutes=30)
    fake_clock.advance(timedelta(minutes=29))
    assert not runner.fire_timers(spec, first.state).ended
    fake_clock.advance(timedelta(minutes=2))
    step = runner.fire_timers(spec, first.state)
    assert step.ended
    assert "tc" in step.completed_elements
    assert "mc" not in step.completed_elements


@pytest.mark.parametrize(("kind", "value", "reason"), [
    ("timeDuration", "P9999999Y", "is not an ISO-8601 duration"),
    ("timeDate", "2026-01-01T09:00:00", "has no UTC offset"),
    ("timeDate", 5, "a timer value must be an ISO-8601 string"),
    ("timeCycle", "R99999/PT1S", "a cycle needs a repeat count"),
])
def test_unsafe_timer_variable_is_a_failure_not_a_hang(fake_clock: FakeClock, kind: str, value: Any,
                                                       reason: str) -> None:
    spec = _linear(timer_catch("tc", kind, "when"), ids=("tc",))
    step = runner.start(spec, {"when": value})
    assert step.failure is not None
    assert step.failure.element_id == "tc"
    assert reason in step.failure.reason
    assert not step.ended


# -- messages -------------------------------------------------------------------------------------


def test_message_behind_event_gateway_lands_in_message_variable(fake_clock: FakeClock) -> None:
    spec = _event_gateway_spec()
    first = runner.start(spec, {})
    step = runner.send_message(spec, first.state, "report_ready", {"level": 2, "channels": ["weibo"]})
    assert step.failure is None
    assert step.ended
    assert step.data["report"] == {"level": 2, "channels": ["weibo"]}
    assert "tc" not in step.completed_elements


def test_message_nobody_waits_for_raises_task_not_ready(fake_clock: FakeClock) -> None:
    spec = _event_gateway_spec()
    first = runner.start(spec, {})
    with pytest.raises(runner.TaskNotReady, match="not waiting for message 'nobody'"):
        runner.send_message(spec, first.state, "nobody", {})


def test_message_after_the_instance_ended_raises_task_not_ready(fake_clock: FakeClock) -> None:
    spec = _event_gateway_spec()
    done = runner.send_message(spec, runner.start(spec, {}).state, "report_ready", {})
    with pytest.raises(runner.TaskNotReady):
        runner.send_message(spec, done.state, "report_ready", {})


def test_event_gateway_takes_one_branch_when_message_meets_an_overdue_timer(fake_clock: FakeClock) -> None:
    spec = _event_gateway_spec("path_t = True", "path_m = True")
    first = runner.start(spec, {})
    fake_clock.advance(timedelta(minutes=31))
    # The timer is due, so it has won the race: the message finds nothing waiting for it ...
    with pytest.raises(runner.TaskNotReady):
        runner.send_message(spec, first.state, "report_ready", {"level": 2})
    # ... and firing the timers takes the timer branch only.
    step = runner.fire_timers(spec, first.state)
    assert {"s_t", "s_m"} & set(step.completed_elements) == {"s_t"}


# -- DMN ------------------------------------------------------------------------------------------


def _grading_loop_spec() -> LoadedSpec:
    files = bundle(start(), user_task("ut_input"), business_rule("br", "t_grade"), user_task("ut_review"),
                   gateway("gw"), end(), chain("start", "ut_input", "br", "ut_review", "gw"),
                   flow("gw", "ut_input", "again", "f_again"), flow("gw", "end", "not again", "f_done"))
    files["t_grade.dmn"] = (DATA / "t_grade.dmn").read_bytes()
    return load(files)


def _grade(spec: LoadedSpec, step: runner.Step, inputs: dict[str, Any]) -> runner.Step:
    """From ut_review: loop back, then fill ut_input; returns the step at the next ut_review."""
    if step.ready[0].spec_id == "ut_review":
        step = runner.complete(spec, step.state, step.ready[0].guid, {"again": True})
    assert step.ready[0].spec_id == "ut_input"
    step = runner.complete(spec, step.state, step.ready[0].guid, inputs)
    assert step.failure is None
    assert step.ready[0].spec_id == "ut_review"
    return step


def test_collect_table_run_twice_keeps_only_the_second_result() -> None:
    spec = _grading_loop_spec()
    first = _grade(spec, runner.start(spec, {}), {"attention": "high", "speed": "fast"})
    assert first.ready[0].data["level_hit"] == [1, 2]
    second = _grade(spec, first, {"attention": "low", "speed": "fast"})
    assert second.ready[0].data["level_hit"] == [2]
    assert second.ready[0].data["basis"] == ["传播快"]


def test_collect_table_without_a_matching_row_leaves_empty_lists() -> None:
    spec = _grading_loop_spec()
    first = _grade(spec, runner.start(spec, {}), {"attention": "high", "speed": "fast"})
    second = _grade(spec, first, {"attention": "low", "speed": "slow"})
    assert second.ready[0].data["level_hit"] == []
    assert second.ready[0].data["basis"] == []


# -- state ----------------------------------------------------------------------------------------


def _waiting_step() -> tuple[LoadedSpec, runner.Step]:
    spec = _linear(user_task("ut"), ids=("ut",))
    return spec, runner.start(spec, {"title": "舆情", "level": 2, "ratio": 0.5, "ok": True, "none": None,
                                     "tags": ["a", "b"], "nested": {"k": [1, {"x": "y"}]}})


def test_dumped_state_holds_no_specs() -> None:
    _, step = _waiting_step()
    dumped = json.loads(step.state)
    assert dumped["serializer_version"] == "1.5"
    assert "spec" not in dumped
    assert "subprocess_specs" not in dumped


def test_state_round_trip_keeps_task_data() -> None:
    spec, step = _waiting_step()
    workflow = load_state(step.state, spec, runner.SafeScriptEngine())
    again = load_state(dump_state(workflow), spec, runner.SafeScriptEngine())
    ready = [t for t in again.get_tasks(state=TaskState.READY) if t.task_spec.manual]
    assert [t.task_spec.name for t in ready] == ["ut"]
    assert ready[0].data == step.ready[0].data
    assert ready[0].data["nested"] == {"k": [1, {"x": "y"}]}


@pytest.mark.parametrize("version", ["1.0", "1.1", "1.4", "2.0", None, 1.5])
def test_load_state_refuses_other_serializer_versions_before_deserializing(
        monkeypatch: pytest.MonkeyPatch, version: Any) -> None:
    spec, step = _waiting_step()
    dumped = json.loads(step.state)
    if version is None:
        del dumped["serializer_version"]
    else:
        dumped["serializer_version"] = version
    calls: list[Any] = []
    monkeypatch.setattr(state.SERIALIZER, "from_dict", calls.append)
    with pytest.raises(StateError, match="is not loadable"):
        load_state(json.dumps(dumped), spec, runner.SafeScriptEngine())
    assert calls == []


@pytest.mark.parametrize("garbage", ["", "{", "not json", "\x00\x01"])
def test_load_state_refuses_garbage_json(garbage: str) -> None:
    spec, _ = _waiting_step()
    with pytest.raises(StateError, match="not valid JSON"):
        load_state(garbage, spec, runner.SafeScriptEngine())


@pytest.mark.parametrize("text", ["[]", "null", '"x"', '{"serializer_version": "1.5"}'])
def test_load_state_refuses_json_that_is_not_a_workflow(text: str) -> None:
    spec, _ = _waiting_step()
    with pytest.raises(StateError):
        load_state(text, spec, runner.SafeScriptEngine())


def test_load_state_refuses_a_workflow_with_broken_tasks() -> None:
    spec, step = _waiting_step()
    dumped = json.loads(step.state)
    dumped["tasks"] = {"not-a-uuid": {}}
    with pytest.raises(StateError, match="cannot be restored"):
        load_state(json.dumps(dumped), spec, runner.SafeScriptEngine())


@pytest.mark.parametrize("text", [None, "{", "[]", '{"serializer_version": "1.0"}',
                                  '{"serializer_version": "1.5", "spec": {"typename": "No"}, "subprocess_specs": {}}'])
def test_a_spec_that_cannot_be_restored_is_a_state_error(text: Any) -> None:
    """A deployed version whose stored spec is broken fails like a broken state: one instance's problem."""
    with pytest.raises(StateError, match="spec"):
        state.load_spec(f"broken-{text!r}", lambda: text)


# -- service tasks --------------------------------------------------------------------------------


def test_service_task_produces_a_side_effect_request() -> None:
    params = {"template": '"quick_report"', "recipients": "who", "urgent": "level < 2"}
    spec = _linear(service_task("st_notify", params=params), user_task("ut"), ids=("st_notify", "ut"))
    step = runner.start(spec, {"who": ["office_director"], "level": 1})
    assert step.failure is None
    [effect] = step.side_effects
    assert effect.operator == "notify"
    assert effect.params == {"template": "quick_report", "recipients": ["office_director"], "urgent": True}
    assert effect.task_spec == "st_notify"
    assert effect.process_id == "p"
    assert step.ready[0].data["spiff__st_notify_result"] == {"requested": True}


def test_service_task_request_is_not_repeated_on_later_advances() -> None:
    spec = _linear(service_task("st"), user_task("ut1"), user_task("ut2"), ids=("st", "ut1", "ut2"))
    first = runner.start(spec, {})
    step = runner.complete(spec, first.state, first.ready[0].guid, {})
    assert len(first.side_effects) == 1
    assert step.side_effects == []


def test_service_task_with_wrong_parameter_type_is_a_failure_without_side_effect() -> None:
    params = {"template": '"quick_report"', "recipients": "who"}
    spec = _linear(service_task("st", params=params), user_task("ut"), ids=("st", "ut"))
    step = runner.start(spec, {"who": "office_director"})
    assert step.failure is not None
    assert step.failure.element_id == "st"
    assert "parameter 'recipients' has the wrong type" in step.failure.reason
    assert step.side_effects == []


# -- environment: profile values and queries ---------------------------------------------------------


def test_profile_values_are_read_from_the_environment_of_the_advance() -> None:
    spec = _linear(script_task("s", 'approval = profile("release_approval")[str(level)]'), user_task("ut"),
                   ids=("s", "ut"))
    env = runner.Environment(profile={"release_approval": {"1": "external", "4": "group"}})
    assert runner.start(spec, {"level": 1}, env=env).ready[0].data["approval"] == "external"
    assert runner.start(spec, {"level": 4}, env=env).ready[0].data["approval"] == "group"


def test_a_missing_profile_value_fails_at_the_element_that_asked() -> None:
    spec = _linear(script_task("s", 'x = profile("no_such_key")'), user_task("ut"), ids=("s", "ut"))
    step = runner.start(spec, {}, env=runner.Environment(profile={}))
    assert step.failure is not None
    assert step.failure.element_id == "s"
    assert "no_such_key" in step.failure.reason


def test_a_script_cannot_change_the_profile_through_the_value_it_read() -> None:
    spec = _linear(script_task("s", 'v = profile("bodies")\nv["cac"] = "x"'), user_task("ut"), ids=("s", "ut"))
    values = {"bodies": {"cac": "市委网信办"}}
    step = runner.start(spec, {}, env=runner.Environment(profile=values))
    assert step.failure is None
    assert step.ready[0].data["v"] == {"cac": "x"}
    assert values == {"bodies": {"cac": "市委网信办"}}


def test_a_query_operator_stores_the_environments_answer_in_the_result_variable() -> None:
    asked: list[tuple[str, dict[str, Any]]] = []

    def query(name: str, params: dict[str, Any]) -> Any:
        asked.append((name, params))
        return {"incidents": 3}

    params = {"period_start": '"2026-10-01T00:00:00+08:00"', "period_end": '"2026-11-01T00:00:00+08:00"'}
    spec = _linear(service_task("st", "monthly_stats", params), user_task("ut"), ids=("st", "ut"))
    step = runner.start(spec, {}, env=runner.Environment(query=query))
    assert step.failure is None
    assert step.side_effects == []
    assert step.ready[0].data["spiff__st_result"] == {"incidents": 3}
    assert asked == [("monthly_stats", {"period_start": "2026-10-01T00:00:00+08:00",
                                        "period_end": "2026-11-01T00:00:00+08:00"})]


def test_a_query_without_an_environment_is_a_failure_of_its_element() -> None:
    spec = _linear(service_task("st", "incident_record", {}), user_task("ut"), ids=("st", "ut"))
    step = runner.start(spec, {})
    assert step.failure is not None
    assert step.failure.element_id == "st"
    assert "incident_record" in step.failure.reason


def test_ledger_and_notify_effects_carry_the_data_of_the_task_that_asked() -> None:
    spec = _linear(service_task("st_l", "ledger", {"kind": '"closed"'}), service_task("st_n"), user_task("ut"),
                   ids=("st_l", "st_n", "ut"))
    step = runner.start(spec, {"title": "某帖"})
    ledger, notify = step.side_effects
    assert ledger.operator == "ledger"
    assert ledger.params == {"kind": "closed"}
    assert ledger.data["title"] == "某帖"
    assert notify.data["title"] == "某帖"


def test_ledger_lines_reach_the_environment_before_a_later_query_of_the_same_advance() -> None:
    seen: list[str] = []

    def record(effect: Any) -> None:
        seen.append(f"record {effect.params['kind']}")

    def query(name: str, params: dict[str, Any]) -> Any:
        seen.append(f"query {name}")
        return {}

    spec = _linear(service_task("st_l", "ledger", {"kind": '"summary"'}), service_task("st_q", "incident_record", {}),
                   service_task("st_n"), user_task("ut"), ids=("st_l", "st_q", "st_n", "ut"))
    step = runner.start(spec, {}, env=runner.Environment(query=query, record=record))
    assert seen == ["record summary", "query incident_record"]
    assert [e.operator for e in step.side_effects] == ["notify"]  # notices still wait for the commit


def _message_start_process() -> LoadedSpec:
    body = ('<bpmn:startEvent id="ms"><bpmn:messageEventDefinition messageRef="Message_msg_yq_alert">'
            "<bpmn:extensionElements><spiffworkflow:messageVariable>alert</spiffworkflow:messageVariable>"
            "</bpmn:extensionElements></bpmn:messageEventDefinition></bpmn:startEvent>")
    return load(bundle(body, script_task("s", 'title = alert["title"]'), user_task("ut"), end(),
                       chain("ms", "s", "ut", "end"), messages=("msg_yq_alert",)))


def test_a_message_start_process_begins_with_the_payload_in_its_message_variable() -> None:
    step = runner.start_by_message(_message_start_process(), "msg_yq_alert", {"title": "网传某事"}, {"source": "api"})
    assert step.failure is None
    [task] = step.ready
    assert task.spec_id == "ut"
    assert task.data["title"] == "网传某事"
    assert task.data["source"] == "api"


def test_a_process_is_not_started_by_a_message_it_does_not_start_on() -> None:
    with pytest.raises(runner.TaskNotReady, match="does not start on message 'other'"):
        runner.start_by_message(_message_start_process(), "other", {}, {})


# -- asynchronous service tasks -------------------------------------------------------------------


def test_an_asynchronous_service_task_waits_for_its_answer_and_is_resumed_once() -> None:
    spec = _linear(service_task("st_call", "call_system", {"channel": '"superior"', "payload": '{"n": number}'}),
                   user_task("ut_after"), ids=("st_call", "ut_after"))
    first = runner.start(spec, {"number": 7})
    assert first.ready == [] and not first.ended
    assert [(e.operator, e.params) for e in first.side_effects] == [("call_system",
                                                                    {"channel": "superior", "payload": {"n": 7}})]
    assert _states(spec, first)["st_call"] == "STARTED"
    guid = first.side_effects[0].task_guid
    resumed = runner.resume_service(spec, first.state, guid, {"status": 200, "body": {"ok": True}})
    assert [t.spec_id for t in resumed.ready] == ["ut_after"]
    assert resumed.data["spiff__st_call_result"] == {"status": 200, "body": {"ok": True}}
    with pytest.raises(runner.TaskNotReady):
        runner.resume_service(spec, resumed.state, guid, {"status": 200})
    with pytest.raises(runner.TaskNotReady):  # a user task is not a call waiting for an answer
        runner.resume_service(spec, resumed.state, resumed.ready[0].guid, {})


# -- warm workflows (decision 114) ----------------------------------------------------------------


def _two_tasks() -> LoadedSpec:
    return _linear(user_task("u1"), user_task("u2"), ids=("u1", "u2"))


def _open(spec: LoadedSpec, step: runner.Step, element: str) -> str:
    return next(t.guid for t in step.ready if t.spec_id == element)


def test_the_next_step_continues_the_workflow_its_state_was_written_from() -> None:
    spec = _two_tasks()
    state.WARM.clear()
    first = runner.start(spec, {"n": 1})
    kept = state.WARM.items[first.state]
    hits = state.WARM.hits
    second = runner.complete(spec, first.state, _open(spec, first, "u1"), {"a": 1})
    assert state.WARM.hits == hits + 1
    assert first.state not in state.WARM.items  # taken, never shared by two steps
    assert state.WARM.items[second.state] is kept  # the same object, one step further
    assert [t.spec_id for t in second.ready] == ["u2"]
    assert second.data["a"] == 1


def test_other_text_is_restored_and_a_step_not_written_is_never_continued() -> None:
    spec = _two_tasks()
    state.WARM.clear()
    first = runner.start(spec, {"n": 1})
    guid = _open(spec, first, "u1")
    # the same state, written again by something else (a repair, another process): other text, a restore
    rewritten = json.dumps(json.loads(first.state), sort_keys=True)
    misses = state.WARM.misses
    second = runner.complete(spec, rewritten, guid, {"a": 2})
    assert state.WARM.misses == misses + 1
    assert [t.spec_id for t in second.ready] == ["u2"]
    # the transaction of `second` rolled back: the row still holds `first`, whose object is still kept
    third = runner.complete(spec, first.state, guid, {"a": 3})
    assert third.data["a"] == 3 and third.state != second.state
    with pytest.raises(runner.TaskNotReady):  # u1 is done in `third` (its object, continued): refused
        runner.complete(spec, third.state, guid, {"a": 4})


def test_another_versions_objects_are_not_continued_and_zero_keeps_none() -> None:
    spec, other = _two_tasks(), _linear(user_task("u1"), user_task("u3"), ids=("u1", "u3"))
    state.WARM.clear()
    first = runner.start(spec, {"n": 1})
    assert state.WARM.take(first.state, other) is None  # same text, other spec objects: restored instead
    state.WARM.resize(0)
    try:
        runner.start(spec, {"n": 1})
        assert not state.WARM.items
    finally:
        state.WARM.resize(32)
