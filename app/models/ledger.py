"""The incident ledger (舆情台账): one row per incident and its entries, kept outside workflow data.

Workflow data holds routing variables; the ledger is the system of record. It survives a level
upgrade (the level diagram that held the data is cancelled, the ledger is not), feeds statistics
and the monthly report, and stays after the instance is gone.
"""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import TYPE_CHECKING, Any

from sqlalchemy import Boolean, ForeignKey, Index, Integer, LargeBinary, String, Text, UniqueConstraint, event
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.extensions import db
from app.models.base import JSONText, UTCDateTime, new_public_id, utcnow

if TYPE_CHECKING:
    from app.models.users import User


class Incident(db.Model):
    """The ledger head of one incident: what it is, its level, its key times and deadlines."""

    __tablename__ = "incident"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    number: Mapped[str] = mapped_column(String(32), unique=True)
    instance_id: Mapped[int | None] = mapped_column(
        ForeignKey("process_instance.id", ondelete="SET NULL"), unique=True)
    title: Mapped[str] = mapped_column(String(300), default="")
    status: Mapped[str] = mapped_column(String(16), default="open", index=True)  # vocabulary.INCIDENT_STATUSES
    level: Mapped[int | None] = mapped_column(Integer, index=True)
    proposed_level: Mapped[int | None] = mapped_column(Integer)
    source_type: Mapped[str | None] = mapped_column(String(32))
    platform: Mapped[str | None] = mapped_column(String(64))
    url: Mapped[str | None] = mapped_column(String(2000))
    lead_unit: Mapped[str | None] = mapped_column(String(64), index=True)
    related_units: Mapped[list[str]] = mapped_column(JSONText, default=list)
    is_false_info: Mapped[bool] = mapped_column(Boolean, default=False)
    upgrades: Mapped[int] = mapped_column(Integer, default=0)
    occurred_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    discovered_at: Mapped[datetime | None] = mapped_column(UTCDateTime, index=True)
    reported_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    confirmed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    first_release_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    press_conf_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    subsided_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    closed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # {name: {"due_at": iso, "done_at": iso|None, "missed": bool}} for report, first_release, ...
    deadlines: Mapped[dict[str, Any]] = mapped_column(JSONText, default=dict)
    overdue: Mapped[bool] = mapped_column(Boolean, default=False, index=True)
    # number, title and the registered description, normalised (ledger_filter.searchable) for the list's search
    search_text: Mapped[str] = mapped_column(Text, default="", server_default="")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    entries: Mapped[list[LedgerEntry]] = relationship(
        back_populates="incident", order_by="LedgerEntry.id", cascade="all, delete-orphan")


class LedgerEntry(db.Model):
    """One line of an incident's ledger: a report, a level change, a release, a deadline, ..."""

    __tablename__ = "ledger_entry"
    __table_args__ = (Index("ix_ledger_entry_incident_kind", "incident_id", "kind"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    incident_id: Mapped[int] = mapped_column(ForeignKey("incident.id", ondelete="CASCADE"))
    kind: Mapped[str] = mapped_column(String(32))
    at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, index=True)
    actor_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))
    element: Mapped[str | None] = mapped_column(String(100))
    task_id: Mapped[int | None] = mapped_column(ForeignKey("human_task.id", ondelete="SET NULL"))
    summary: Mapped[str] = mapped_column(Text, default="")
    data: Mapped[dict[str, Any]] = mapped_column(JSONText, default=dict)

    incident: Mapped[Incident] = relationship(back_populates="entries")


class Alert(db.Model):
    """A lead (线索): a monitoring-platform alert, a superior's notice or a manual flag."""

    __tablename__ = "alert"
    __table_args__ = (UniqueConstraint("source", "external_ref"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    public_id: Mapped[str] = mapped_column(String(36), unique=True, default=new_public_id)
    source: Mapped[str] = mapped_column(String(100))  # API token name, or "manual"
    external_ref: Mapped[str | None] = mapped_column(String(200))
    source_type: Mapped[str] = mapped_column(String(32))
    title: Mapped[str] = mapped_column(String(300))
    url: Mapped[str | None] = mapped_column(String(2000))
    platform: Mapped[str | None] = mapped_column(String(64))
    payload: Mapped[dict[str, Any]] = mapped_column(JSONText, default=dict)
    received_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, index=True)
    received_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))
    instance_id: Mapped[int | None] = mapped_column(ForeignKey("process_instance.id", ondelete="SET NULL"))
    incident_id: Mapped[int | None] = mapped_column(ForeignKey("incident.id", ondelete="SET NULL"))
    outcome: Mapped[str] = mapped_column(String(16), default="pending", index=True)  # pending|new|duplicate|irrelevant


def new_revision() -> str:
    return uuid.uuid4().hex


class OrgProfile(db.Model):
    """An organisation profile (city, county): names of superiors, approval modes, who does what."""

    __tablename__ = "org_profile"

    code: Mapped[str] = mapped_column(String(32), primary_key=True)
    name: Mapped[str] = mapped_column(String(100))
    active: Mapped[bool] = mapped_column(Boolean, default=False)
    values: Mapped[dict[str, Any]] = mapped_column(JSONText, default=dict)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))
    # A new random stamp on every change (values, name, active): the web processes cache the active
    # profile's values by it (app/operations/profiles.py). Random, so a rolled-back change never
    # comes back with the stamp of another.
    revision: Mapped[str | None] = mapped_column(String(32), default=new_revision)


@event.listens_for(OrgProfile, "before_update")
def _new_profile_revision(_mapper: Any, _connection: Any, target: OrgProfile) -> None:
    target.revision = new_revision()


class ApiToken(db.Model):
    """A bearer token an admin issued (to a monitoring platform, another system or a script); only its
    hash is kept. It acts as its service user (`user_id`: roles, unit) within its `scopes`
    (`resource:action`, docs/api.md); `unit_code` narrows what it sees to one unit's incidents."""

    __tablename__ = "api_token"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(100), unique=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    scopes: Mapped[list[str]] = mapped_column(JSONText, default=lambda: ["alerts:write"])
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))
    last_used_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    user_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))
    unit_code: Mapped[str | None] = mapped_column(String(64))
    expires_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    rate_per_minute: Mapped[int] = mapped_column(Integer, default=120, server_default="120")

    user: Mapped[User | None] = relationship(foreign_keys=[user_id])


class ApiIdempotency(db.Model):
    """The first result of a request sent with an `Idempotency-Key` by one token (a repeat gets it)."""

    __tablename__ = "api_idempotency"
    __table_args__ = (UniqueConstraint("token_id", "key"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    token_id: Mapped[int] = mapped_column(ForeignKey("api_token.id", ondelete="CASCADE"))
    key: Mapped[str] = mapped_column(String(200))
    fingerprint: Mapped[str] = mapped_column(String(64))
    instance_id: Mapped[int | None] = mapped_column(ForeignKey("process_instance.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class Attachment(db.Model):
    """An uploaded file (screenshot, report, approval scan), stored in the database.

    Kept in the database so every web node of the scale-out shape sees it without a shared disk.
    Served only as a download, never inline.
    """

    __tablename__ = "attachment"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    public_id: Mapped[str] = mapped_column(String(36), unique=True, default=new_public_id)
    filename: Mapped[str] = mapped_column(String(255))
    content_type: Mapped[str] = mapped_column(String(100))
    size: Mapped[int] = mapped_column(Integer)
    sha256: Mapped[str] = mapped_column(String(64))
    content: Mapped[bytes] = mapped_column(LargeBinary, deferred=True)
    uploaded_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))
    uploaded_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    instance_id: Mapped[int | None] = mapped_column(ForeignKey("process_instance.id", ondelete="SET NULL"),
                                                    index=True)
    task_id: Mapped[int | None] = mapped_column(ForeignKey("human_task.id", ondelete="SET NULL"), index=True)
    field: Mapped[str | None] = mapped_column(String(64))
