"""Reading the ledger for pages and the API: one page of the filtered list, one incident by number,
its lines with their labels and authors, and the panel a task page shows of its incident.

Read-only: nothing here writes (app/operations/ledger.py writes the lines) or opens a transaction.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from flask_babel import lazy_gettext as _l
from sqlalchemy import func, select

from app import clock
from app.extensions import db
from app.models import HumanTask, Incident, LedgerEntry, ProcessInstance, TaskStatus, User
from app.operations import deadlines, element_names, labels, ledger, ledger_filter, profiles, visibility
from app.operations.errors import NotFound
from app.operations.ledger_filter import LedgerFilter
from app.operations.ledger_kinds import kind_label, valid_level
from app.operations.vocabulary import level_name, list_separator


def list_incidents(f: LedgerFilter, page: int = 1, per_page: int = 50) -> tuple[list[Incident], int]:
    """One page of the ledger, newest discovery first, and the total count."""
    total = db.session.scalar(select(func.count()).select_from(ledger_filter.filtered(f).subquery())) or 0
    newest = (Incident.discovered_at.desc().nulls_last(), Incident.id.desc())
    rows = db.session.scalars(ledger_filter.filtered(f).order_by(*newest)
                              .limit(per_page).offset(max(page - 1, 0) * per_page)).all()
    return list(rows), total


def get_incident(number: str) -> Incident:
    """One incident of the ledger by its number, else NotFound."""
    incident = db.session.scalar(select(Incident).where(Incident.number == number))
    if incident is None:
        raise NotFound(str(_l("台账中没有这个事件。")))
    return incident


@dataclass(frozen=True)
class Panel:
    """What a task page shows of its incident, so nobody has to open another page to decide."""

    incident: Incident
    deadlines: list[deadlines.DeadlineRow]
    recent: list[tuple[LedgerEntry, str, str | None]]
    more: int


def panel_for(instance: ProcessInstance, user: User, recent: int = 8, locale: str | None = None) -> Panel | None:
    """The incident of a task's instance with the deadlines `user` may see (a unit's own feedback deadline
    is that unit's: visibility.sees_unit) and its latest ledger lines (named in `locale`), or None."""
    incident = db.session.scalar(select(Incident).where(Incident.instance_id == instance.id))
    if incident is None:
        return None
    entries = entries_of(incident, locale)
    rows = [row for row in deadlines.deadline_rows(incident, labels.unit_names(locale), locale)
            if visibility.sees_unit(user, row.unit)]
    return Panel(incident, rows, entries[-recent:][::-1], max(len(entries) - recent, 0))


def instance_public_id(incident: Incident) -> str | None:
    """The public id of the incident's workflow instance (None once that is gone)."""
    if incident.instance_id is None:
        return None
    return db.session.scalar(select(ProcessInstance.public_id).where(ProcessInstance.id == incident.instance_id))


def entries_of(incident: Incident, locale: str | None = None) -> list[tuple[LedgerEntry, str, str | None]]:
    """(entry, kind label in `locale`, actor name) in time order."""
    rows = db.session.execute(select(LedgerEntry, User.display_name).outerjoin(User, User.id == LedgerEntry.actor_id)
                              .where(LedgerEntry.incident_id == incident.id)
                              .order_by(LedgerEntry.at, LedgerEntry.id)).all()
    return [(entry, kind_label(entry.kind, locale), name) for entry, name in rows]


def _review(kind: str, data: dict[str, Any], locale: str | None) -> str | None:
    """An approval's decision or a superior's review worded from its data in `locale` (a line written before
    its wording changed reads the same), with whom a delegate recorded it for."""
    if kind in ledger.DECISIONS:
        text = ledger.decision_text(kind, data, locale)
    elif kind == "external_approval" and data.get("approver_body"):
        body = str(data["approver_body"]).strip()
        if (locale or "").lower().startswith("en"):  # the body by the profile's English name, if it has one
            data = {**data, "approver_body": profiles.english_names(profiles.active_values()).get(body, body)}
        text = ledger.review_text(data, locale)
    else:
        return None
    if text is None:
        return None
    holder = data.get("on_behalf_of")
    english = (locale or "").lower().startswith("en")
    behalf = (f" (on behalf of {holder})" if english else f"(代{holder}办理)") if holder else ""
    return text + behalf


def _event_in_english(kind: str, data: dict[str, Any], locale: str) -> str | None:
    """A missed deadline's or a 转办's line in English, from its data."""
    if kind == "task_passed" and data.get("to"):
        task = element_names.element_name(data.get("task"), locale)
        return f"“{task}” passed on to {data['to']}. Reason: {data.get('reason') or ''}"
    if kind == "deadline_missed" and data.get("deadline"):
        return missed_in_english(data, locale, said=True)
    return None


def missed_in_english(data: dict[str, Any], locale: str, said: bool = False) -> str:
    """A missed deadline in English: "Unit feedback (Social insurance section) missed: <task>". After the line's
    label ("Deadline missed") the word is `said` already and left out, so the line says it once."""
    units = labels.units_text(data["subject"], labels.unit_names(locale),
                              list_separator(locale)) if data.get("subject") else ""
    who = f" ({units})" if units else ""
    note = f": {data['note']}" if data.get("note") else ""
    return f"{deadlines.deadline_label(str(data['deadline']), locale)}{who}{'' if said else ' missed'}{note}"


def summary_text(entry: LedgerEntry, locale: str | None = None) -> str:
    """The line's summary as a page in `locale` shows it. The stored summary is the record's Chinese; on an
    English page the parts the system wrote (which deadlines were set, a missed deadline, a level, a grading
    basis) are said again in English from the line's data, and people's own words stay as they wrote them."""
    summary = entry.summary or ""
    data = entry.data or {}
    if not summary or not (locale or "").lower().startswith("en"):
        return _review(entry.kind, data, locale) or summary if summary else summary
    if entry.kind == "deadlines_set":  # "快报 11-25 09:30;首次权威发布 11-25 21:00"
        short = {deadlines.DEADLINE_LABELS[name].split("(")[0]: deadlines.DEADLINE_SHORT_EN[name]
                 for name in deadlines.DEADLINE_LABELS}
        parts = [part.partition(" ") for part in summary.split(";")]
        if all(head in short for head, _, _ in parts):
            return "; ".join(f"{short[head]} {at}" for head, _, at in parts)
        return summary
    if english := _review(entry.kind, data, locale) or _event_in_english(entry.kind, data, locale):
        return english
    level = valid_level(data.get("confirmed_level"))
    chinese = level_name(level) if level else None
    if chinese and summary.startswith(chinese):
        rest = summary[len(chinese):]
        return f"{level_name(level, locale)}{': ' + rest[1:] if rest.startswith(':') else rest}"
    return element_names.diagram_text(summary, locale)


def current_record(task: HumanTask, context: dict[str, Any]) -> dict[str, Any]:
    """An open task's incident record (`record`, the summary's timeline and timeliness) as the ledger holds it
    now: the copy its step read may be older (审定总结 returned and approved since, before 责任考评). A done
    task keeps the record it was done with."""
    record = context.get("record")
    if task.status != TaskStatus.OPEN or not isinstance(record, dict) or not record.get("number"):
        return context
    return {**context, "record": ledger.query(db.session, task.instance, "incident_record", {})}


def record_in(context: dict[str, Any], locale: str | None) -> dict[str, Any]:
    """Task data with its incident record (`incident_record`: the summary's timeline and timeliness) worded in
    `locale`. The stored lines are the record's Chinese; an English page says them again from the ledger lines
    the record named and the deadlines it kept (a record kept before it named them: the incident's own)."""
    record = context.get("record")
    if not (locale or "").lower().startswith("en") or not isinstance(record, dict) or not record.get("number"):
        return context
    ids = record.get("entry_ids")
    incident = None
    if isinstance(ids, list):
        entries = db.session.scalars(select(LedgerEntry).where(LedgerEntry.id.in_([i for i in ids if isinstance(
            i, int)])).order_by(LedgerEntry.at, LedgerEntry.id)).all() if ids else []
    else:
        incident = db.session.scalar(select(Incident).where(Incident.number == record["number"]))
        if incident is None:
            return context
        entries = list(db.session.scalars(select(LedgerEntry).where(LedgerEntry.incident_id == incident.id)
                                          .order_by(LedgerEntry.at, LedgerEntry.id)))[-200:]
    items = record.get("deadline_items")
    if not isinstance(items, list):
        incident = incident or db.session.scalar(select(Incident).where(Incident.number == record["number"]))
        items = deadlines.deadline_items(incident) if incident is not None else []
    timeline = []
    for entry in entries:
        summary = summary_text(entry, locale)
        timeline.append(f"{clock.local(entry.at).strftime('%m-%d %H:%M')} {kind_label(entry.kind, locale)}"
                        + (f": {summary}" if summary else ""))
    names = labels.unit_names(locale)
    timeliness = [deadlines.item_line(item, names, locale) for item in items if isinstance(item, dict)]
    return {**context, "record": {**record, "timeline": timeline, "timeliness": timeliness}}
