"""yq_follow_up.bpmn: the follow-up loop — rounds by timer (with a prompt) and by message, cannot-guide
with a reply plan answered by the chosen person, subsiding confirmed or not, worsening escalated;
every log, plan, reply and confirmation goes into the ledger."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from app import forms
from app.extensions import db
from app.models import InstanceStatus, Notification
from app.operations import instance_views, instances, tasks
from app.operations.errors import Conflict, Invalid
from tests.conftest import make_user
from tests.processes.flow import Flow

T0 = "2026-11-25T09:00:00+08:00"
LOG = {"observed_at": T0}
SUBSIDED = {"subsided_at": "2026-11-25T08:30:00+08:00", "basis": "新增帖文和评论明显减少",
            "subsided_decision": "confirm"}


@pytest.fixture
def people(db):
    return {
        "commentator": make_user(["commentator"]),
        "monitor": make_user(["monitor"]),
        "leader": make_user(["group_leader"]),
        "deputy": make_user(["group_deputy"]),
        "director": make_user(["office_director"]),
        "staff": make_user(["office_staff"]),
    }


@pytest.fixture
def flow(db):
    return Flow("yq_follow_up", {"title": "某事件", "incident_no": "YQ-2026-9001", "follow_up_every": "PT4H"})


def _recipients(flow, kind):
    return set(db.session.scalars(select(Notification.user_id).where(
        Notification.instance_id == flow.instance.id, Notification.kind == kind)))


def test_no_change_waits_for_the_interval_then_prompts_the_follow_up_lane(flow, people, fake_clock):
    flow.do("ut_follow_up_log", **LOG, outcome="no_change")
    assert flow.open() == [] and flow.instance.status == InstanceStatus.WAITING
    fake_clock.advance(hours=3, minutes=59)
    flow.fire_timers()
    assert flow.open() == [] and flow.notifications() == []
    fake_clock.advance(minutes=1, seconds=1)
    flow.fire_timers()
    assert flow.open() == ["ut_follow_up_log"]
    prompted = _recipients(flow, "follow_up_due")
    assert {people["commentator"].id, people["monitor"].id} <= prompted
    assert not prompted & {people["leader"].id, people["director"].id, people["staff"].id}
    assert not db.session.scalar(select(Notification.urgent).where(Notification.kind == "follow_up_due").limit(1))
    assert flow.ledger() == [("follow_up", {"observed_at": T0, "outcome": "no_change"})]


def test_the_interval_is_the_follow_up_every_the_caller_set(db, fake_clock):
    flow = Flow("yq_follow_up", {"title": "某事件", "follow_up_every": "P1D"})
    flow.do("ut_follow_up_log", **LOG, outcome="no_change")
    fake_clock.advance(hours=23)
    flow.fire_timers()
    assert flow.open() == []
    fake_clock.advance(hours=1, seconds=1)
    flow.fire_timers()
    assert flow.open() == ["ut_follow_up_log"]


def test_new_information_starts_a_round_at_once_without_a_prompt(flow):
    flow.do("ut_follow_up_log", **LOG, outcome="guided", guidance_given="已在跟帖中解答")
    instances.send_message(flow.instance.public_id, "msg_yq_update", {"note": "新帖转发量上升"}, flow.user)
    assert flow.task("ut_follow_up_log").context["update"] == {"note": "新帖转发量上升"}
    assert flow.notifications() == []
    with pytest.raises(Conflict):
        instances.send_message(flow.instance.public_id, "msg_yq_update", {"note": "again"}, flow.user)
    kind, entry = flow.ledger()[0]
    assert kind == "follow_up" and entry["guidance_given"] == "已在跟帖中解答"


def test_a_guided_log_needs_the_guidance_given(flow):
    with pytest.raises(Invalid):
        flow.do("ut_follow_up_log", **LOG, outcome="guided")
    assert flow.open() == ["ut_follow_up_log"]


def test_cannot_guide_goes_to_the_leadership_and_the_chosen_person_replies(flow, people):
    flow.do("ut_follow_up_log", **LOG, outcome="cannot_guide", questions="网民追问补贴何时到账")
    assert flow.open() == ["ut_reply_plan"]
    alerted = _recipients(flow, "cannot_guide")
    assert {people["leader"].id, people["deputy"].id, people["director"].id} <= alerted
    assert not alerted & {people["commentator"].id, people["monitor"].id, people["staff"].id}
    plan = flow.task("ut_reply_plan")
    assert plan.context["questions"] == "网民追问补贴何时到账"
    flow.do("ut_reply_plan", reply_plan="说明发放时间和查询渠道", reply_by=people["commentator"].username)
    reply = flow.task("ut_reply_by_plan")
    assert reply.assignee_id == people["commentator"].id
    assert reply.context["reply_plan"] == "说明发放时间和查询渠道"
    assert [t.spec_id for t in tasks.list_my_tasks(people["commentator"])] == ["ut_reply_by_plan"]
    with pytest.raises(Conflict):  # it is the chosen person's task, not the lane's
        tasks.complete_task(reply.public_id, {"replied_at": T0, "content": "已回复"}, flow.user)
    tasks.complete_task(reply.public_id, {"replied_at": T0, "content": "已按方案回复",
                                          "links": ["https://weibo.com/gov/2"]}, people["commentator"])
    db.session.refresh(flow.instance)
    assert flow.open() == [] and flow.instance.status == InstanceStatus.WAITING
    assert flow.instance.next_timer_at is not None
    assert [k for k, _ in flow.ledger()] == ["follow_up", "reply_plan", "reply"]
    assert flow.ledger()[2][1]["content"] == "已按方案回复"


def test_subsiding_must_be_confirmed_and_may_continue(flow, fake_clock):
    flow.do("ut_follow_up_log", **LOG, outcome="subsiding")
    form = tasks.task_form(flow.task("ut_confirm_subsided"))
    shown = {f.name: f.value for f in forms.build_fields(form, context=flow.task("ut_confirm_subsided").context)}
    assert shown["subsided_at"] == "2026-11-25T09:00"  # defaults to now (decision 27)
    flow.do("ut_confirm_subsided", **{**SUBSIDED, "subsided_decision": "continue"})
    assert flow.instance.status == InstanceStatus.WAITING and flow.open() == []
    assert flow.incident().subsided_at is None
    instances.send_message(flow.instance.public_id, "msg_yq_update", {"note": "仍有讨论"}, flow.user)
    flow.do("ut_follow_up_log", **LOG, outcome="subsiding")
    flow.do("ut_confirm_subsided", **SUBSIDED)
    assert flow.instance.status == InstanceStatus.COMPLETED
    assert flow.instance.data["subsided_at"] == SUBSIDED["subsided_at"]
    assert flow.incident().subsided_at is not None
    assert [k for k, _ in flow.ledger()] == ["follow_up", "subsided", "follow_up", "subsided"]
    assert flow.ledger()[1][1]["subsided_decision"] == "continue"


def test_worsening_ends_the_loop_with_an_escalation(flow):
    with pytest.raises(Invalid):
        flow.do("ut_follow_up_log", **LOG, outcome="worsening")
    flow.do("ut_follow_up_log", **LOG, outcome="worsening", worsening_desc="出现线下聚集苗头")
    assert flow.instance.status == InstanceStatus.COMPLETED and flow.open() == []
    assert flow.instance.next_timer_at is None
    reached = instance_views.instance_diagram(flow.instance)["processes"][0]["status"]
    assert reached["ee_worsening"]["status"] == "completed" and "ut_confirm_subsided" not in reached
    assert flow.ledger() == [("follow_up", {"observed_at": T0, "outcome": "worsening",
                                            "worsening_desc": "出现线下聚集苗头"})]
