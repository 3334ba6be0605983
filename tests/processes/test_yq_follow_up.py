"""yq_follow_up.bpmn: the follow-up loop — timer and message rounds, cannot-guide, subsiding, worsening."""

from __future__ import annotations

import pytest

from app.models import InstanceStatus
from app.operations import instances
from app.operations.errors import Conflict
from tests.processes.answers import LOG, SUBSIDED
from tests.processes.flow import Flow


@pytest.fixture
def flow(db):
    return Flow("yq_follow_up", {"title": "某事件", "follow_up_every": "P1D"})


def test_no_change_waits_a_day_then_asks_again(flow, fake_clock):
    flow.do("ut_follow_up_log", **LOG, outcome="no_change")
    assert flow.open() == [] and flow.instance.next_timer_at is not None
    fake_clock.advance(hours=23)
    flow.fire_timers()
    assert flow.open() == []
    fake_clock.advance(hours=1, seconds=1)
    flow.fire_timers()
    assert flow.open() == ["ut_follow_up_log"]


def test_new_information_starts_a_round_at_once(flow):
    flow.do("ut_follow_up_log", **LOG, outcome="guided", guidance_given="已解答")
    instances.send_message(flow.instance.public_id, "msg_yq_update", {"note": "新帖转发量上升"}, flow.user)
    assert flow.task("ut_follow_up_log").context["update"] == {"note": "新帖转发量上升"}
    with pytest.raises(Conflict):
        instances.send_message(flow.instance.public_id, "msg_yq_update", {"note": "again"}, flow.user)


def test_cannot_guide_goes_to_the_leadership_for_a_reply_plan(flow):
    flow.do("ut_follow_up_log", **LOG, outcome="cannot_guide", questions="网民追问处理结果")
    assert "cannot_guide" in flow.notifications()
    flow.do("ut_reply_plan", reply_plan="说明处理结果", reply_by=flow.user.username)
    flow.do("ut_reply_by_plan", replied_at=LOG["observed_at"], content="已按方案回复")
    assert flow.open() == [] and flow.instance.next_timer_at is not None


def test_subsiding_must_be_confirmed_and_may_continue(flow):
    flow.do("ut_follow_up_log", **LOG, outcome="subsiding")
    flow.do("ut_confirm_subsided", **{**SUBSIDED, "subsided_decision": "continue"})
    assert flow.instance.status == InstanceStatus.WAITING and flow.open() == []
    instances.send_message(flow.instance.public_id, "msg_yq_update", {"note": "仍有讨论"}, flow.user)
    flow.do("ut_follow_up_log", **LOG, outcome="subsiding")
    flow.do("ut_confirm_subsided", **SUBSIDED)
    assert flow.instance.status == InstanceStatus.COMPLETED


def test_worsening_ends_the_loop_with_an_escalation(flow):
    flow.do("ut_follow_up_log", **LOG, outcome="worsening", worsening_desc="出现线下聚集苗头")
    assert flow.instance.status == InstanceStatus.COMPLETED and flow.open() == []
