"""yq_incident.bpmn: quick-report deadline, grading, leader confirmation, refusal of levels not yet
deployed, rejection, release deadlines, aftermath and archive."""

from __future__ import annotations

import pytest

from app.models import InstanceStatus
from app.operations.errors import Invalid
from tests.processes.answers import CONFIRM, CONSULT, LOG, REGISTER, REQUEST, SUBSIDED, SUMMARY
from tests.processes.flow import Flow


@pytest.fixture
def flow(db):
    return Flow("yq_incident", incident=True)


def test_quick_report_is_due_30_minutes_after_discovery_and_reminds_once(flow, fake_clock):
    register = flow.task("ut_register")
    assert register.due_at.isoformat() == "2026-11-25T01:30:00+00:00"
    assert flow.instance.next_timer_at == register.due_at
    fake_clock.advance(minutes=29)
    flow.fire_timers()
    assert "report_overdue" not in flow.notifications()
    fake_clock.advance(minutes=2)
    assert flow.fire_timers() == 1
    assert flow.notifications().count("report_overdue") >= 1
    assert flow.open() == ["ut_register"] and flow.instance.next_timer_at is None
    fake_clock.advance(hours=1)
    assert flow.fire_timers() == 0  # fired once, not again


def test_grading_proposes_the_most_severe_trait_and_notifies_the_quick_report(flow):
    flow.do("ut_register", **{**REGISTER, "foreign_media": "starting", "spread_speed": "very_fast"})
    context = flow.task("ut_confirm_level").context
    assert context["proposed_level"] == 1 and context["grade_basis"] == "传播速度非常快"
    assert "level_hit" not in context and "basis" not in context
    assert "quick_report" in flow.notifications()


def test_level_one_or_two_needs_the_leader_to_confirm(flow):
    flow.do("ut_register", **{**REGISTER, "netizen_attention": "high"})
    flow.do("ut_confirm_level", **CONFIRM, level_change_reason="经核实影响较小")
    assert flow.open() == ["ut_leader_confirm"]
    flow.do("ut_leader_confirm", confirmed_level=4, level_change_reason="同意按Ⅳ级处置", start_plan=True)
    assert flow.open() == ["ut_request_instruction"]
    assert flow.instance.level == 4


def test_a_level_without_a_deployed_diagram_is_refused_and_nothing_changes(flow):
    flow.do("ut_register", **REGISTER)
    with pytest.raises(Invalid, match="仅上线Ⅳ级"):
        flow.do("ut_confirm_level", **{**CONFIRM, "confirmed_level": 3}, level_change_reason="更严重")
    assert flow.open() == ["ut_confirm_level"] and flow.instance.status == InstanceStatus.WAITING


def test_rejected_request_ends_without_response_and_archives(flow):
    flow.do("ut_register", **REGISTER)
    flow.do("ut_confirm_level", **CONFIRM)
    flow.do("ut_request_instruction", **REQUEST)
    flow.do("ut_instruction_decision", decision="reject", reason="不构成舆情")
    assert flow.instance.status == InstanceStatus.COMPLETED
    assert flow.instance.data["response_rejected"] is True
    assert "archive" in flow.notifications() and "ut_summary" not in flow.actions()


def test_release_deadline_warns_an_hour_before_and_alerts_when_missed(flow, fake_clock):
    flow.do("ut_register", **REGISTER)
    flow.do("ut_confirm_level", **CONFIRM)
    flow.do("ut_request_instruction", **REQUEST)
    flow.do("ut_instruction_decision", decision="approve")
    assert flow.task("ut_consult").due_at.isoformat() == "2026-11-25T13:00:00+00:00"  # 21:00 Shanghai
    flow.do("ut_consult", **CONSULT)
    fake_clock.advance(hours=11, minutes=1)  # 20:01
    flow.fire_timers()
    assert "release_warning" in flow.notifications() and "release_overdue" not in flow.notifications()
    fake_clock.advance(hours=1)  # 21:01
    flow.fire_timers()
    assert "release_overdue" in flow.notifications()
    assert flow.open() == ["ut_draft_release"]  # the work itself goes on


def test_full_level_four_path_ends_with_an_approved_summary(flow):
    flow.do("ut_register", **REGISTER)
    flow.do("ut_confirm_level", **CONFIRM)
    flow.respond_and_publish()
    flow.do("ut_follow_up_log", **LOG, outcome="subsiding")
    flow.do("ut_confirm_subsided", **SUBSIDED)
    flow.do("ut_summary", **SUMMARY)
    flow.do("ut_approve_summary", summary_decision="approve")
    assert flow.instance.status == InstanceStatus.COMPLETED
    assert flow.instance.ended_at is not None and flow.open() == []


def test_the_release_deadline_is_watched_during_consultation_and_alerts_once(flow, fake_clock):
    flow.do("ut_register", **REGISTER)
    flow.do("ut_confirm_level", **CONFIRM)
    flow.do("ut_request_instruction", **REQUEST)
    flow.do("ut_instruction_decision", decision="approve")
    fake_clock.advance(hours=12, minutes=1)  # consultation is still open at the deadline
    flow.fire_timers()
    assert "release_overdue" in flow.notifications() and "release_warning" in flow.notifications()
    alerts = flow.notifications().count("release_overdue")
    flow.do("ut_consult", **CONSULT)  # release starts after the deadline: its own timers are past due
    fake_clock.advance(minutes=1)
    flow.fire_timers()
    assert flow.notifications().count("release_overdue") == alerts  # the same deadline alerts once
