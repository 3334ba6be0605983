"""An incident's deadlines as people read them: which apply, each dispatched unit on its row, how late."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from app.models import Incident
from app.operations import deadlines

DUE = "2026-11-25T13:00:00+08:00"


def test_each_dispatched_unit_has_its_own_row_named_by_its_unit(fake_clock):
    incident = Incident(number="YQ-2026-0099", deadlines={})
    deadlines.dispatched(incident, [{"unit": "employment", "due_at": DUE}, {"unit": "social_insurance",
                                                                           "due_at": DUE}])
    deadlines.set_deadline(incident, deadlines.dispatch_key("social_insurance", DUE), missed=True)
    names = {"employment": "就业促进科", "social_insurance": "社会保险科"}
    rows = deadlines.deadline_rows(incident, names)
    assert [r.label for r in rows] == ["承办反馈(就业促进科)", "承办反馈(社会保险科)"]
    assert [r.unit for r in rows] == ["employment", "social_insurance"] and rows[1].missed


def test_a_row_says_whether_it_was_met_and_by_how_much_it_was_late(fake_clock):
    incident = Incident(number="YQ-2026-0099", deadlines={})
    deadlines.set_deadline(incident, "report", due="2026-11-25T09:30:00+08:00",
                           done=datetime(2026, 11, 25, 1, 45, tzinfo=UTC))  # 09:45, 15 minutes late
    deadlines.set_deadline(incident, "first_release", due="2026-11-25T08:00:00+08:00")  # open, past due
    deadlines.set_deadline(incident, "summary", due="2026-12-10T09:00:00+08:00")
    rows = {r.name: r for r in deadlines.deadline_rows(incident)}
    assert rows["report"].state == "late" and rows["report"].late_by == timedelta(minutes=15)
    assert rows["first_release"].state == "overdue" and rows["first_release"].late_by == timedelta(hours=1)
    assert rows["summary"].state == "open" and rows["summary"].late_by is None
    assert incident.overdue  # the late report marks the incident
    lines = deadlines.deadline_lines(incident)
    assert lines[0] == "快报(发现后30分钟内):时限 11-25 09:30,11-25 09:45 完成,超时 15分钟"
    assert lines[1] == "首次权威发布:时限 11-25 08:00,尚未完成,已超时 1小时"


def test_spans_read_in_the_two_largest_units():
    assert deadlines.span_text(timedelta(seconds=20)) == "1分钟"  # a late second is a late minute
    assert deadlines.span_text(timedelta(minutes=15)) == "15分钟"
    assert deadlines.span_text(timedelta(hours=2, minutes=5)) == "2小时5分钟"
    assert deadlines.span_text(timedelta(days=1, hours=2, minutes=59)) == "1天2小时"
    assert deadlines.span_text(timedelta(days=3)) == "3天"


def test_a_deadline_that_stops_applying_goes_unless_it_is_history(fake_clock):
    incident = Incident(number="YQ-2026-0099", deadlines={})
    view = {"national_due_at": "2026-11-27T09:00:00+08:00", "press_conf_due_at": "2026-11-26T09:00:00+08:00",
            "current_level": 2, "press_conference_default": True}
    deadlines.deadlines_set(incident, view)
    assert set(incident.deadlines) == {"press_conference"}  # Ⅱ级 sudden event: a conference, no 48 h
    deadlines.press_conference_decided(incident, view, False)
    assert incident.deadlines == {}  # the consultation decided against it
    deadlines.set_deadline(incident, "national", due=view["national_due_at"], missed=True)
    deadlines.deadlines_set(incident, {**view, "current_level": 1})
    assert incident.deadlines["national"]["missed"]  # missed before the upgrade: it stays on the record
