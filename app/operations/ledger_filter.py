"""What the ledger list, its exports and its statistics are narrowed to: one filter for all of them.

The search is portable SQL (decision 96): each incident keeps `search_text`, its number, title and
registered description (摘要) and author normalised once on write (NFKC, case-folded, whitespace
collapsed), and a search is a LIKE of the normalised words over it, every word required. No database's
own full-text engine is needed, so SQLite and PostgreSQL answer alike; Chinese has no word breaks, which
a substring match suits. The period (discovery time, indexed) narrows the rows first.

Values typed in the address that are not known codes (a level 7, a platform nobody offers, a day
that is not a date) are dropped, and `from_args` says which in words, so a page never fails on them.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import Any

from flask_babel import lazy_gettext as _l
from sqlalchemy import Select, and_, select

from app import clock
from app.models import Incident
from app.operations import labels
from app.operations.vocabulary import INCIDENT_STATUSES

MAX_TERMS = 5
FIRST_DAY, LAST_DAY = date(1900, 1, 1), date(2999, 12, 30)


@dataclass(frozen=True)
class LedgerFilter:
    """What the ledger list is narrowed to (every field optional)."""

    text: str = ""
    level: int | None = None
    status: str | None = None
    unit: str | None = None
    platform: str | None = None
    source: str | None = None
    overdue: bool | None = None
    since: datetime | None = None
    until: datetime | None = None


def normalise(text: str) -> str:
    """Text as the search compares it: full-width folded to half-width (NFKC), case-folded, one space."""
    return re.sub(r"\s+", " ", unicodedata.normalize("NFKC", text or "").casefold()).strip()


def searchable(incident: Incident, registered: Mapping[str, Any] | None = None) -> str:
    """The incident's `search_text`: number, title and what the quick report said it is about."""
    said = registered or {}
    parts = [incident.number, incident.title, said.get("summary"), said.get("author")]
    return normalise(" ".join(str(part) for part in parts if isinstance(part, str) and part))[:4000]


def _escaped(term: str) -> str:
    return term.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


def conditions(f: LedgerFilter) -> list[Any]:
    """The WHERE conditions of `f` over `incident`."""
    found: list[Any] = [Incident.search_text.like(f"%{_escaped(term)}%", escape="\\")
                        for term in normalise(f.text[:100]).split(" ")[:MAX_TERMS] if term]
    equal = ((Incident.level, f.level), (Incident.status, f.status), (Incident.lead_unit, f.unit),
             (Incident.platform, f.platform), (Incident.source_type, f.source))
    found += [column == value for column, value in equal if value not in (None, "")]
    if f.overdue is not None:
        found.append(Incident.overdue.is_(f.overdue))
    if f.since:
        found.append(Incident.discovered_at >= f.since)
    if f.until:
        found.append(Incident.discovered_at < f.until)
    return found


def filtered(f: LedgerFilter, *columns: Any) -> Select[Any]:
    """SELECT of the incidents (or of `columns` of them) that `f` selects."""
    query = select(*columns) if columns else select(Incident)
    where = conditions(f)
    return query.where(and_(*where)) if where else query


def _day(text: str) -> date | None:
    try:
        day = date.fromisoformat(text)
    except ValueError:
        return None
    return day if FIRST_DAY <= day <= LAST_DAY else None


def from_args(args: Mapping[str, str]) -> tuple[LedgerFilter, list[str]]:
    """The filter of a query string (q, level, status, unit, platform, source, overdue, since, until) and,
    for each value that is not a known code or day, a sentence saying it was ignored."""
    notes: list[str] = []

    def known(value: str | None, codes: Any, what: Any) -> str | None:
        if not value:
            return None
        if value in codes:
            return value
        notes.append(str(_l("未知的%(what)s“%(value)s”,已忽略该条件。", what=what, value=value[:40])))
        return None

    level = known(args.get("level"), ("1", "2", "3", "4"), _l("等级"))
    status = known(args.get("status"), INCIDENT_STATUSES, _l("状态"))
    unit = known(args.get("unit"), labels.unit_names(), _l("承办科室"))
    platform = known(args.get("platform"), dict(labels.choice_pairs("platform")), _l("发布平台"))
    source = known(args.get("source"), dict(labels.choice_pairs("source_type")), _l("线索来源"))
    overdue = known(args.get("overdue"), ("yes", "no"), _l("超时条件"))
    days = {}
    for name in ("since", "until"):
        text = (args.get(name) or "").strip()
        days[name] = _day(text) if text else None
    since, until = days["since"], days["until"]
    if since and until and since > until:
        notes.append(str(_l("起始日期晚于截止日期,该期间没有事件。")))
    return LedgerFilter(
        text=(args.get("q") or "").strip()[:100],
        level=int(level) if level else None,
        status=status, unit=unit, platform=platform, source=source,
        overdue={"yes": True, "no": False}.get(overdue or ""),
        since=_midnight(since),
        until=_midnight(until + timedelta(days=1)) if until else None,
    ), notes


def date_errors(args: Mapping[str, str]) -> dict[str, str]:
    """What is wrong with the period's days (`since`, `until`) as typed, by field: not a day, or out of range.

    A page with such an error filters nothing: it says so next to the field rather than list everything."""
    errors = {}
    for name in ("since", "until"):
        text = (args.get(name) or "").strip()
        if not text:
            continue
        try:
            day = date.fromisoformat(text)
        except ValueError:
            errors[name] = str(_l("日期格式不正确,请按 2026-11-01 的格式填写。"))
            continue
        if not FIRST_DAY <= day <= LAST_DAY:
            errors[name] = str(_l("日期超出范围,须在 %(first)s 至 %(last)s 之间。",
                                  first=FIRST_DAY.isoformat(), last=LAST_DAY.isoformat()))
    return errors


def _midnight(day: date | None) -> datetime | None:
    return datetime.combine(day, time(0), tzinfo=clock.SHANGHAI) if day else None
