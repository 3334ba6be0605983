"""Poison state in the operations: timers, batches, message delivery and the migration preview go on
past an instance whose stored state (or whose version's spec) cannot be loaded, and put it in error
once, with its reason; terminating it reads no state."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select, update

from app.db import transaction
from app.extensions import db
from app.jobs import registry
from app.models import BatchOperation, InstanceStatus, Notification, ProcessDefinition, ProcessInstance
from app.operations import batches, catalog, instance_views, instances, interventions, migrations, tasks, timer_firing
from app.operations.errors import StateUnreadable
from tests.conftest import make_user
from tests.operations.console import DONE, console_v2, deploy_console, open_task

GARBLED = '{"tasks": '


@pytest.fixture
def console(db, fake_clock):
    deploy_console()
    admin, staff = make_user(["admin"]), make_user(["office_staff"])
    rows = [instances.start_instance("t_console", staff, {"divisor": 5, "title": f"实例{n}"}) for n in range(3)]
    return admin, staff, rows


def _corrupt(instance, text: str = GARBLED) -> None:
    with transaction() as session:
        session.execute(update(ProcessInstance).where(ProcessInstance.id == instance.id).values(state_json=text))


def _fresh(instance):
    db.session.expire_all()
    return db.session.get(ProcessInstance, instance.id)


def _alerts(instance) -> int:
    return db.session.scalar(select(func.count(Notification.id)).where(Notification.instance_id == instance.id,
                                                                       Notification.kind == "instance_error"))


def test_due_timers_fire_past_an_unreadable_state_and_it_goes_into_error_once(console, fake_clock):
    _admin, _staff, rows = console
    _corrupt(rows[1])
    fake_clock.advance(hours=3)  # t_console's 2-hour timer is due for all three
    assert timer_firing.fire_due_timers() == 3
    assert [_fresh(row).status for row in rows] == [InstanceStatus.WAITING, InstanceStatus.ERROR,
                                                    InstanceStatus.WAITING]
    assert all("timers_fired" in [e.action for e in instance_views.instance_events(row)] for row in (rows[0], rows[2]))
    assert "流程状态数据无法读取" in _fresh(rows[1]).error_text and _fresh(rows[1]).next_timer_at is None
    fake_clock.advance(hours=3)
    timer_firing.fire_due_timers()
    assert _alerts(rows[1]) == 1  # not tried again, so not alerted again


def test_a_version_whose_spec_cannot_be_restored_puts_only_its_instances_in_error(console, fake_clock):
    _admin, staff, rows = console
    deploy_console({"t_console.bpmn": console_v2()})
    newer = instances.start_instance("t_console", staff, {"divisor": 5, "title": "新版本实例"})
    with transaction() as session:
        session.execute(update(ProcessDefinition).where(ProcessDefinition.id == rows[0].definition_id)
                        .values(spec_json='{"serializer_version": "1.5", "spec": {}, "subprocess_specs": {}}'))
    catalog.forget_all()
    fake_clock.advance(hours=3)
    timer_firing.fire_due_timers()
    assert _fresh(newer).status == InstanceStatus.WAITING
    assert "timers_fired" in [event.action for event in instance_views.instance_events(_fresh(newer))]
    assert {_fresh(row).status for row in rows} == {InstanceStatus.ERROR}
    assert "spec cannot be restored" in _fresh(rows[0]).error_text and _alerts(rows[0]) == 1


def test_a_task_of_an_unreadable_instance_is_refused_clearly_and_the_instance_goes_into_error(console):
    _admin, staff, rows = console
    _corrupt(rows[0])
    task = open_task(rows[0], "ut_a")
    with pytest.raises(StateUnreadable, match="状态数据无法读取"):
        tasks.complete_task(task.public_id, DONE, staff)
    assert _fresh(rows[0]).status == InstanceStatus.ERROR
    assert open_task(rows[0], "ut_a") is not None  # nothing of the submission was kept half-done


def test_a_message_to_an_unreadable_instance_is_not_delivered_and_the_sender_goes_on(console):
    _admin, _staff, rows = console
    _corrupt(rows[0])
    with transaction() as session:
        target = session.get(ProcessInstance, rows[0].id)
        assert instances.deliver_message(session, target, "msg_any", {"x": 1}, None) is False
    assert _fresh(rows[0]).status == InstanceStatus.ERROR and _alerts(rows[0]) == 1


def test_a_batch_records_an_unreadable_instance_as_failed_and_goes_on(console):
    admin, _staff, rows = console
    deploy_console({"t_console.bpmn": console_v2()})
    v2 = migrations.definition("t_console", 2)
    _corrupt(rows[1])
    previews, _total = migrations.preview(migrations.definition("t_console", 1), v2)
    assert [p.plan.movable for p in previews] == [True, False, True]
    assert "无法读取" in previews[1].plan.blockers[0]
    batch = batches.start_batch(admin, "migrate", "迁移", selected=[row.public_id for row in rows],
                                params={"to_definition_id": v2.id})
    registry.run_due("test")
    batch = db.session.scalar(select(BatchOperation).where(BatchOperation.id == batch.id)
                              .execution_options(populate_existing=True))
    assert (batch.status, batch.succeeded, batch.failed) == ("done", 2, 1)
    assert [r["ok"] for r in batch.results] == [True, False, True] and "无法读取" in batch.results[1]["message"]
    assert _fresh(rows[1]).status == InstanceStatus.ERROR and _alerts(rows[1]) == 1


def test_terminate_reads_no_state_and_retry_reports_a_state_still_unreadable(console, fake_clock):
    admin, _staff, rows = console
    _corrupt(rows[0])
    _corrupt(rows[1])
    fake_clock.advance(hours=3)
    timer_firing.fire_due_timers()
    with pytest.raises(StateUnreadable, match="状态数据无法读取"):
        interventions.act(rows[0].public_id, "retry", None, admin, "重试")
    assert _fresh(rows[0]).status == InstanceStatus.ERROR and _alerts(rows[0]) == 1
    interventions.act(rows[1].public_id, "terminate", None, admin, "状态损坏")
    assert _fresh(rows[1]).status == InstanceStatus.TERMINATED
    view = interventions.instance_repair_view(_fresh(rows[0]))
    assert "无法读取" in view["unreadable"] and view["timers"] == []
    assert "无法读取" in instance_views.instance_diagram(_fresh(rows[0]))["error"]
