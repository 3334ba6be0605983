"""Reading the ledger for pages and the API: one page of the filtered list, one incident by number,
its lines with their labels and authors, and the panel a task page shows of its incident.

Read-only: nothing here writes (app/operations/ledger.py writes the lines) or opens a transaction.
"""

from __future__ import annotations

from dataclasses import dataclass

from flask_babel import lazy_gettext as _l
from sqlalchemy import func, select

from app.extensions import db
from app.models import Incident, LedgerEntry, ProcessInstance, User
from app.operations import deadlines, labels, ledger_filter
from app.operations.errors import NotFound
from app.operations.ledger_filter import LedgerFilter
from app.operations.ledger_kinds import kind_label


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


def panel_for(instance: ProcessInstance, recent: int = 8) -> Panel | None:
    """The incident of a task's instance with its deadlines and latest ledger lines, or None."""
    incident = db.session.scalar(select(Incident).where(Incident.instance_id == instance.id))
    if incident is None:
        return None
    entries = entries_of(incident)
    rows = deadlines.deadline_rows(incident, labels.unit_names())
    return Panel(incident, rows, entries[-recent:][::-1], max(len(entries) - recent, 0))


def instance_public_id(incident: Incident) -> str | None:
    """The public id of the incident's workflow instance (None once that is gone)."""
    if incident.instance_id is None:
        return None
    return db.session.scalar(select(ProcessInstance.public_id).where(ProcessInstance.id == incident.instance_id))


def entries_of(incident: Incident) -> list[tuple[LedgerEntry, str, str | None]]:
    """(entry, kind label, actor name) in time order."""
    rows = db.session.execute(select(LedgerEntry, User.display_name).outerjoin(User, User.id == LedgerEntry.actor_id)
                              .where(LedgerEntry.incident_id == incident.id)
                              .order_by(LedgerEntry.at, LedgerEntry.id)).all()
    return [(entry, kind_label(entry.kind), name) for entry, name in rows]
