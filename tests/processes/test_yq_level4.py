"""yq_level4.bpmn (影响较小, Ⅳ级): request for instruction and the leader's decision (approve, change
level = upgrade, reject), the two tracks (response and monitoring), the first-release deadline watch,
worsening during follow-up and the regrade that upgrades the incident."""

from __future__ import annotations

import pytest

from app.models import InstanceStatus
from app.operations import instances
from app.operations import tasks as task_ops
from app.operations.errors import Invalid
from tests.conftest import make_user
from tests.processes.answers import CONSULT, LOG, MONITOR, REQUEST
from tests.processes.levels import at_level


@pytest.fixture
def flow(db):
    return at_level(4)


def kinds(flow):
    return [kind for kind, _data in flow.ledger()]


def test_the_request_for_instruction_opens_the_level_four_response(flow):
    assert flow.open() == ["ut_request_instruction"]
    assert flow.task("ut_request_instruction").due_at.isoformat() == "2026-11-25T13:00:00+00:00"
    flow.do("ut_request_instruction", **REQUEST)
    flow.do("ut_instruction_decision", decision="approve", leader_comment="同意")
    assert flow.open() == ["ut_consult", "ut_investigate"]
    assert flow.task("ut_investigate").unit_code == "social_insurance"  # the lead section's own task
    assert kinds(flow)[-2:] == ["instruction_requested", "instruction_decided"]


def test_the_deadlines_are_watched_while_the_leader_has_not_decided(flow, fake_clock):
    fake_clock.advance(hours=11, minutes=1)  # 20:01: an hour before the 12-hour first release
    flow.fire_timers()
    assert "release_warning" in flow.notifications()
    fake_clock.advance(hours=1)
    flow.fire_timers()
    assert "release_overdue" in flow.notifications()
    fake_clock.advance(days=2)
    flow.fire_timers()
    assert "national_overdue" in flow.notifications()
    assert "ut_request_instruction" in flow.open()
    missed = sorted(data["deadline"] for kind, data in flow.ledger() if kind == "deadline_missed")
    assert missed == ["first_release", "national"]


def test_a_refused_response_ends_the_watch_and_the_monitoring(flow, fake_clock):
    flow.do("ut_request_instruction", **REQUEST)
    flow.do("ut_instruction_decision", decision="reject", reason="不构成舆情")
    assert flow.instance.status == InstanceStatus.COMPLETED
    fake_clock.advance(days=3)
    flow.fire_timers()
    assert not {"release_warning", "release_overdue", "national_overdue"} & set(flow.notifications())


def test_changing_the_level_upgrades_to_that_levels_diagram(flow):
    flow.do("ut_request_instruction", **REQUEST)
    with pytest.raises(Invalid):
        flow.do("ut_instruction_decision", decision="change_level", new_level=4, reason="不变")
    flow.do("ut_instruction_decision", decision="change_level", new_level=3, reason="影响扩大")
    assert flow.task("ut_file_record").process_id == "yq_level3_response"
    assert flow.instance.level == 3 and "level_upgraded" in flow.notifications()
    head = flow.incident()
    assert head.level == 3 and head.upgrades == 1
    # the level-3 deadlines equal those already set, so no second, identical 处置时限 line (decision 127)
    assert kinds(flow)[-1] == "level_changed"
    last = [data for kind, data in flow.ledger() if kind == "deadlines_set"][-1]
    assert last["release_due_at"] == "2026-11-25T21:00:00+08:00" and "national_due_at" in last


def test_the_monitoring_track_reports_on_its_interval_and_on_news(flow, fake_clock):
    flow.do("ut_request_instruction", **REQUEST)
    flow.do("ut_instruction_decision", decision="approve")
    fake_clock.advance(days=1, minutes=1)
    flow.fire_timers()
    assert "ut_monitor_report" in flow.open()
    flow.do("ut_monitor_report", **MONITOR)
    assert "ut_monitor_report" not in flow.open()
    instances.send_message(flow.instance.public_id, "msg_yq_update", {"note": "新帖转发上万"}, flow.user)
    report = flow.task("ut_monitor_report")
    assert report.context["update"]["note"] == "新帖转发上万"
    assert kinds(flow).count("update_received") == 0  # a message sent directly is in the audit trail, not ledger


def test_a_worse_monitoring_report_goes_to_the_leadership_and_can_upgrade(flow, fake_clock):
    flow.do("ut_request_instruction", **REQUEST)
    flow.do("ut_instruction_decision", decision="approve")
    fake_clock.advance(days=1, minutes=1)
    flow.fire_timers()
    flow.do("ut_monitor_report", **{**MONITOR, "spread_speed": "fast", "worsening": True,
                                    "worsening_desc": "多个大V转发"})
    assert "ut_regrade" in flow.open() and "worsening" in flow.notifications()
    assert flow.task("ut_regrade").context["proposed_level"] == 2
    flow.do("ut_regrade", confirmed_level=2, reason="传播速度快")
    assert "ut_external_report" in flow.open()
    assert flow.incident().level == 2 and flow.instance.level == 2


def test_keeping_the_level_at_regrade_returns_to_monitoring(flow, fake_clock):
    flow.do("ut_request_instruction", **REQUEST)
    flow.do("ut_instruction_decision", decision="approve")
    fake_clock.advance(days=1, minutes=1)
    flow.fire_timers()
    flow.do("ut_monitor_report", **{**MONITOR, "worsening": True, "worsening_desc": "评论增多"})
    flow.do("ut_regrade", confirmed_level=4, reason="仍属影响较小")
    assert "ut_regrade" not in flow.open() and "ut_monitor_report" not in flow.open()
    fake_clock.advance(days=1, minutes=1)
    flow.fire_timers()
    assert "ut_monitor_report" in flow.open()


def test_the_release_deadline_warns_escalates_and_is_recorded_once(flow, fake_clock):
    flow.do("ut_request_instruction", **REQUEST)
    flow.do("ut_instruction_decision", decision="approve")
    fake_clock.advance(hours=11, minutes=1)  # 20:01, an hour before 21:00
    flow.fire_timers()
    assert "release_warning" in flow.notifications() and "release_overdue" not in flow.notifications()
    fake_clock.advance(hours=1)  # 21:01
    flow.fire_timers()
    assert "release_overdue" in flow.notifications()
    assert kinds(flow).count("deadline_missed") == 1 and flow.incident().overdue
    assert {"ut_consult", "ut_investigate"} <= set(flow.open())  # the work itself goes on
    flow.investigate_and_publish()
    assert flow.incident().deadlines["first_release"]["missed"] is True


def test_a_release_in_time_stops_the_watch(flow, fake_clock):
    flow.do("ut_request_instruction", **REQUEST)
    flow.do("ut_instruction_decision", decision="approve")
    flow.investigate_and_publish()
    fake_clock.advance(hours=49)
    flow.fire_timers()
    assert "release_warning" not in flow.notifications() and "release_overdue" not in flow.notifications()
    assert flow.incident().deadlines["first_release"]["missed"] is False


def test_worsening_during_follow_up_asks_the_leadership_to_regrade(flow):
    flow.respond_and_publish()
    flow.do("ut_follow_up_log", **LOG, outcome="worsening", worsening_desc="转发量激增")
    assert "ut_regrade" in flow.open() and "worsening" in flow.notifications()
    assert flow.task("ut_regrade").context["worsening_info"]["worsening_desc"] == "转发量激增"
    flow.do("ut_regrade", confirmed_level=4, reason="维持Ⅳ级,加强跟踪")
    assert "ut_follow_up_log" in flow.open()  # a new follow-up round
    assert flow.instance.status == InstanceStatus.WAITING


def test_commentators_each_get_their_own_task(flow, db):
    writers = [make_user(["commentator"]), make_user(["commentator"])]
    consult = {**CONSULT, "commentators": [w.username for w in writers]}
    flow.respond_and_publish(consult)
    rows = [t for t in flow._open_rows() if t.spec_id == "ut_commentary"]
    assert sorted(t.assignee_id for t in rows) == sorted(w.id for w in writers)
    for task in rows:
        writer = next(w for w in writers if w.id == task.assignee_id)
        task_ops.complete_task(task.public_id, {"article_title": "正面回应", "article_content": "内容",
                                                "article_platform": "weibo", "posted_at": "2026-11-25T09:00:00+08:00"},
                               writer)
    assert kinds(flow).count("commentary") == 2
    assert "ut_follow_up_log" in flow.open()
