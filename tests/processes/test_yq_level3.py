"""yq_level3.bpmn (一般, Ⅲ级): the group is notified, the filing with the cyberspace office by profile,
the 48-hour national ceiling, downgrading only with the group leader's confirmation."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from app.extensions import db
from app.models import Notification
from app.operations import profiles
from tests.conftest import make_user
from tests.processes.answers import MONITOR
from tests.processes.levels import at_level

FILED = {"filed_with": ["市委网信办"], "filed_at": "2026-11-25T09:00:00+08:00"}


@pytest.fixture
def flow(db):
    return at_level(3)


def kinds(flow):
    return [kind for kind, _data in flow.ledger()]


def test_the_group_is_notified_and_the_city_profile_files_with_the_cyberspace_office(flow):
    assert "response_started" in flow.notifications()
    assert flow.open() == ["ut_file_record"]
    flow.do("ut_file_record", **FILED)
    assert flow.open() == ["ut_consult", "ut_investigate"]
    assert kinds(flow)[-1] == "file_record"


def test_the_county_profile_does_not_file(db):
    admin = at_level(4).user
    profiles.activate("county", admin)
    flow = at_level(3)
    assert flow.open() == ["ut_consult", "ut_investigate"]


def test_the_national_48_hour_ceiling_is_watched(flow, fake_clock):
    flow.do("ut_file_record", **FILED)
    fake_clock.advance(hours=48, minutes=1)
    flow.fire_timers()
    assert {"release_overdue", "national_overdue"} <= set(flow.notifications())
    missed = sorted(data["deadline"] for kind, data in flow.ledger() if kind == "deadline_missed")
    assert missed == ["first_release", "national"]


def test_no_less_than_an_hour_left_warning_once_the_deadline_has_passed(flow, fake_clock):
    """A worker that runs the timers late (or a clock moved on) past the 12-hour first release: the overdue
    notice goes out, the warning that less than an hour is left does not."""
    flow.do("ut_file_record", **FILED)
    fake_clock.advance(hours=12, minutes=5)
    flow.fire_timers()
    titles = list(db.session.scalars(select(Notification.title).where(Notification.instance_id == flow.instance.id)))
    assert any(t.startswith("【回应超时】") and "已超过首次回应时限" in t for t in titles)
    assert not [t for t in titles if "【回应预警】" in t or "不足1小时" in t]


def test_the_deadlines_are_watched_while_the_filing_is_not_done(flow, fake_clock):
    fake_clock.advance(hours=11, minutes=1)  # an hour before the 12-hour first release, nobody has filed yet
    flow.fire_timers()
    assert "release_warning" in flow.notifications()
    fake_clock.advance(hours=37)
    flow.fire_timers()
    assert {"release_overdue", "national_overdue"} <= set(flow.notifications())
    assert "ut_file_record" in flow.open()  # the opening still waits; the watch did not


def test_a_downgrade_needs_the_group_leader_and_changes_the_intervals(flow, fake_clock):
    flow.do("ut_file_record", **FILED)
    fake_clock.advance(days=1, minutes=1)
    flow.fire_timers()
    flow.do("ut_monitor_report", **{**MONITOR, "worsening": True, "worsening_desc": "有所扩散"})
    flow.do("ut_regrade", confirmed_level=4, reason="经复核影响较小")
    assert "ut_confirm_downgrade" in flow.open()
    assert flow.task("ut_confirm_downgrade").lane == "领导小组组长"
    flow.do("ut_confirm_downgrade", downgrade_decision="approve", downgrade_reason="同意降为Ⅳ级")
    assert "level_changed" in flow.notifications()
    assert flow.incident().level == 4 and flow.incident().upgrades == 0
    assert kinds(flow)[-1] == "level_changed"
    assert {"ut_consult", "ut_investigate"} <= set(flow.open())  # the running response is not cut short


def test_a_refused_downgrade_keeps_the_level(flow, fake_clock):
    flow.do("ut_file_record", **FILED)
    fake_clock.advance(days=1, minutes=1)
    flow.fire_timers()
    flow.do("ut_monitor_report", **{**MONITOR, "worsening": True, "worsening_desc": "有所扩散"})
    flow.do("ut_regrade", confirmed_level=4, reason="影响较小")
    flow.do("ut_confirm_downgrade", downgrade_decision="reject", downgrade_reason="仍需按Ⅲ级处置")
    assert flow.incident().level == 3 and "level_changed" not in flow.notifications()


def test_a_mass_incident_is_monitored_every_hour_for_the_first_24_hours(db, fake_clock):
    flow = at_level(3, is_mass_incident=True)
    flow.do("ut_file_record", **FILED)
    assert "continuous_monitoring" in flow.notifications()
    fake_clock.advance(hours=1, minutes=1)
    flow.fire_timers()
    assert "ut_monitor_report" in flow.open()
    flow.do("ut_monitor_report", **MONITOR)
    fake_clock.advance(hours=23)  # past the continuous-monitoring window: back to the daily interval
    flow.fire_timers()
    flow.do("ut_monitor_report", **MONITOR)
    fake_clock.advance(hours=2)
    flow.fire_timers()
    assert "ut_monitor_report" not in flow.open()


def test_the_consultation_may_come_before_the_investigation(flow):
    from tests.processes.answers import CONSULT, INVESTIGATE  # noqa: PLC0415

    commentator = make_user(["commentator"])
    flow.do("ut_file_record", **FILED)
    flow.do("ut_consult", **{**CONSULT, "need_press_conference": True, "dispatch_needed": True,
                             "commentators": [commentator.username]})
    flow.do("ut_investigate", **INVESTIGATE)  # the two branches meet: the consultation's choices hold
    assert flow.open()[0] == "ut_dispatch"
