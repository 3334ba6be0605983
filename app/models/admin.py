"""What the admin console keeps: saved instance filters, batch operations, version migrations."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import ForeignKey, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.extensions import db
from app.models.base import JSONText, UTCDateTime, new_public_id, utcnow
from app.models.users import User


class SavedFilter(db.Model):
    """A named instance-list filter of one user (the query string of the list page)."""

    __tablename__ = "saved_filter"
    __table_args__ = (UniqueConstraint("user_id", "name"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("user_account.id", ondelete="CASCADE"), index=True)
    name: Mapped[str] = mapped_column(String(100))
    query: Mapped[dict[str, Any]] = mapped_column(JSONText, default=dict)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class BatchOperation(db.Model):
    """An intervention applied to many instances by the worker, one instance per transaction.

    `results` holds one entry per instance ({"instance", "ok", "message"}) in the order processed;
    `position` is how many of `instance_ids` were processed, so a crashed run resumes where it was.
    """

    __tablename__ = "batch_operation"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    public_id: Mapped[str] = mapped_column(String(36), unique=True, default=new_public_id)
    kind: Mapped[str] = mapped_column(String(32))
    params: Mapped[dict[str, Any]] = mapped_column(JSONText, default=dict)
    reason: Mapped[str] = mapped_column(Text, default="")
    instance_ids: Mapped[list[int]] = mapped_column(JSONText, default=list)
    position: Mapped[int] = mapped_column(Integer, default=0)
    succeeded: Mapped[int] = mapped_column(Integer, default=0)
    failed: Mapped[int] = mapped_column(Integer, default=0)
    results: Mapped[list[dict[str, Any]]] = mapped_column(JSONText, default=list)
    status: Mapped[str] = mapped_column(String(16), default="pending")  # pending, running, done
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    created_by: Mapped[User | None] = relationship()

    @property
    def total(self) -> int:
        return len(self.instance_ids or [])


class InstanceMigration(db.Model):
    """One instance moved from one version to another; keeps the state before, to undo the move
    while the instance has not changed since (its row version is still `version_after`)."""

    __tablename__ = "instance_migration"
    __table_args__ = (Index("ix_instance_migration_instance", "instance_id", "id"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    instance_id: Mapped[int] = mapped_column(ForeignKey("process_instance.id", ondelete="CASCADE"))
    from_definition_id: Mapped[int] = mapped_column(ForeignKey("process_definition.id"))
    to_definition_id: Mapped[int] = mapped_column(ForeignKey("process_definition.id"))
    state_before: Mapped[str] = mapped_column(Text)
    next_timer_before: Mapped[datetime | None] = mapped_column(UTCDateTime)
    version_after: Mapped[int] = mapped_column(Integer)
    mapping: Mapped[list[dict[str, Any]]] = mapped_column(JSONText, default=list)
    status: Mapped[str] = mapped_column(String(16), default="applied")  # applied, reverted
    reason: Mapped[str] = mapped_column(Text, default="")
    batch_id: Mapped[int | None] = mapped_column(ForeignKey("batch_operation.id"))
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    reverted_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    created_by: Mapped[User | None] = relationship()
