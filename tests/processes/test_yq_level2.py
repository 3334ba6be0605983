"""yq_level2.bpmn (重大或较大, Ⅱ级): the emergency teams, the external report, the task force (with a
24-hour roster for mass incidents), superiors' measures, external approval of the release, the press
conference and false information, and the upgrade to Ⅰ级 keeping the release already made."""

from __future__ import annotations

import pytest

from app.operations.errors import Invalid
from tests.processes.answers import (
    CONFERENCE,
    CONFERENCE_RECORD,
    CONSULT,
    DESIGNATION,
    EXTERNAL_REPORT,
    MONITOR,
    PRESS_REQUEST,
    TASK_FORCE,
)
from tests.processes.levels import at_level


def kinds(flow):
    return [kind for kind, _data in flow.ledger()]


@pytest.fixture
def flow(db):
    return at_level(2, netizen_attention="high")


def opening(flow):
    flow.do("ut_external_report", **EXTERNAL_REPORT)
    flow.do("ut_task_force", **TASK_FORCE)


def test_the_opening_activates_the_teams_and_reports_outward(flow):
    assert "emergency_activated" in flow.notifications()
    assert flow.open() == ["ut_external_report", "ut_task_force"]
    opening(flow)
    assert flow.open() == ["ut_consult", "ut_investigate"]
    assert kinds(flow)[-2:] == ["external_report", "task_force"]


def test_a_mass_incident_needs_a_24_hour_roster(db):
    flow = at_level(2, netizen_attention="high", is_mass_incident=True)
    with pytest.raises(Invalid) as refused:
        flow.do("ut_task_force", **TASK_FORCE)
    assert "duty_roster" in refused.value.errors
    flow.do("ut_task_force", **TASK_FORCE, duty_roster=[{"from_at": "2026-11-25T09:00:00+08:00",
                                                         "to_at": "2026-11-26T09:00:00+08:00", "person": "值班员"}])


def test_superiors_measures_and_external_approval_then_press_conference_and_false_info(flow):
    opening(flow)
    flow.investigate_and_publish({**CONSULT, "need_press_conference": True})
    assert kinds(flow).count("superior_measures") == 1 and kinds(flow).count("external_approval") == 1
    assert flow.open() == ["ut_request_spokesperson"]
    flow.do("ut_request_spokesperson", **PRESS_REQUEST)
    flow.do("ut_record_designation", **DESIGNATION)
    flow.do("ut_prepare_conference", **CONFERENCE)
    flow.do("ut_press_conference_record", **CONFERENCE_RECORD)
    assert flow.incident().press_conf_at is not None
    assert "ut_follow_up_log" in flow.open()


def test_the_press_conference_deadline_is_24_hours_from_discovery(flow, fake_clock):
    opening(flow)
    flow.investigate_and_publish({**CONSULT, "need_press_conference": True})
    fake_clock.advance(hours=24, minutes=1)
    flow.fire_timers()
    assert "press_conference_overdue" in flow.notifications()
    assert [d["deadline"] for k, d in flow.ledger() if k == "deadline_missed"] == ["press_conference"]


def test_an_upgrade_to_level_one_keeps_what_was_done(flow, fake_clock):
    opening(flow)
    flow.investigate_and_publish()
    fake_clock.advance(hours=4, minutes=1)
    flow.fire_timers()
    flow.do("ut_monitor_report", **{**MONITOR, "netizen_attention": "extremely_high", "worsening": True,
                                    "worsening_desc": "全网热议"})
    flow.do("ut_regrade", confirmed_level=1, reason="网民关注度极高")
    assert "ut_request_superior" in flow.open()
    head = flow.incident()
    assert head.level == 1 and head.upgrades == 1 and head.first_release_at is not None
    fake_clock.advance(hours=20)
    flow.fire_timers()
    assert "release_overdue" not in flow.notifications()  # the first release was already made at Ⅱ级
    assert "registered" in kinds(flow) and "release_published" in kinds(flow)


def test_false_information_is_handled_after_the_release(db):
    flow = at_level(2, netizen_attention="high", is_false_info=True)
    opening(flow)
    flow.investigate_and_publish()
    assert flow.open() == ["ut_false_info"] and flow.task("ut_false_info").process_id == "yq_false_info"
    flow.do("ut_false_info", false_content="网传窗口停办", media_name="某论坛", contact_record="已联系版主",
            false_info_actions=["deletion"])
    flow.do("ut_false_info_result", false_info_outcome="原帖已删除")
    assert "ut_follow_up_log" in flow.open() and flow.incident().is_false_info


def test_the_external_report_is_due_with_the_quick_report(flow):
    assert flow.task("ut_external_report").due_at.isoformat() == "2026-11-25T01:30:00+00:00"  # 09:30 Shanghai


def test_a_deputy_of_the_group_may_hold_the_consultation(flow):
    from app.operations import tasks  # noqa: PLC0415
    from tests.conftest import make_user  # noqa: PLC0415

    deputy = make_user(["group_deputy"])  # no unit: a consultation bound to the lead unit is still theirs
    flow.do("ut_external_report", **EXTERNAL_REPORT)
    flow.do("ut_task_force", **TASK_FORCE)
    consult = flow.task("ut_consult")
    assert tasks.is_candidate(consult, deputy)
    assert consult in tasks.list_group_tasks(deputy)
