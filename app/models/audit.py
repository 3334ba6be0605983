"""The append-only audit trail."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import ForeignKey, Integer, String
from sqlalchemy.orm import Mapped, mapped_column, orm_insert_sentinel, relationship

from app.extensions import db
from app.models.base import JSONText, UTCDateTime, utcnow
from app.models.users import User


class AuditEvent(db.Model):
    """Who did what to which instance or task, and when. Rows are never updated."""

    __tablename__ = "audit_event"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, index=True)
    actor_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))
    instance_id: Mapped[int | None] = mapped_column(ForeignKey("process_instance.id"), index=True)
    task_id: Mapped[int | None] = mapped_column(ForeignKey("human_task.id"))
    action: Mapped[str] = mapped_column(String(64))
    detail: Mapped[dict[str, Any] | None] = mapped_column(JSONText)
    # Lets SQLite insert a step's events in one INSERT … RETURNING, as PostgreSQL does (migration 0019).
    _sentinel: Mapped[int | None] = orm_insert_sentinel()

    actor: Mapped[User | None] = relationship(lazy="joined")
    # Set instead of task_id when the task is new in the same flush (one batched INSERT for both).
    task: Mapped[Any] = relationship("HumanTask")
