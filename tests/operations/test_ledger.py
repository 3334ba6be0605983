"""The incident ledger: entries from service tasks and completed forms, deadlines met or missed, the
head row, statistics for the monthly report, the CSV export."""

from __future__ import annotations

import csv
import io
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select

from app.db import transaction
from app.engine.services import LEDGER_KINDS, SideEffect
from app.models import Incident, LedgerEntry
from app.operations import instances, ledger, ledger_export, ledger_kinds, ledger_reading
from app.operations.ledger_filter import LedgerFilter
from tests.conftest import make_user


def _effect(kind: str, data: dict, **params) -> SideEffect:
    return SideEffect(operator="ledger", params={"kind": kind, **params}, task_spec="st_x", process_id="p",
                      task_guid="g", data=data)


@pytest.fixture
def incident(db):
    user = make_user(["monitor"])
    instance = instances.start_incident(user)
    return instance, db.session.scalar(select(Incident).where(Incident.instance_id == instance.id))


def _record(instance, kind, data, **params):
    with transaction() as session:
        return ledger.record_effect(session, instance, _effect(kind, data, **params))


def test_every_kind_the_engine_accepts_is_known_to_the_ledger():
    # 流程终止 is written only by an admin's termination (decision 51): no diagram may name it.
    assert set(ledger_kinds.KINDS) == {*LEDGER_KINDS, "terminated", "task_passed"}


def test_an_incident_has_its_ledger_head_from_the_start(incident):
    instance, head = incident
    assert head.number == instance.business_key and head.status == "open"
    assert head.discovered_at == datetime(2026, 11, 25, 1, 0, tzinfo=UTC)


def test_deadlines_set_then_met_or_missed(incident, fake_clock, db):
    instance, head = incident
    _record(instance, "deadlines_set", {"report_due_at": "2026-11-25T09:30:00+08:00",
                                        "release_due_at": "2026-11-25T21:00:00+08:00",
                                        "national_due_at": "2026-11-27T09:00:00+08:00",
                                        "press_conf_due_at": "2026-11-26T09:00:00+08:00", "current_level": 4})
    # the 48-hour ceiling applies at level Ⅳ; no press conference is expected there
    assert set(head.deadlines) == {"report", "first_release", "national"} and not head.overdue
    fake_clock.advance(hours=13)
    _record(instance, "deadline_missed", {"release_due_at": "2026-11-25T21:00:00+08:00"}, deadline="first_release")
    _record(instance, "deadline_missed", {"release_due_at": "2026-11-25T21:00:00+08:00"}, deadline="first_release")
    assert head.deadlines["first_release"]["missed"] and head.overdue
    missed = db.session.scalars(select(LedgerEntry).where(LedgerEntry.kind == "deadline_missed")).all()
    assert len(missed) == 1  # the same deadline (same due time) is recorded missed once
    assert missed[0].summary == "首次权威发布已超时"
    _record(instance, "release_published", {"published_at": "2026-11-25T22:10:00+08:00"})
    assert head.first_release_at == datetime(2026, 11, 25, 14, 10, tzinfo=UTC)
    assert head.deadlines["first_release"]["done_at"] == "2026-11-25T22:10:00+08:00"
    assert head.deadlines["national"] == {"due_at": "2026-11-27T09:00:00+08:00",
                                          "done_at": "2026-11-25T22:10:00+08:00", "missed": False}


def test_a_late_completion_counts_as_missed_even_without_an_alert(incident):
    instance, head = incident
    _record(instance, "deadlines_set", {"press_conf_due_at": "2026-11-26T09:00:00+08:00",
                                        "press_conference_default": True})
    _record(instance, "press_conference", {"conference_at": "2026-11-26T10:00:00+08:00"})
    assert head.deadlines["press_conference"]["missed"] and head.overdue


def test_deadlines_follow_the_level_and_the_press_conference_decision(incident, fake_clock):
    instance, head = incident
    due = {"release_due_at": "2026-11-25T21:00:00+08:00", "national_due_at": "2026-11-27T09:00:00+08:00",
           "press_conf_due_at": "2026-11-26T09:00:00+08:00"}
    _record(instance, "deadlines_set", {**due, "current_level": 3, "press_conference_default": False})
    assert set(head.deadlines) == {"report", "first_release", "national"}  # the quick report is due from the start
    office = make_user(["office_director"])
    with transaction() as session:  # the consultation decides to hold one: its 24 hours count
        task = type("T", (), {"context": due, "spec_id": "ut_consult", "id": None, "assignee_id": None})()
        ledger.record_task(session, instance, task, "consultation", {"need_press_conference": True}, office)
    assert head.deadlines["press_conference"]["due_at"] == "2026-11-26T09:00:00+08:00"
    _record(instance, "deadlines_set", {**due, "current_level": 2, "need_press_conference": False,
                                        "press_conference_default": False})  # upgraded, conference called off
    assert set(head.deadlines) == {"report", "first_release"}
    fake_clock.advance(hours=13)
    _record(instance, "deadline_missed", due, deadline="first_release")
    _record(instance, "deadlines_set", {**due, "current_level": 4})
    assert head.deadlines["first_release"]["missed"]  # what was missed stays missed whatever happens next


def test_level_changes_count_upgrades_and_closing_ends_the_record(incident):
    instance, head = incident
    _record(instance, "level_confirmed", {"confirmed_level": 4, "lead_unit": "policy"})
    _record(instance, "level_changed", {"confirmed_level": 2, "upgraded_from": 4, "upgrade_reason": "恶化"})
    _record(instance, "level_changed", {"confirmed_level": 3})
    assert head.level == 3 and head.upgrades == 1 and head.lead_unit == "policy"
    _record(instance, "closed", {})
    assert head.status == "closed" and head.closed_at is not None


def test_a_rejected_response_closes_as_rejected(incident):
    instance, head = incident
    _record(instance, "response_rejected", {"leader_comment": "不属实"})
    _record(instance, "closed", {})
    assert head.status == "rejected"


def test_entries_outside_an_incident_are_a_warning_not_an_error(db):
    user = make_user(["monitor"])
    other = instances.start_instance("yq_release", user, {"title": "无事件编号"})
    assert _record(other, "closed", {}) is None


def test_incident_record_shows_the_timeline_and_timeliness(incident, db):
    instance, _head = incident
    _record(instance, "deadlines_set", {"report_due_at": "2026-11-25T09:30:00+08:00"})
    _record(instance, "registered", {"title": "某帖", "report_due_at": "2026-11-25T09:30:00+08:00"})
    record = ledger.query(db.session, instance, "incident_record", {})
    assert record["timeline"] == ["11-25 09:00 处置时限:快报 11-25 09:30", "11-25 09:00 登记舆情(快报):某帖"]
    assert record["timeliness"] == ["快报(发现后30分钟内):时限 11-25 09:30,11-25 09:00 完成,按时"]
    assert record["first_release_done"] is False


def test_period_statistics(db, fake_clock):
    user = make_user(["monitor"])
    for level, platform in ((2, "weibo"), (4, "weibo"), (4, "douyin")):
        instance = instances.start_incident(user)
        _record(instance, "registered", {"title": "t", "platform": platform, "source_type": "self_monitoring"})
        _record(instance, "level_confirmed", {"confirmed_level": level, "lead_unit": "policy"})
        fake_clock.advance(hours=3)
        _record(instance, "release_published", {})
    start = datetime(2026, 11, 1, tzinfo=UTC)
    period = {"period_start": start.isoformat(), "period_end": (start + timedelta(days=30)).isoformat()}
    stats = ledger.query(db.session, instance, "monthly_stats", period)
    assert stats["total"] == 3
    assert stats["by_level"] == "Ⅰ级 0 起、Ⅱ级 1 起、Ⅲ级 0 起、Ⅳ级 2 起"
    assert stats["by_platform"] == "微博 2 起、抖音 1 起"  # the platforms' names, not their codes
    assert stats["by_unit"] == "政策法规科 3 起"
    assert stats["release_hours_median"] == 3.0 and stats["release_hours_max"] == 3.0
    assert any(line.startswith("舆情事件:3 起") for line in stats["lines"])
    with pytest.raises(ValueError, match="start before end"):
        ledger.query(db.session, instance, "monthly_stats", {"period_start": "2026-12-01T00:00:00+08:00",
                                                             "period_end": "2026-11-01T00:00:00+08:00"})


def test_the_ledger_list_filters_and_the_csv_neutralises_formulas(incident, db):
    instance, head = incident
    _record(instance, "registered", {"title": "=HYPERLINK(\"http://evil\")", "platform": "weibo"})
    _record(instance, "level_confirmed", {"confirmed_level": 3, "lead_unit": "policy"})
    rows, total = ledger_reading.list_incidents(LedgerFilter(level=3))
    assert total == 1 and rows[0].number == head.number
    assert ledger_reading.list_incidents(LedgerFilter(level=2))[1] == 0
    assert ledger_reading.list_incidents(LedgerFilter(text="HYPERLINK"))[1] == 1
    text = ledger_export.export_csv(LedgerFilter())
    assert text.startswith("\ufeff编号,标题")
    row = list(csv.reader(io.StringIO(text.lstrip("\ufeff"))))[1]
    assert row[1].startswith("'=HYPERLINK")


def test_a_level_line_says_why(incident, db):
    instance, _head = incident
    entry = _record(instance, "level_changed", {"confirmed_level": 2, "upgraded_from": 4,
                                                 "upgrade_reason": "转发量激增\n详见监测报告"})
    assert entry.summary == "Ⅱ级 重大或较大网络舆情:转发量激增"
    assert _record(instance, "level_changed", {"confirmed_level": 3}).summary == "Ⅲ级 一般网络舆情"
