"""yq_level1.bpmn (特别重大, Ⅰ级): request to the superiors, report to the Party group, task force,
the 5-hour first release for a sudden event, the press conference expected by default."""

from __future__ import annotations

import pytest

from app.operations.errors import Invalid
from tests.processes.answers import CONSULT, SUPERIOR_REQUEST, TASK_FORCE
from tests.processes.levels import at_level


@pytest.fixture
def flow(db):
    return at_level(1, netizen_attention="extremely_high", is_sudden_event=True)


def test_the_opening_reports_up_and_to_the_party_group(flow):
    assert {"emergency_activated", "level1_reported"} <= set(flow.notifications())
    assert flow.open() == ["ut_request_superior", "ut_task_force"]
    assert flow.task("ut_request_superior").context["release_due_at"] == "2026-11-25T14:00:00+08:00"


def test_a_sudden_event_expects_a_press_conference_unless_a_reason_is_given(flow):
    flow.do("ut_request_superior", **SUPERIOR_REQUEST)
    flow.do("ut_task_force", **TASK_FORCE)
    flow.do("ut_investigate", findings="属实", facts_confirmed=True)
    with pytest.raises(Invalid) as refused:
        flow.do("ut_consult", **CONSULT)  # need_press_conference False
    assert "no_conference_reason" in refused.value.errors
    flow.do("ut_consult", **{**CONSULT, "no_conference_reason": "已通过政务微博权威发布"})
    assert flow.open() == ["ut_record_superior_measures"]


def test_level_one_cannot_be_raised_further(flow, fake_clock):
    flow.do("ut_request_superior", **SUPERIOR_REQUEST)
    flow.do("ut_task_force", **TASK_FORCE)
    fake_clock.advance(hours=2, minutes=1)
    flow.fire_timers()
    assert "ut_monitor_report" in flow.open()  # every 2 hours at Ⅰ级
