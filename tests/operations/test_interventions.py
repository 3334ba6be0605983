"""Admin interventions on a running instance: each audited with its reason, refused whole on a stale
version (optimistic lock), and leaving the instance in a state the engine can go on from."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from sqlalchemy import select

from app import clock
from app.db import transaction
from app.extensions import db
from app.models import AuditEvent, HumanTask, InstanceStatus, Notification, ProcessInstance, TaskStatus
from app.operations import instance_views, instances, interventions, tasks, timer_firing
from app.operations.errors import Conflict, Invalid
from tests.conftest import make_user
from tests.operations.console import DONE, deploy_console, open_task


@pytest.fixture
def console(db):
    deploy_console()
    admin = make_user(["admin"])
    staff = make_user(["office_staff"])
    instance = instances.start_instance("t_console", staff, {"divisor": 5, "title": "控制台测试实例"})
    return instance, admin, staff


def _audit(instance, action):
    return db.session.scalars(select(AuditEvent).where(AuditEvent.instance_id == instance.id,
                                                       AuditEvent.action == action)).all()


def _element(instance, element_id):
    """The status of an element of the instance (as the diagram shows it), or None if not reached."""
    status = instance_views.instance_diagram(_fresh(instance))["processes"][0]["status"]
    return status.get(element_id, {}).get("status")


def _fresh(instance):
    db.session.expire_all()
    return db.session.get(ProcessInstance, instance.id)


def test_suspend_stops_tasks_and_timers_and_resume_lets_them_go_on(console, fake_clock):
    instance, admin, staff = console
    interventions.act(instance.public_id, "suspend", instance.version, admin, "等待上级意见")
    instance = _fresh(instance)
    assert instance.status == InstanceStatus.SUSPENDED and instance.suspended_from == InstanceStatus.WAITING
    task = open_task(instance, "ut_a")
    with pytest.raises(Conflict, match="挂起"):
        tasks.complete_task(task.public_id, DONE, staff)
    fake_clock.advance(hours=3)
    timer_firing.fire_due_timers()
    assert _element(instance, "sc_divide") is None  # the due timer did not fire
    interventions.act(instance.public_id, "resume", _fresh(instance).version, admin, "上级已答复")
    assert _fresh(instance).status == InstanceStatus.WAITING
    timer_firing.fire_due_timers()  # the timer that came due while suspended fires now
    assert _element(instance, "sc_divide") == "completed"
    tasks.complete_task(open_task(instance, "ut_a").public_id, DONE, staff)
    events = _audit(instance, "instance_suspended") + _audit(instance, "instance_resumed")
    reasons = [e.detail["reason"] for e in events]
    assert reasons == ["等待上级意见", "上级已答复"]


def test_a_stale_version_is_refused_and_changes_nothing(console):
    instance, admin, staff = console
    seen = instance.version
    tasks.claim_task(open_task(instance, "ut_a").public_id, staff)
    tasks.complete_task(open_task(instance, "ut_a").public_id, DONE, staff)  # someone acted meanwhile
    with pytest.raises(Conflict, match="已有变化"):
        interventions.act(instance.public_id, "terminate", seen, admin, "误操作?")
    assert _fresh(instance).status == InstanceStatus.WAITING
    assert not _audit(instance, "instance_terminated")
    # Each intervention moves the version on, so a second one from the same page is refused too.
    current = _fresh(instance).version
    interventions.act(instance.public_id, "suspend", current, admin, "一")
    with pytest.raises(Conflict):
        interventions.act(instance.public_id, "resume", current, admin, "二")


def test_a_reason_is_required(console):
    instance, admin, _staff = console
    with pytest.raises(Invalid) as refused:
        interventions.act(instance.public_id, "suspend", instance.version, admin, "  ")
    assert "reason" in refused.value.errors
    assert _fresh(instance).status == InstanceStatus.WAITING


def test_terminate_cancels_open_tasks_and_timers(console, fake_clock):
    instance, admin, _staff = console
    interventions.act(instance.public_id, "terminate", instance.version, admin, "重复登记")
    instance = _fresh(instance)
    assert instance.status == InstanceStatus.TERMINATED and instance.ended_at is not None
    assert instance.next_timer_at is None
    assert open_task(instance, "ut_a") is None
    assert db.session.scalar(select(HumanTask.status).where(HumanTask.instance_id == instance.id)) == "cancelled"
    fake_clock.advance(hours=3)
    assert timer_firing.fire_due_timers() == 0
    assert _audit(instance, "instance_terminated")[0].detail["cancelled_tasks"] == 1


def test_terminate_tells_whoever_held_or_could_take_a_cancelled_task(console):
    instance, admin, staff = console
    colleague = make_user(["office_staff"])
    tasks.claim_task(open_task(instance, "ut_a").public_id, staff)
    interventions.act(instance.public_id, "terminate", _fresh(instance).version, admin, "重复登记")
    notices = db.session.scalars(select(Notification).where(Notification.kind == "task_cancelled")).all()
    # The holder only (a colleague of the lane did not hold it), never the admin who terminated.
    assert [n.user_id for n in notices] == [staff.id] and colleague.id not in {n.user_id for n in notices}
    body = notices[0].body
    assert "已取消" in body and "终止理由:重复登记" in body and admin.display_name in body
    assert notices[0].title.startswith("【已终止】")


def test_terminate_of_an_unclaimed_task_tells_its_whole_lane(console):
    instance, admin, staff = console
    colleague = make_user(["office_staff"])
    interventions.act(instance.public_id, "terminate", instance.version, admin, "误报")
    told = {n.user_id for n in db.session.scalars(select(Notification).where(Notification.kind == "task_cancelled"))}
    assert {staff.id, colleague.id} <= told and admin.id not in told


def test_edit_data_then_retry_repairs_an_instance_in_error(db, fake_clock):
    deploy_console()
    admin = make_user(["admin"])
    instance = instances.start_instance("t_console", make_user(["office_staff"]), {"divisor": 0})
    fake_clock.advance(hours=2, minutes=1)
    timer_firing.fire_due_timers()
    instance = _fresh(instance)
    assert instance.status == InstanceStatus.ERROR and instance.error_element == "sc_divide"
    alerts = db.session.scalars(select(Notification).where(Notification.user_id == admin.id,
                                                           Notification.kind == "instance_error")).all()
    assert len(alerts) == 1 and alerts[0].urgent and alerts[0].link == f"/instances/{instance.public_id}"
    assert [row[0].id for row in interventions.failed_instances()] == [instance.id]
    with pytest.raises(Conflict):  # only a suspended instance can be resumed
        interventions.act(instance.public_id, "resume", instance.version, admin, "不是挂起")
    interventions.edit_data(instance.public_id, instance.version, admin, "除数录错", {"divisor": 4}, [])
    instance = _fresh(instance)
    assert instance.status == InstanceStatus.ERROR  # editing data does not run anything
    edit = _audit(instance, "data_edited")[0]
    assert edit.detail["before"] == {"divisor": 0} and edit.detail["after"] == {"divisor": 4}
    interventions.act(instance.public_id, "retry", instance.version, admin, "已更正除数")
    instance = _fresh(instance)
    assert instance.status == InstanceStatus.WAITING and instance.error_element is None
    assert _element(instance, "sc_divide") == "completed"  # ran with the corrected divisor
    assert interventions.failed_instances() == []
    assert _audit(instance, "instance_retried")[0].detail["element"] == "sc_divide"


def test_retry_without_a_fix_fails_again_and_stays_in_error(db, fake_clock):
    deploy_console()
    admin = make_user(["admin"])
    instance = instances.start_instance("t_console", make_user(["office_staff"]), {"divisor": 0})
    fake_clock.advance(hours=3)
    timer_firing.fire_due_timers()
    interventions.act(instance.public_id, "retry", _fresh(instance).version, admin, "再试一次")
    instance = _fresh(instance)
    assert instance.status == InstanceStatus.ERROR and instance.error_element == "sc_divide"


def test_reassign_to_a_person_and_to_a_role(console):
    instance, admin, staff = console
    other = make_user(["office_staff"])
    task = open_task(instance, "ut_a")
    interventions.reassign_task(task.public_id, instance.version, admin, "原办理人出差", username=other.username)
    task = db.session.get(HumanTask, task.id)
    assert task.assignee_id == other.id and task in tasks.list_my_tasks(other)
    with pytest.raises(Invalid):
        interventions.reassign_task(task.public_id, None, admin, "x", username="nobody_here")
    interventions.reassign_task(task.public_id, None, admin, "改由信息员办理", role="info_officer")
    db.session.expire_all()
    task = db.session.get(HumanTask, task.id)
    assert task.assignee_id is None and task.candidate_roles == ["info_officer"]
    assert task in tasks.list_group_tasks(make_user(["info_officer"]))
    assert task not in tasks.list_group_tasks(staff)
    events = _audit(instance, "task_reassigned")
    assert events[0].detail["after"]["assignee"] == other.username
    assert events[1].detail["before"]["assignee"] == other.username


def test_reassign_to_a_person_outside_the_task_s_roles_or_unit_needs_a_confirmation(console):
    instance, admin, _staff = console
    task = open_task(instance, "ut_a")
    director = make_user(["office_director"], display_name="王主任")
    with pytest.raises(Invalid) as refused:
        interventions.reassign_task(task.public_id, instance.version, admin, "出差", username=director.username)
    assert refused.value.errors["assignee"] == [
        "王主任不在“核查情况”的办理角色(办公室工作人员)中。确需转办,请勾选“仍然转办”后再提交。"]
    assert db.session.get(HumanTask, task.id).assignee_id is None and not _audit(instance, "task_reassigned")

    interventions.reassign_task(task.public_id, instance.version, admin, "出差", username=director.username,
                                confirmed=True)
    db.session.expire_all()
    assert db.session.get(HumanTask, task.id).assignee_id == director.id
    [event] = _audit(instance, "task_reassigned")
    assert event.detail["after"]["outside"] == "王主任不在“核查情况”的办理角色(办公室工作人员)中。"

    with transaction():  # a task of section staff scoped to one unit (as a dispatched unit task is)
        row = db.session.get(HumanTask, task.id)
        row.unit_code, row.candidate_roles_text = "employment", "section_staff"
    outsider = make_user(["section_staff"], display_name="社保科小李", unit="social_insurance")
    with pytest.raises(Invalid, match=re.escape("社保科小李不属于“核查情况”的承办单位(就业促进科)。")):
        interventions.reassign_task(task.public_id, None, admin, "转办", username=outsider.username)
    insider = make_user(["section_staff"], unit="employment")
    interventions.reassign_task(task.public_id, None, admin, "转办", username=insider.username)
    assert db.session.get(HumanTask, task.id).assignee_id == insider.id


def test_complete_on_behalf_validates_the_form_and_skip_takes_the_default_route(console):
    instance, admin, _staff = console
    task = open_task(instance, "ut_a")
    with pytest.raises(Invalid) as refused:
        interventions.complete_on_behalf(task.public_id, instance.version, admin, "办理人病假", {"findings": ""})
    assert "findings" in refused.value.errors
    assert open_task(instance, "ut_a") is not None
    interventions.edit_data(instance.public_id, instance.version, admin, "需要复核", {"review": "yes"}, [])
    interventions.complete_on_behalf(task.public_id, _fresh(instance).version, admin, "办理人病假", DONE)
    done = db.session.get(HumanTask, task.id)
    assert done.status == TaskStatus.COMPLETED and done.completed_by_id == admin.id
    review = open_task(instance, "ut_b")
    assert review is not None  # the data reached the gateway
    interventions.complete_on_behalf(review.public_id, None, admin, "复核人不在岗,跳过", None)
    assert db.session.get(HumanTask, review.id).status == TaskStatus.COMPLETED
    assert [e.action for e in _audit(instance, "task_skipped")] == ["task_skipped"]


def test_change_a_task_due_time_and_reschedule_a_timer(console, fake_clock):
    instance, admin, _staff = console
    task = open_task(instance, "ut_a")
    due = clock.now() + timedelta(hours=1)
    interventions.change_task_due(task.public_id, instance.version, admin, "领导要求一小时内", due)
    assert db.session.get(HumanTask, task.id).due_at == due
    instance = _fresh(instance)
    timers = interventions.instance_repair_view(instance)["timers"]
    assert [t.element_id for t in timers] == ["wait_2h"]
    assert timers[0].due_at == clock.now() + timedelta(hours=2)
    sooner = clock.now() + timedelta(minutes=10)
    interventions.reschedule_timer(instance.public_id, instance.version, admin, "提前计算", timers[0].guid, sooner)
    instance = _fresh(instance)
    assert instance.next_timer_at == sooner
    fake_clock.advance(minutes=9)
    timer_firing.fire_due_timers()
    assert _element(instance, "sc_divide") is None
    fake_clock.advance(minutes=2)
    timer_firing.fire_due_timers()
    assert _element(instance, "sc_divide") == "completed"
    assert _audit(instance, "timer_rescheduled")[0].detail["element"] == "wait_2h"


def test_a_past_time_fires_the_timer_at_once(console):
    instance, admin, _staff = console
    timer = interventions.instance_repair_view(instance)["timers"][0]
    interventions.reschedule_timer(instance.public_id, instance.version, admin, "立即执行", timer.guid,
                                   clock.now() - timedelta(minutes=1))
    assert _element(instance, "sc_divide") == "completed"


def test_send_a_message_the_instance_waits_for(console):
    instance, admin, _staff = console
    assert interventions.instance_repair_view(instance)["messages"] == ["msg_t_ping"]
    with pytest.raises(Conflict):
        interventions.send_message(instance.public_id, instance.version, admin, "电话通知", "msg_other", {})
    interventions.send_message(instance.public_id, _fresh(instance).version, admin, "上级电话通知", "msg_t_ping",
                               {"note": "已知悉"})
    assert interventions.instance_repair_view(_fresh(instance))["messages"] == []
    assert _audit(instance, "message_sent_by_admin")[0].detail["reason"] == "上级电话通知"
