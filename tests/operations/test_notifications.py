"""Who a notify service task reaches: roles, the initiator, a lane's roles, a task's assignee."""

from __future__ import annotations

from sqlalchemy import select

from app.db import transaction
from app.engine.services import SideEffect
from app.models import HumanTask, Notification
from app.operations import notifications
from tests.processes.answers import REGISTER
from tests.processes.flow import Flow


def test_recipients_by_lane_and_by_assignee(db, user_factory):
    leader = user_factory(["group_leader"])
    bystander = user_factory(["spokesperson"])
    flow = Flow("yq_incident", incident=True)
    flow.do("ut_register", **REGISTER)
    effect = SideEffect(operator="notify", params={"template": "worsening",
                                                   "recipients": ["lane:领导小组", "assignee:ut_register"]},
                        task_spec="st_test", process_id="yq_incident", task_guid="test-guid")
    with transaction() as session:
        instance = session.merge(flow.instance)
        notifications.deliver(session, instance, effect)
    reached = set(db.session.scalars(select(Notification.user_id).where(Notification.dedup_key.like("%test-guid%"))))
    assert leader.id in reached and flow.user.id in reached  # the lane's role, and who registered
    assert bystander.id not in reached


def test_involved_reaches_whoever_held_or_did_a_task_of_the_instance(db, user_factory):
    claimer = user_factory(["office_director"])
    bystander = user_factory(["office_director"])
    flow = Flow("yq_incident", incident=True)
    flow.do("ut_register", **REGISTER)
    flow.task("ut_confirm_level").assignee_id = claimer.id  # claimed, not done yet
    db.session.flush()
    effect = SideEffect(operator="notify", params={"template": "level_upgraded", "recipients": ["involved"]},
                        task_spec="st_test", process_id="yq_incident", task_guid="involved-guid")
    with transaction() as session:
        notifications.deliver(session, session.merge(flow.instance), effect)
    reached = set(db.session.scalars(select(Notification.user_id).where(
        Notification.dedup_key.like("%involved-guid%"))))
    assert reached == {flow.user.id, claimer.id}  # registered the incident; holds its next task
    assert bystander.id not in reached


def test_a_task_nobody_can_take_is_told_to_the_admins_and_the_office(db, user_factory):
    from tests.processes.answers import CONFIRM, REQUEST  # noqa: PLC0415

    admin, director = user_factory(["admin"]), user_factory(["office_director"])
    user_factory(["section_head"], unit="employment")  # a section head, but of another unit
    flow = Flow("yq_incident", incident=True, unit="employment")
    flow.do("ut_register", **REGISTER)
    flow.do("ut_confirm_level", **{**CONFIRM, "lead_unit": "policy"})  # nobody works in 政策法规科
    flow.do("ut_request_instruction", **REQUEST)
    flow.do("ut_instruction_decision", decision="approve")
    alerts = db.session.scalars(select(Notification).where(Notification.kind == "task_unstaffed")).all()
    assert {a.user_id for a in alerts} >= {admin.id, director.id}
    assert {a.title for a in alerts} == {"无人可办理:调查核实(YQ-2026-0001)"}
    assert "政策法规科" in alerts[0].body
    links = {a.user_id: a.link for a in alerts}
    task = db.session.scalar(select(HumanTask).where(HumanTask.spec_id == "ut_investigate"))
    assert links[admin.id].startswith("/instances/")  # the admin reassigns it from the console
    assert links[director.id] == f"/tasks/{task.public_id}"  # the office opens the task itself
