"""The ledger's search, its statistics for a period (counts with labels, response times, deadline compliance
per kind, trend) and the monthly analysis figures read from the same statistics."""

from __future__ import annotations

from datetime import datetime

import pytest
from sqlalchemy import select

from app.extensions import db
from app.models import Incident
from app.operations import instances, ledger, ledger_reading, statistics
from app.operations.ledger_filter import LedgerFilter, date_errors, from_args
from app.operations.vocabulary import INCIDENT_STATUSES
from tests.conftest import make_user
from tests.operations.ledger_month import november

NOVEMBER = LedgerFilter(since=datetime.fromisoformat("2026-11-01T00:00:00+08:00"),
                        until=datetime.fromisoformat("2026-12-01T00:00:00+08:00"))


@pytest.fixture
def month(db, fake_clock):
    return november(fake_clock)


def test_the_search_reads_title_and_description_normalised_and_literal(month):
    late_report, _, _ = month
    number = late_report.business_key
    for text in ("排队", "abc", "ＡＢＣ", "窗口 拖延", number.lower()):
        rows, total = ledger_reading.list_incidents(LedgerFilter(text=text))
        assert total == 1 and rows[0].number == number, text
    assert ledger_reading.list_incidents(LedgerFilter(text="拖延 就业"))[1] == 0  # every word must be there
    assert ledger_reading.list_incidents(LedgerFilter(text="%"))[1] == 0  # a wildcard typed is a character searched
    assert ledger_reading.list_incidents(LedgerFilter(text="_"))[1] == 0


def test_statistics_of_the_period_with_labels_buckets_and_compliance_per_kind(month):
    found = statistics.compute(db.session, NOVEMBER)
    assert found.total == 3
    assert found.by_level == [("Ⅰ级", 0), ("Ⅱ级", 0), ("Ⅲ级", 1), ("Ⅳ级", 2)]
    assert found.by_platform == [("微博", 2), ("抖音", 1)]  # labels, never the codes
    assert found.by_unit == [("政策法规科", 2), ("就业促进科", 1)]
    assert found.by_source == [("自行监测", 3)]
    buckets = dict(found.report_buckets)
    assert (buckets["10分钟内"], buckets["30分钟–1小时"], sum(buckets.values())) == (2, 1, 3)
    release = dict(found.release_buckets)
    assert (release["3小时内"], release["12–24小时"], sum(release.values())) == (1, 1, 2)
    report, first_release, national, conference = (found.compliance_of(kind) for kind in statistics.COMPLIANCE_KINDS)
    assert (report.applicable, report.met, report.missed, report.rate) == (3, 2, 1, "67%")
    # released 2h45m after discovery (met), 13h after (missed); the third is still open before its time
    assert (first_release.applicable, first_release.met, first_release.missed, first_release.pending) == (3, 1, 1, 1)
    assert (national.met, national.missed, national.pending) == (2, 0, 1)
    assert (conference.applicable, conference.rate) == (0, "—")  # stated even when it never applied
    assert found.trend_unit == "week" and found.trend[4] == ("11月23日起", 3, 2)
    assert [label for label, _, _ in found.trend] == ["10月26日起", "11月2日起", "11月9日起", "11月16日起",
                                                      "11月23日起", "11月30日起"]  # the whole period, weeks from Monday
    assert statistics.compute(db.session, NOVEMBER, "month").trend == [("2026年11月", 3, 2)]


def test_filters_narrow_the_statistics_like_the_list(month):
    assert statistics.compute(db.session, LedgerFilter(platform="douyin")).by_platform == [("抖音", 1)]
    overdue = statistics.compute(db.session, LedgerFilter(overdue=True))
    assert overdue.total == 2 and overdue.compliance_of("report").missed == 1
    assert ledger_reading.list_incidents(LedgerFilter(overdue=True))[1] == 2
    assert statistics.compute(db.session, LedgerFilter(unit="employment", level=3)).total == 1
    empty = statistics.compute(db.session, LedgerFilter(text="没有这种事"))
    assert empty.total == 0 and empty.trend == [] and empty.compliance_of("report").rate == "—"
    assert dict(empty.by_level) == {"Ⅰ级": 0, "Ⅱ级": 0, "Ⅲ级": 0, "Ⅳ级": 0}


def test_the_monthly_analysis_reads_the_same_statistics_with_late_quick_reports(month):
    stats = ledger.query(db.session, None, "monthly_stats", {"period_start": "2026-11-01T00:00:00+08:00",
                                                             "period_end": "2026-12-01T00:00:00+08:00"})
    assert stats["late_reports"] == 1 and "快报超时:1 起" in stats["lines"]
    assert "发布平台:微博 2 起、抖音 1 起" in stats["lines"]
    kept = next(line for line in stats["lines"] if line.startswith("时限执行:"))
    assert "快报(发现后30分钟内) 应办 3 起,按时 2 起,超时 1 起(按时率 67%)" in kept
    assert "首次权威发布 应办 3 起,按时 1 起,超时 1 起(按时率 50%)" in kept
    assert "新闻发布会" not in kept  # a kind that never applied is not a line of the report
    assert [row["kind"] for row in stats["compliance"]][:4] == list(statistics.COMPLIANCE_KINDS)


def test_unknown_filter_values_are_ignored_and_said(db):
    f, notes = from_args({"level": "9", "platform": "myspace", "status": "open", "since": "2026-13-01",
                          "until": "2026-11-30", "overdue": "maybe", "q": " 排队 "})
    assert (f.level, f.platform, f.overdue, f.status, f.text) == (None, None, None, "open", "排队")
    assert f.since is None and f.until == datetime.fromisoformat("2026-12-01T00:00:00+08:00")
    assert "未知的等级“9”,已忽略该条件。" in notes and "未知的发布平台“myspace”,已忽略该条件。" in notes
    assert len(notes) == 3  # a day that cannot be read is not a note but an error next to its field
    assert date_errors({"since": "2026-13-01", "until": "3000-01-01"}) == {
        "since": "日期格式不正确,请按 2026-11-01 的格式填写。",
        "until": "日期超出范围,须在 1900-01-01 至 2999-12-30 之间。"}
    assert set(INCIDENT_STATUSES) >= {"open"}


def test_a_quick_report_not_yet_filed_is_pending_then_late(db, fake_clock):
    instance = instances.start_incident(make_user(["monitor"]))
    report = statistics.compute(db.session, LedgerFilter()).compliance_of("report")
    assert (report.applicable, report.met, report.missed, report.pending) == (1, 0, 0, 1)  # inside its 30 minutes
    incident = db.session.scalar(select(Incident).where(Incident.instance_id == instance.id))
    assert incident.deadlines["report"]["due_at"] and not incident.deadlines["report"]["done_at"]
    fake_clock.advance(minutes=31)
    report = statistics.compute(db.session, LedgerFilter()).compliance_of("report")
    assert (report.applicable, report.missed, report.pending) == (1, 1, 0)


def test_trend_labels_state_the_year_and_a_long_period_keeps_every_bucket(month, fake_clock):
    def period(since, until, unit=None):
        f = LedgerFilter(since=datetime.fromisoformat(f"{since}T00:00:00+08:00"),
                         until=datetime.fromisoformat(f"{until}T00:00:00+08:00"))
        return statistics.compute(db.session, f, unit)

    january = period("2020-01-01", "2020-02-01")
    assert january.trend[0] == ("2019年12月30日起", 0, 0)  # not this year: the year is said
    spanning = period("2025-12-15", "2026-01-15")
    assert [label for label, _, _ in spanning.trend][:3] == ["2025年12月15日起", "2025年12月22日起", "2025年12月29日起"]
    three_years = period("2024-01-01", "2027-01-01")
    assert three_years.trend_unit == "month" and len(three_years.trend) == 36
    assert three_years.trend[0] == ("2024年1月", 0, 0) and ("2026年11月", 3, 2) in three_years.trend
    decades = period("2000-01-01", "2027-01-01")  # 324 months: by year, every year, zeros included
    assert decades.trend_unit == "year" and len(decades.trend) == 27
    assert decades.trend[0] == ("2000年", 0, 0) and decades.trend[-1] == ("2026年", 3, 2)
    assert period("2000-01-01", "2027-01-01", "month").trend_unit == "year"  # asked, but too many points
    assert period("2026-01-01", "2027-01-01", "year").trend == [("2026年", 3, 2)]
