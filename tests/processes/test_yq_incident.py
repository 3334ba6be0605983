"""yq_incident.bpmn: quick report with its 30-minute deadline, grading, confirmation (leader for Ⅰ/Ⅱ),
the level policy and deadlines, the four level diagrams, upgrade without losing the ledger,
aftermath and archive."""

from __future__ import annotations

import pytest

from app.models import InstanceStatus
from app.operations import profiles
from app.operations.errors import Invalid
from tests.conftest import make_user
from tests.processes.answers import (
    ACCOUNTABILITY,
    CONFIRM,
    LEAD_UNIT,
    LOG,
    REGISTER,
    REQUEST,
    SUBSIDED,
    SUMMARY,
    WATCH,
)
from tests.processes.flow import Flow


@pytest.fixture
def flow(db):
    return Flow("yq_incident", incident=True, unit=LEAD_UNIT)


def kinds(flow):
    return [kind for kind, _data in flow.ledger()]


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
    assert kinds(flow) == ["deadline_missed"]
    assert flow.open() == ["ut_register"] and flow.instance.next_timer_at is None
    fake_clock.advance(hours=1)
    assert flow.fire_timers() == 0  # fired once, not again
    flow.do("ut_register", **REGISTER)
    assert flow.incident().deadlines["report"]["missed"] is True


def test_a_report_in_time_is_recorded_as_met(flow, fake_clock):
    fake_clock.advance(minutes=20)
    flow.do("ut_register", **REGISTER)
    head = flow.incident()
    assert head.title == "某事件" and head.platform == "weibo" and head.reported_at is not None
    assert head.deadlines["report"] == {"due_at": "2026-11-25T09:30:00+08:00", "done_at": "2026-11-25T09:20:00+08:00",
                                        "missed": False}
    assert kinds(flow) == ["registered", "level_proposed", "deadlines_set"]  # provisional, from the proposal


def test_the_report_deadline_follows_a_corrected_discovery_time(flow, fake_clock):
    fake_clock.advance(minutes=20)
    flow.do("ut_register", **{**REGISTER, "discovered_at": "2026-11-25T08:40:00+08:00"})
    flow.do("ut_confirm_level", **CONFIRM)
    assert flow.incident().deadlines["report"]["due_at"] == "2026-11-25T09:10:00+08:00"
    assert flow.incident().deadlines["report"]["missed"] is True  # reported at 09:20
    with pytest.raises(Invalid):  # never later than when registration started
        Flow("yq_incident", incident=True).do("ut_register", **{**REGISTER,
                                                                "discovered_at": "2026-11-25T09:25:00+08:00"})


def test_grading_proposes_the_most_severe_trait_and_notifies_the_quick_report(flow):
    head = make_user(["section_head"], unit="social_insurance")
    flow.do("ut_register", **{**REGISTER, "foreign_media": "starting", "spread_speed": "very_fast"})
    context = flow.task("ut_confirm_level").context
    assert context["proposed_level"] == 1 and context["grade_basis"] == "传播速度非常快"
    assert "level_hit" not in context and "basis" not in context
    assert "quick_report" in flow.notifications()
    assert head.id in flow.notified("quick_report")  # heads of the related units (decision 21)


def test_level_one_or_two_needs_the_leader_to_confirm(flow):
    flow.do("ut_register", **{**REGISTER, "netizen_attention": "high"})
    flow.do("ut_confirm_level", **CONFIRM, level_change_reason="经核实影响较小")
    assert flow.open() == ["ut_leader_confirm"]
    flow.do("ut_leader_confirm", confirmed_level=4, level_change_reason="同意按Ⅳ级处置", start_plan=True)
    assert flow.open() == ["ut_request_instruction"]
    assert flow.instance.level == 4
    assert kinds(flow)[-2:] == ["leader_confirmed", "deadlines_set"]


def test_the_confirmed_level_must_be_explained_when_it_differs(flow):
    flow.do("ut_register", **REGISTER)
    with pytest.raises(Invalid) as refused:
        flow.do("ut_confirm_level", **{**CONFIRM, "confirmed_level": 3})
    assert "level_change_reason" in refused.value.errors


@pytest.mark.parametrize(("level", "sudden", "release_due", "first_task"), [
    (1, True, "2026-11-25T14:00:00+08:00", "ut_request_superior"),
    (2, True, "2026-11-25T14:00:00+08:00", "ut_external_report"),
    (2, False, "2026-11-25T21:00:00+08:00", "ut_external_report"),
    (3, False, "2026-11-25T21:00:00+08:00", "ut_file_record"),
    (4, True, "2026-11-25T21:00:00+08:00", "ut_request_instruction"),
])
def test_each_level_starts_its_own_diagram_with_deadlines_from_the_policy(flow, level, sudden, release_due,
                                                                          first_task):
    flow.do("ut_register", **{**REGISTER, "is_sudden_event": sudden})
    reason = {} if level == 4 else {"level_change_reason": "核实后调整"}
    flow.do("ut_confirm_level", **{**CONFIRM, "confirmed_level": level}, **reason)
    if level <= 2:
        flow.do("ut_leader_confirm", confirmed_level=level, level_change_reason="同意", start_plan=True)
    assert first_task in flow.open()
    assert flow.task(first_task).process_id == f"yq_level{level}_response"
    data = flow.task(first_task).context
    assert data["release_due_at"] == release_due
    assert data["national_due_at"] == "2026-11-27T09:00:00+08:00"
    assert data["press_conf_due_at"] == "2026-11-26T09:00:00+08:00"
    assert data["release_approval"] == ("external" if level <= 2 else "group")
    assert data["monitor_every"] == {1: "PT2H", 2: "PT4H", 3: "P1D", 4: "P1D"}[level]
    assert flow.incident().deadlines["first_release"]["due_at"] == release_due


def test_a_three_level_profile_has_no_level_one(flow, db):
    profiles.update_profile("city", {**profiles.CITY, "levels_in_use": "three"}, flow.user, "采用三级方案")
    fresh = Flow("yq_incident", incident=True)
    fresh.do("ut_register", **{**REGISTER, "netizen_attention": "extremely_high"})
    assert fresh.task("ut_confirm_level").context["proposed_level"] == 2
    with pytest.raises(Invalid) as refused:
        fresh.do("ut_confirm_level", **{**CONFIRM, "confirmed_level": 1}, level_change_reason="严重")
    assert "三级响应方案" in refused.value.errors["confirmed_level"][0]


def test_rejected_request_ends_without_response_and_archives(flow):
    flow.do("ut_register", **REGISTER)
    flow.do("ut_confirm_level", **CONFIRM)
    flow.do("ut_request_instruction", **REQUEST)
    flow.do("ut_instruction_decision", decision="reject", reason="不构成舆情")
    assert flow.instance.status == InstanceStatus.COMPLETED
    assert "archive" in flow.notifications() and "ut_summary" not in flow.actions()
    assert flow.incident().status == "rejected" and kinds(flow)[-2:] == ["response_rejected", "closed"]


def test_full_level_four_path_with_aftermath_ends_in_the_archive(flow, fake_clock):
    flow.do("ut_register", **REGISTER)
    flow.do("ut_confirm_level", **CONFIRM)
    flow.respond_and_publish()
    assert flow.incident().first_release_at is not None
    flow.do("ut_follow_up_log", **LOG, outcome="subsiding")
    flow.do("ut_confirm_subsided", **SUBSIDED)
    for _day in range(7):  # one aftermath watch a day for seven days (decision 6, 15)
        fake_clock.advance(days=1, minutes=1)
        flow.fire_timers()
        flow.do("ut_aftermath_watch", **WATCH)
    summary = flow.task("ut_summary")
    assert any(line.endswith("正面回应发布:正文") for line in summary.context["record"]["timeline"])
    flow.do("ut_summary", **SUMMARY)
    flow.do("ut_approve_summary", summary_decision="approve")
    flow.do("ut_accountability", **ACCOUNTABILITY)
    assert flow.instance.status == InstanceStatus.COMPLETED and flow.open() == []
    head = flow.incident()
    assert head.status == "closed" and head.closed_at is not None and not head.overdue
    assert kinds(flow)[-1] == "closed"


def test_the_archive_notice_reaches_the_whole_group_and_the_lead_section(flow, db):
    deputy, leader = make_user(["group_deputy"]), make_user(["group_leader"])
    head = make_user(["section_head"], unit=LEAD_UNIT)
    flow.do("ut_register", **REGISTER)
    flow.do("ut_confirm_level", **CONFIRM)
    flow.do("ut_request_instruction", **REQUEST)
    flow.do("ut_instruction_decision", decision="reject", reason="不构成舆情")
    assert {deputy.id, leader.id, head.id} <= flow.notified("archive")


def test_an_upgrade_is_told_to_everyone_on_the_incident(flow, db):
    people = [make_user([role]) for role in ("monitor", "office_staff", "team_coordination", "group_deputy")]
    assisting = make_user(["section_head"], unit="employment")
    flow.do("ut_register", **REGISTER)
    flow.do("ut_confirm_level", **{**CONFIRM, "assist_units": ["employment"]})
    bystander = make_user(["commentator"])
    flow.do("ut_request_instruction", **REQUEST)
    flow.do("ut_instruction_decision", decision="change_level", new_level=2, reason="影响扩大")
    told = flow.notified("level_upgraded")
    assert {p.id for p in people} | {assisting.id, flow.user.id} <= told  # roles, assisting unit, who worked it
    assert bystander.id not in told


def test_not_starting_the_plan_archives_without_a_response(flow):
    flow.do("ut_register", **REGISTER)
    flow.do("ut_confirm_level", **{**CONFIRM, "start_plan": False})
    assert flow.instance.status == InstanceStatus.COMPLETED and flow.open() == []
    assert flow.incident().status == "rejected"
    assert ("response_rejected", {"note": "不启动应急预案"}) in flow.ledger()


def test_false_information_and_severe_proposals_are_reported_to_the_party_group(flow, db):
    party = make_user(["party_group"])
    flow.do("ut_register", **{**REGISTER, "is_false_info": True})
    assert party.id in flow.notified("quick_report")
    calm = Flow("yq_incident", incident=True, unit=LEAD_UNIT)
    calm.do("ut_register", **REGISTER)
    assert party.id not in calm.notified("quick_report")


def test_the_first_release_is_watched_from_the_quick_report_while_the_level_waits(flow, fake_clock):
    flow.do("ut_register", **REGISTER)
    assert flow.incident().deadlines["first_release"]["due_at"] == "2026-11-25T21:00:00+08:00"  # proposed Ⅳ级
    fake_clock.advance(hours=11, minutes=1)  # nobody has confirmed the level yet
    flow.fire_timers()
    assert flow.notifications().count("release_warning") > 0
    fake_clock.advance(hours=1)
    flow.fire_timers()
    overdue = flow.notifications().count("release_overdue")
    assert overdue > 0 and [d["deadline"] for k, d in flow.ledger() if k == "deadline_missed"] == ["first_release"]
    warned = flow.notifications().count("release_warning")
    flow.do("ut_confirm_level", **CONFIRM)  # confirmed at last: the level's own watch does not say it again
    flow.do("ut_request_instruction", **REQUEST)
    flow.fire_timers()
    assert flow.notifications().count("release_warning") == warned
    assert flow.notifications().count("release_overdue") == overdue
    assert [k for k, _d in flow.ledger()].count("deadline_missed") == 1


def test_a_level_confirmed_in_time_ends_the_early_watch(flow, fake_clock):
    flow.do("ut_register", **REGISTER)
    flow.do("ut_confirm_level", **CONFIRM)
    flow.do("ut_request_instruction", **REQUEST)
    flow.do("ut_instruction_decision", decision="reject", reason="不构成舆情")
    assert flow.instance.status == InstanceStatus.COMPLETED  # no watch is left waiting
