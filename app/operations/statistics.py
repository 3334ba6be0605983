"""Statistics of the ledger for a chosen period (domain.md §12.5): counts by level, platform, source and
unit, how fast the quick report and the first release came, how each deadline kind was kept, the trend.

One reading serves the statistics page, its charts and their tables, the monthly analysis process
(`monthly_stats`) and the monthly report document, all with labels, never codes. The incidents are those
the ledger list's filter selects (ledger_filter), so a page, its exports and its statistics agree.
"""

from __future__ import annotations

import statistics as stats_math
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from flask_babel import lazy_gettext as _l
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from app import clock
from app.extensions import db
from app.models import Incident, LedgerEntry
from app.operations import deadlines, labels
from app.operations.ledger_filter import LedgerFilter, filtered
from app.operations.vocabulary import level_short

# The deadline kinds every period states, even when none applied (the others only when they did).
COMPLIANCE_KINDS = ("report", "first_release", "national", "press_conference")
REPORT_BUCKETS = ((10, _l("10分钟内")), (20, _l("10–20分钟")), (30, _l("20–30分钟")), (60, _l("30分钟–1小时")),
                  (120, _l("1–2小时")), (None, _l("2小时以上")))  # discovery → quick report, minutes
RELEASE_BUCKETS = ((3, _l("3小时内")), (6, _l("3–6小时")), (12, _l("6–12小时")), (24, _l("12–24小时")),
                   (48, _l("24–48小时")), (None, _l("48小时以上")))  # discovery → first release, hours
WEEKLY_UP_TO = timedelta(days=92)  # a longer period trends by month
MAX_TREND_POINTS = 60  # more would be a blur: the next longer unit (week → month → year) instead
TREND_UNITS = ("week", "month", "year")
UNLEVELLED, UNFILLED, UNASSIGNED = "未定级", "未填", "未定"
ENGLISH = {UNLEVELLED: "Not graded", UNFILLED: "Not filled in", UNASSIGNED: "Unassigned"}


@dataclass
class Compliance:
    """How one deadline kind was kept: how many incidents it applied to, met on time, missed (late or
    still open past its time), and still open before its time."""

    kind: str
    label: str
    applicable: int = 0
    met: int = 0
    missed: int = 0
    pending: int = 0

    @property
    def rate(self) -> str:
        judged = self.met + self.missed
        return f"{round(100 * self.met / judged)}%" if judged else "—"

    def as_dict(self) -> dict[str, Any]:
        return {"kind": self.kind, "label": self.label, "applicable": self.applicable, "met": self.met,
                "missed": self.missed, "pending": self.pending, "rate": self.rate}


@dataclass
class Statistics:
    """What the statistics page, its charts and the monthly report read. Counts are (label, count)."""

    total: int = 0
    by_level: list[tuple[str, int]] = field(default_factory=list)
    by_platform: list[tuple[str, int]] = field(default_factory=list)
    by_source: list[tuple[str, int]] = field(default_factory=list)
    by_unit: list[tuple[str, int]] = field(default_factory=list)
    report_buckets: list[tuple[str, int]] = field(default_factory=list)
    release_buckets: list[tuple[str, int]] = field(default_factory=list)
    compliance: list[Compliance] = field(default_factory=list)
    trend_unit: str = "week"  # or "month", "year"
    trend: list[tuple[str, int, int]] = field(default_factory=list)  # (period, incidents, with an overrun)
    report_minutes: list[float] = field(default_factory=list)
    release_hours: list[float] = field(default_factory=list)
    press_conferences: int = 0
    overdue: int = 0
    upgrades: int = 0
    false_info: int = 0
    open_at_end: int = 0

    def compliance_of(self, kind: str) -> Compliance:
        return next((row for row in self.compliance if row.kind == kind), Compliance(kind, kind))

    def charts(self) -> dict[str, Any]:
        """The chart data (labels and numbers only) the page hands to Chart.js."""
        def pairs(rows: list[tuple[str, int]]) -> dict[str, list[Any]]:
            return {"labels": [label for label, _ in rows], "counts": [count for _, count in rows]}

        return {
            "level": pairs(self.by_level), "platform": pairs(self.by_platform), "source": pairs(self.by_source),
            "unit": pairs(self.by_unit), "report": pairs(self.report_buckets), "release": pairs(self.release_buckets),
            "compliance": {"labels": [row.label for row in self.compliance],
                           "met": [row.met for row in self.compliance],
                           "missed": [row.missed for row in self.compliance],
                           "pending": [row.pending for row in self.compliance]},
            "trend": {"labels": [label for label, _, _ in self.trend], "counts": [n for _, n, _ in self.trend],
                      "overdue": [n for _, _, n in self.trend]},
        }


def _english(locale: str | None) -> bool:
    return (locale or "").lower().startswith("en")


def _missing(word: str, locale: str | None) -> str:
    """未定级, 未填 or 未定 in the reader's language."""
    return ENGLISH[word] if _english(locale) else word


def _level_label(level: int | None, locale: str | None = None) -> str:
    return level_short(level, locale) or _missing(UNLEVELLED, locale)


def _bucketed(values: Iterable[float], buckets: tuple[tuple[int | None, Any], ...]) -> list[tuple[str, int]]:
    counts = dict.fromkeys((str(label) for _, label in buckets), 0)  # in the reader's language
    for value in values:
        label = next(label for bound, label in buckets if bound is None or value <= bound)
        counts[str(label)] += 1
    return list(counts.items())


def _ranked(counter: Counter[str]) -> list[tuple[str, int]]:
    return sorted(counter.items(), key=lambda item: -item[1])


def _tally(rows: dict[str, Compliance], incident: Incident, names: dict[str, str], locale: str | None = None) -> None:
    ended = incident.status == "terminated"
    for row in deadlines.deadline_rows(incident, names):
        if ended and row.done_at is None:
            continue  # a terminated incident's open deadline never fell due for anyone
        label = deadlines.deadline_label(row.name, locale)
        if row.name == "dispatch":
            label = f"{label} (per unit)" if _english(locale) else f"{label}(按单位计)"
        tally = rows.setdefault(row.name, Compliance(row.name, label))
        tally.applicable += 1
        if row.state == "met":
            tally.met += 1
        elif row.state == "open":
            tally.pending += 1
        else:
            tally.missed += 1


def _start_of(day: datetime, unit: str) -> datetime:
    day = day.replace(hour=0, minute=0, second=0, microsecond=0)
    if unit == "week":
        return day - timedelta(days=day.weekday())
    return day.replace(day=1) if unit == "month" else day.replace(month=1, day=1)


def _following(day: datetime, unit: str) -> datetime:
    if unit == "week":
        return day + timedelta(days=7)
    if unit == "month":
        return day.replace(year=day.year + day.month // 12, month=day.month % 12 + 1)
    return day.replace(year=day.year + 1)


def _buckets(first: datetime, last: datetime, unit: str) -> int:
    if unit == "week":
        return (_start_of(last, unit) - _start_of(first, unit)).days // 7 + 1
    months = (last.year - first.year) * 12 + last.month - first.month + 1
    return months if unit == "month" else last.year - first.year + 1


def _trend(discovered: list[datetime], overdue: list[bool], f: LedgerFilter, unit: str | None,
           locale: str | None = None) -> tuple[str, list[tuple[str, int, int]]]:
    """The incidents per week, month or year of the whole period, empty buckets included. The unit is
    the one asked for, else picked by length (weeks up to WEEKLY_UP_TO, then months); a unit that would
    draw more than MAX_TREND_POINTS points gives way to the next longer one (a period of decades: years)."""
    days = [clock.local(at) for at in discovered]
    if not days and not (f.since and f.until):
        return unit or "week", []  # no incident and no period: no axis to draw
    first = clock.local(f.since) if f.since else min(days)
    last = clock.local(f.until - timedelta(seconds=1)) if f.until else max(days)
    if unit not in TREND_UNITS:
        unit = "week" if last - first <= WEEKLY_UP_TO else "month"
    while unit != "year" and _buckets(first, last, unit) > MAX_TREND_POINTS:
        unit = TREND_UNITS[TREND_UNITS.index(unit) + 1]
    # a week's label states its year when the period is not all in this year
    dated = first.year != last.year or first.year != clock.local(clock.now()).year

    def label(at: datetime) -> str:
        if _english(locale):  # "from 7 Dec", "Dec 2026", "2026"
            if unit == "week":
                return f"from {at.day} {at:%b} {at.year}" if dated else f"from {at.day} {at:%b}"
            return f"{at:%b} {at.year}" if unit == "month" else str(at.year)
        if unit == "week":
            return f"{at.year}年{at.month}月{at.day}日起" if dated else f"{at.month}月{at.day}日起"
        return f"{at.year}年{at.month}月" if unit == "month" else f"{at.year}年"

    counts: Counter[datetime] = Counter()
    late: Counter[datetime] = Counter()
    for day, missed in zip(days, overdue, strict=True):
        counts[_start_of(day, unit)] += 1
        late[_start_of(day, unit)] += int(missed)
    points, at = [], _start_of(first, unit)
    while at <= last:
        points.append((label(at), counts[at], late[at]))
        at = _following(at, unit)
    return unit, points


def compute(session: Session, f: LedgerFilter, trend_unit: str | None = None, locale: str = "zh_CN") -> Statistics:
    """The statistics of the incidents `f` selects (read in batches, so a long period stays in bounds);
    platforms and sources are named in `locale` (the page's; the monthly report's stay Chinese)."""
    names = labels.unit_names(locale)
    choices = {name: labels.field_labels(name, locale=locale) for name in ("source_type", "platform")}
    result = Statistics()
    levels: Counter[str] = Counter()
    platforms: Counter[str] = Counter()
    sources: Counter[str] = Counter()
    units: Counter[str] = Counter()
    kept: dict[str, Compliance] = {kind: Compliance(kind, deadlines.deadline_label(kind, locale))
                                   for kind in COMPLIANCE_KINDS}
    discovered, overdue = [], []
    for incident in session.scalars(filtered(f).execution_options(yield_per=500)):
        result.total += 1
        facts = labels.incident_facts(incident, names=names, choices=choices)
        levels[_level_label(incident.level, locale)] += 1
        platforms[facts["platform"] or _missing(UNFILLED, locale)] += 1
        sources[facts["source_type"] or _missing(UNFILLED, locale)] += 1
        units[facts["lead_unit"] or _missing(UNASSIGNED, locale)] += 1
        if incident.discovered_at and incident.reported_at:
            result.report_minutes.append((incident.reported_at - incident.discovered_at).total_seconds() / 60)
        if incident.discovered_at and incident.first_release_at:
            result.release_hours.append((incident.first_release_at - incident.discovered_at).total_seconds() / 3600)
        _tally(kept, incident, names, locale)
        result.press_conferences += bool(incident.press_conf_at)
        result.overdue += bool(incident.overdue)
        result.upgrades += incident.upgrades or 0
        result.false_info += bool(incident.is_false_info)
        result.open_at_end += incident.closed_at is None or (f.until is not None and incident.closed_at >= f.until)
        if incident.discovered_at:
            discovered.append(incident.discovered_at)
            overdue.append(bool(incident.overdue))
    result.by_level = [(_level_label(n, locale), levels.get(_level_label(n, locale), 0)) for n in (1, 2, 3, 4)]
    unlevelled = _missing(UNLEVELLED, locale)
    if levels.get(unlevelled):
        result.by_level.append((unlevelled, levels[unlevelled]))
    result.by_platform, result.by_source, result.by_unit = _ranked(platforms), _ranked(sources), _ranked(units)
    result.report_buckets = _bucketed(result.report_minutes, REPORT_BUCKETS)
    result.release_buckets = _bucketed(result.release_hours, RELEASE_BUCKETS)
    order = deadlines.ORDER
    result.compliance = sorted(kept.values(), key=lambda r: order.index(r.kind) if r.kind in order else len(order))
    result.trend_unit, result.trend = _trend(discovered, overdue, f, trend_unit, locale)
    return result


def read(f: LedgerFilter, trend_unit: str | None = None, locale: str = "zh_CN") -> Statistics:
    """`compute` in the request's session (the statistics page), in the reader's `locale`."""
    return compute(db.session, f, trend_unit, locale)


# -- the monthly analysis (its process's `monthly_stats` and the monthly report) ---------------------------


def _short(value: datetime) -> str:
    return clock.local(value).strftime("%m-%d %H:%M")


def _counts(rows: list[tuple[str, int]]) -> str:
    return "、".join(f"{label} {count} 起" for label, count in rows) if rows else "无"


def _round(value: float) -> float:
    return round(value, 1)


def period_stats(session: Session, start: datetime, end: datetime) -> dict[str, Any]:
    """Statistics of the incidents discovered in [start, end), as task data (JSON: labels, numbers, lines)."""
    found = compute(session, LedgerFilter(since=start, until=end))
    minutes, hours = found.report_minutes, found.release_hours
    commentaries = session.scalar(select(func.count(LedgerEntry.id)).where(
        LedgerEntry.kind == "commentary", LedgerEntry.at >= start, LedgerEntry.at < end)) or 0
    stats: dict[str, Any] = {
        "period": f"{_short(start)} 至 {_short(end)}",
        "total": found.total,
        "by_level": _counts(found.by_level),
        "by_source": _counts(found.by_source),
        "by_platform": _counts(found.by_platform),
        "by_unit": _counts(found.by_unit),
        "report_minutes_median": _round(stats_math.median(minutes)) if minutes else None,
        "report_minutes_max": _round(max(minutes)) if minutes else None,
        "release_hours_median": _round(stats_math.median(hours)) if hours else None,
        "release_hours_max": _round(max(hours)) if hours else None,
        "press_conferences": found.press_conferences,
        "overdue": found.overdue,
        "upgrades": found.upgrades,
        "false_info": found.false_info,
        "open_at_end": found.open_at_end,
        "commentaries": commentaries,
        "late_reports": found.compliance_of("report").missed,
        "compliance": [row.as_dict() for row in found.compliance],
    }
    stats["overdue_share"] = f"{round(100 * found.overdue / found.total)}%" if found.total else "—"
    stats["lines"] = _stat_lines(stats)
    return stats


def _stat_lines(stats: dict[str, Any]) -> list[str]:
    def value(key: str, unit: str) -> str:
        return "—" if stats[key] is None else f"{stats[key]} {unit}"

    kept = ";".join(f"{row['label']} 应办 {row['applicable']} 起,按时 {row['met']} 起,超时 {row['missed']} 起"
                    f"(按时率 {row['rate']})" for row in stats["compliance"] if row["applicable"])
    return [
        f"统计期间:{stats['period']}",
        f"舆情事件:{stats['total']} 起({stats['by_level']})",
        f"线索来源:{stats['by_source']}",
        f"发布平台:{stats['by_platform']}",
        f"承办科室:{stats['by_unit']}",
        f"发现至快报:中位 {value('report_minutes_median', '分钟')},最长 {value('report_minutes_max', '分钟')}",
        f"发现至首次发布:中位 {value('release_hours_median', '小时')},最长 {value('release_hours_max', '小时')}",
        f"快报超时:{stats['late_reports']} 起",
        f"时限执行:{kept or '无'}",
        f"召开新闻发布会:{stats['press_conferences']} 次;升级:{stats['upgrades']} 次;"
        f"虚假不实信息:{stats['false_info']} 起",
        f"存在超时环节的事件:{stats['overdue']} 起({stats['overdue_share']});期末未结案:{stats['open_at_end']} 起",
        f"网评文章:{stats['commentaries']} 篇",
    ]
