"""The deadlines of an incident (时限): which apply to it, when each is due and met, and by how much one
was missed.

They live on the incident's ledger head as `{key: {"due_at", "done_at", "missed"}}`. A key is a deadline
name of DEADLINE_LABELS; each unit a task was dispatched to has its own, `dispatch:<unit>:<due time>`.
A deadline is only there when it applies: the 48-hour national ceiling at levels Ⅲ and Ⅳ, the press
conference when one is expected or decided, the summary once subsiding is confirmed. One that stops
applying (an upgrade, a consultation that decides against a conference) is dropped unless it was
already met or missed — that is history.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from app import clock
from app.models import Incident

DEADLINE_LABELS = {
    "report": "快报(发现后30分钟内)",
    "external_report": "报告上级(外部报告/请示上级)",
    "first_release": "首次权威发布",
    "national": "国家规定48小时回应",
    "press_conference": "新闻发布会(24小时内)",
    "dispatch": "承办反馈",
    "summary": "总结评估",
}
DEADLINE_SOURCES = {  # deadline → task data holding its due time
    "report": "report_due_at",
    "external_report": "report_due_at",  # Ⅰ级's 请示上级 and Ⅱ级's 外部报告 are due with the quick report
    "first_release": "release_due_at",
    "national": "national_due_at",
    "press_conference": "press_conf_due_at",
    "summary": "summary_due_at",
}
# The deadlines on English pages (the summary, documents, exports and ledger lines keep the Chinese).
DEADLINE_LABELS_EN = {
    "report": "Quick report (within 30 minutes of discovery)",
    "external_report": "Report to superiors (external report / request to superiors)",
    "first_release": "First authoritative release",
    "national": "Nationally required response within 48 hours",
    "press_conference": "Press conference (within 24 hours)",
    "dispatch": "Unit feedback",
    "summary": "Summary and evaluation",
}
DEADLINE_SHORT_EN = {  # as a ledger line lists the deadlines it set
    "report": "Quick report",
    "external_report": "Report to superiors",
    "first_release": "First release",
    "national": "48-hour national response",
    "press_conference": "Press conference",
    "dispatch": "Unit feedback",
    "summary": "Summary",
}
ORDER = list(DEADLINE_LABELS)
EXTERNAL_REPORT_LEVELS = (1, 2)  # the levels whose opening reports to superiors (domain §13 decision 29)


def deadline_label(name: str, locale: str | None = None) -> str:
    """A deadline's name, in English when `locale` is English (the code for a name no longer known)."""
    english = (locale or "").lower().startswith("en")
    return (DEADLINE_LABELS_EN if english else DEADLINE_LABELS).get(name) or DEADLINE_LABELS.get(name, name)

_parse = clock.parse_aware


def _iso(value: datetime | None) -> str | None:
    return clock.local(value).isoformat(timespec="seconds") if value else None


# -- writing -----------------------------------------------------------------------------------------


def set_deadline(incident: Incident, key: str, *, due: Any = None, done: datetime | None = None,
                 missed: bool = False) -> None:
    """Record a deadline's due time, the time it was met (the first one counts) or that it was missed."""
    deadlines = dict(incident.deadlines or {})
    entry = dict(deadlines.get(key) or {"due_at": None, "done_at": None, "missed": False})
    due_at = _parse(due)
    if due_at is not None:
        entry["due_at"] = _iso(due_at)
    if done is not None and not entry.get("done_at"):
        entry["done_at"] = _iso(done)
    if missed:
        entry["missed"] = True
    due_value, done_value = _parse(entry.get("due_at")), _parse(entry.get("done_at"))
    if due_value and done_value and done_value > due_value:
        entry["missed"] = True
    deadlines[key] = entry
    _store(incident, deadlines)


def drop_deadline(incident: Incident, key: str) -> None:
    """A deadline that no longer applies; one already met or missed stays, it is part of the record."""
    deadlines = dict(incident.deadlines or {})
    entry = deadlines.get(key)
    if entry is None or entry.get("done_at") or entry.get("missed"):
        return
    del deadlines[key]
    _store(incident, deadlines)


def _store(incident: Incident, deadlines: dict[str, Any]) -> None:
    incident.deadlines = deadlines
    incident.overdue = any(d.get("missed") for d in deadlines.values())


def dispatch_key(unit: Any, due: Any) -> str:
    """The key of one dispatched unit's feedback deadline."""
    return f"dispatch:{unit}:{_iso(_parse(due)) or ''}"


def _level(view: dict[str, Any]) -> Any:
    return view.get("current_level") or view.get("confirmed_level")


def deadlines_set(incident: Incident, view: dict[str, Any]) -> None:
    """The process computed the deadlines (after confirmation, an upgrade, subsiding): keep those that
    apply to the incident as it now stands and drop those that no longer do."""
    decided = view.get("need_press_conference")  # the consultation's decision, else the level's default
    applies = {
        "external_report": _level(view) in EXTERNAL_REPORT_LEVELS,
        "national": _level(view) in (3, 4),
        "press_conference": bool(decided if decided is not None else view.get("press_conference_default")),
    }
    for name, source in DEADLINE_SOURCES.items():
        if not view.get(source):
            continue
        if applies.get(name, True):
            set_deadline(incident, name, due=view[source])
        else:
            drop_deadline(incident, name)


def press_conference_decided(incident: Incident, view: dict[str, Any], needed: Any) -> None:
    """The consultation decided whether a press conference is held: its 24-hour deadline follows."""
    if needed is True and view.get("press_conf_due_at"):
        set_deadline(incident, "press_conference", due=view["press_conf_due_at"])
    elif needed is False:  # not held (a level-Ⅰ sudden event needs a reason, which the consultation keeps)
        drop_deadline(incident, "press_conference")


def dispatched(incident: Incident, rows: Any) -> None:
    """Tasks were dispatched: each unit's feedback is due at its row's time."""
    for row in rows if isinstance(rows, list) else []:
        if isinstance(row, dict) and row.get("unit") and row.get("due_at"):
            set_deadline(incident, dispatch_key(row["unit"], row["due_at"]), due=row["due_at"])


# -- reading -----------------------------------------------------------------------------------------


@dataclass(frozen=True)
class DeadlineRow:
    """One deadline of an incident as pages show it."""

    name: str
    label: str
    due_at: datetime | None
    done_at: datetime | None
    missed: bool
    unit: str | None = None
    ended_at: datetime | None = None  # the incident was terminated then: an open deadline stops there

    @property
    def late_by(self) -> timedelta | None:
        """How late it was met, or how late it is now (or was when the incident was terminated) when it is
        still open past its due time."""
        if self.due_at is None:
            return None
        end = self.done_at or self.ended_at or clock.now()
        return end - self.due_at if end > self.due_at else None

    @property
    def state(self) -> str:
        """'met' (on time), 'late' (met after its due time), 'overdue' (open past it), 'open', or 'ended':
        never met because the incident was terminated before its due time — neither on time nor late."""
        if self.done_at is not None:
            return "late" if self.missed or self.late_by else "met"
        if self.missed or self.late_by:
            return "overdue"
        return "ended" if self.ended_at is not None else "open"


def deadline_rows(incident: Incident, unit_names: dict[str, str] | None = None,
                  locale: str | None = None) -> list[DeadlineRow]:
    """The incident's deadlines in the order the response meets them (dispatched units by due time), named
    in `locale` (Chinese without one)."""
    rows = []
    ended = incident.closed_at if incident.status == "terminated" else None
    for key, entry in (incident.deadlines or {}).items():
        name, _, rest = key.partition(":")
        unit = rest.partition(":")[0] if name == "dispatch" and rest else None  # rest: <unit>:<due time>
        label = deadline_label(name, locale)
        if unit:
            unit_name = (unit_names or {}).get(unit, unit)
            label = f"{label} ({unit_name})" if locale and locale.lower().startswith("en") else f"{label}({unit_name})"
        rows.append(DeadlineRow(name, label, _parse(entry.get("due_at")), _parse(entry.get("done_at")),
                                bool(entry.get("missed")), unit, ended))
    far = datetime.max.replace(tzinfo=clock.SHANGHAI)
    return sorted(rows, key=lambda r: (ORDER.index(r.name) if r.name in ORDER else len(ORDER), r.due_at or far))


def span_text(delta: timedelta, locale: str | None = None) -> str:
    """A length of time as a record states it: 15分钟, 2小时5分钟, 1天2小时 (whole minutes, rounded up); in
    English 15 min, 2 h 5 min, 1 d 2 h."""
    minutes = max(1, -(-int(delta.total_seconds()) // 60))
    days, rest = divmod(minutes, 24 * 60)
    hours, minutes = divmod(rest, 60)
    if _english(locale):
        parts = [(days, "d"), (hours, "h"), (minutes, "min")] if days else [(hours, "h"), (minutes, "min")]
        first = next(i for i, (n, _) in enumerate(parts) if n or i == len(parts) - 1)
        return " ".join(f"{n} {word}" for n, word in parts[first:first + 2] if n)
    if days:
        return f"{days}天{hours}小时" if hours else f"{days}天"
    if hours:
        return f"{hours}小时{minutes}分钟" if minutes else f"{hours}小时"
    return f"{minutes}分钟"


def _english(locale: str | None) -> bool:
    return (locale or "").lower().startswith("en")


def _short(value: datetime | None) -> str:
    return clock.local(value).strftime("%m-%d %H:%M") if value else "—"


def deadline_items(incident: Incident) -> list[dict[str, Any]]:
    """The incident's deadlines as the summary keeps them (task data, so each page words them in its own
    language): name, unit, due and done times, state and how many minutes late (as of now)."""
    items = []
    for row in deadline_rows(incident):
        late = row.late_by
        items.append({"name": row.name, "unit": row.unit, "state": row.state,
                      "due_at": row.due_at.isoformat() if row.due_at else None,
                      "done_at": row.done_at.isoformat() if row.done_at else None,
                      "late_minutes": max(1, -(-int(late.total_seconds()) // 60)) if late else None})
    return items


def item_line(item: dict[str, Any], unit_names: dict[str, str] | None = None, locale: str | None = None) -> str:
    """One deadline of `deadline_items` as the summary's timeliness states it, in `locale`."""
    english = _english(locale)
    label = deadline_label(str(item.get("name")), locale)
    if item.get("unit"):
        unit_name = (unit_names or {}).get(item["unit"], item["unit"])
        label = f"{label} ({unit_name})" if english else f"{label}({unit_name})"
    due, done = _short(_parse(item.get("due_at"))), _short(_parse(item.get("done_at")))
    late = span_text(timedelta(minutes=item["late_minutes"]), locale) if item.get("late_minutes") else ""
    if english:
        state = {"met": f"done {done}, on time", "late": f"done {done}, {late} late",
                 "overdue": f"not done, {late} overdue", "open": "not done, not yet due",
                 "ended": "not done, the incident was terminated"}.get(str(item.get("state")), "")
        return f"{label}: due {due}, {state}"
    state = {"met": f"{done} 完成,按时", "late": f"{done} 完成,超时 {late}", "overdue": f"尚未完成,已超时 {late}",
             "open": "尚未完成,未到期", "ended": "未完成,事件已终止"}.get(str(item.get("state")), "")
    return f"{label}:时限 {due},{state}"


def deadline_lines(incident: Incident, unit_names: dict[str, str] | None = None) -> list[str]:
    """One line per deadline, as the summary's timeliness states it."""
    return [item_line(item, unit_names) for item in deadline_items(incident)]
