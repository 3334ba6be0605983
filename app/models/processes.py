"""Deployed process versions, running instances and the human tasks the worklist reads."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Any, ClassVar

from sqlalchemy import Boolean, ForeignKey, Index, Integer, String, Text, UniqueConstraint, text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.extensions import db
from app.models.base import JSONText, UTCDateTime, new_public_id, utcnow
from app.models.users import User


class InstanceStatus(StrEnum):
    """Lifecycle of a process instance."""

    RUNNING = "running"  # a step is being executed or is due (timers, messages)
    WAITING = "waiting"  # waiting for people, timers or messages
    SUSPENDED = "suspended"
    COMPLETED = "completed"
    TERMINATED = "terminated"
    WITHDRAWN = "withdrawn"  # a registration withdrawn before its quick report was submitted (撤销登记)
    ERROR = "error"


class TaskStatus(StrEnum):
    """Lifecycle of a human task row."""

    OPEN = "open"
    COMPLETED = "completed"
    CANCELLED = "cancelled"


class Deployment(db.Model):
    """One deploy action: who, when, why; it may create several process versions."""

    __tablename__ = "deployment"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))
    note: Mapped[str] = mapped_column(Text, default="")
    source: Mapped[str] = mapped_column(String(32), default="cli")


class ProcessDefinition(db.Model):
    """One version of one process, with its serialized spec stored once for all its instances."""

    __tablename__ = "process_definition"
    __table_args__ = (
        UniqueConstraint("process_key", "version"),
        Index("ix_process_definition_latest", "process_key", "is_latest"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    process_key: Mapped[str] = mapped_column(String(100))
    version: Mapped[int] = mapped_column(Integer)
    name: Mapped[str] = mapped_column(String(200))
    content_hash: Mapped[str] = mapped_column(String(64))
    # Large columns are loaded only when used: the engine caches specs by (id, hash).
    spec_json: Mapped[str] = mapped_column(Text, deferred=True)
    sources: Mapped[dict[str, str]] = mapped_column(JSONText, deferred=True)
    forms: Mapped[dict[str, Any]] = mapped_column(JSONText, deferred=True)
    tasks: Mapped[dict[str, Any]] = mapped_column(JSONText)
    message_starts: Mapped[list[str]] = mapped_column(JSONText, default=list)
    timer_start: Mapped[bool] = mapped_column(Boolean, default=False)
    schedule: Mapped[str | None] = mapped_column(String(16))
    is_latest: Mapped[bool] = mapped_column(Boolean, default=True)
    deployment_id: Mapped[int] = mapped_column(ForeignKey("deployment.id"))
    deployed_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    deployment: Mapped[Deployment] = relationship()


class ProcessInstance(db.Model):
    """A running (or finished) instance; state JSON without the spec, versioned for optimistic locks."""

    __tablename__ = "process_instance"
    __table_args__ = (
        UniqueConstraint("process_key", "scheduled_for"),
        # Keyset pagination of the instance list (newest first, ties by id).
        Index("ix_process_instance_started_id", "started_at", "id"),
        Index("ix_process_instance_updated_id", "updated_at", "id"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    public_id: Mapped[str] = mapped_column(String(36), unique=True, default=new_public_id)
    definition_id: Mapped[int] = mapped_column(ForeignKey("process_definition.id"), index=True)
    process_key: Mapped[str] = mapped_column(String(100), index=True)
    business_key: Mapped[str | None] = mapped_column(String(64), index=True)
    title: Mapped[str | None] = mapped_column(String(300))
    level: Mapped[int | None] = mapped_column(Integer)
    status: Mapped[str] = mapped_column(String(16), index=True, default=InstanceStatus.RUNNING)
    state_json: Mapped[str] = mapped_column(Text)
    serializer_version: Mapped[str] = mapped_column(String(16))
    version: Mapped[int] = mapped_column(Integer, nullable=False, default=1)
    next_timer_at: Mapped[datetime | None] = mapped_column(UTCDateTime, index=True)
    started_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))
    started_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, index=True)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    ended_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    error_element: Mapped[str | None] = mapped_column(String(100))
    error_text: Mapped[str | None] = mapped_column(Text)
    data: Mapped[dict[str, Any] | None] = mapped_column(JSONText)
    # Set for instances the scheduler created to wait for their timer start (one per period).
    scheduled_for: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # The status a suspended instance goes back to when it is resumed.
    suspended_from: Mapped[str | None] = mapped_column(String(16))

    definition: Mapped[ProcessDefinition] = relationship()
    started_by: Mapped[User | None] = relationship()

    __mapper_args__: ClassVar[dict[str, Any]] = {"version_id_col": version}


_OPEN = text("status = 'open'")


class HumanTask(db.Model):
    """One user task that is (or was) waiting for a person; the worklist reads only this table."""

    __tablename__ = "human_task"
    __table_args__ = (
        UniqueConstraint("instance_id", "task_guid"),
        Index("ix_human_task_assignee_status", "assignee_id", "status"),
        Index("ix_human_task_status_due", "status", "due_at"),
        # The worklist (app/operations/worklist.py): open tasks in due order, by person and by unit,
        # read through partial indexes that leave the (many) finished tasks out; 已办 by person.
        *(Index(name, *columns, sqlite_where=_OPEN, postgresql_where=_OPEN) for name, columns in (
            ("ix_human_task_open_due", ("due_at", "id")),
            ("ix_human_task_open_assignee", ("assignee_id", "due_at", "id")),
            ("ix_human_task_open_unit", ("unit_code", "due_at", "id")))),
        Index("ix_human_task_done_by", "completed_by_id", "completed_at", "id"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    public_id: Mapped[str] = mapped_column(String(36), unique=True, default=new_public_id,
                                           insert_sentinel=True)  # one INSERT … RETURNING for many rows on SQLite too
    instance_id: Mapped[int] = mapped_column(ForeignKey("process_instance.id", ondelete="CASCADE"), index=True)
    task_guid: Mapped[str] = mapped_column(String(36))
    process_id: Mapped[str] = mapped_column(String(100))
    spec_id: Mapped[str] = mapped_column(String(100))
    name: Mapped[str] = mapped_column(String(200))
    lane: Mapped[str | None] = mapped_column(String(100))
    form: Mapped[str | None] = mapped_column(String(120))
    ui_form: Mapped[str | None] = mapped_column(String(120))
    documentation: Mapped[str | None] = mapped_column(Text)
    context: Mapped[dict[str, Any]] = mapped_column(JSONText, default=dict)
    draft: Mapped[dict[str, Any] | None] = mapped_column(JSONText)
    submitted: Mapped[dict[str, Any] | None] = mapped_column(JSONText)
    status: Mapped[str] = mapped_column(String(16), default=TaskStatus.OPEN)
    assignee_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))
    claimed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    due_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    unit_code: Mapped[str | None] = mapped_column(String(64), index=True)  # only this unit's people
    # The person the diagram gave the task to (`assignee` property), unlike one who claimed it from
    # the group: such a task is theirs alone (not in the group's list, not claimable by others).
    addressed_to_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    completed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    completed_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))

    instance: Mapped[ProcessInstance] = relationship(lazy="joined")
    assignee: Mapped[User | None] = relationship(foreign_keys=[assignee_id], lazy="joined")
    completed_by: Mapped[User | None] = relationship(foreign_keys=[completed_by_id])
    # The roles that may claim the task: a child table for the indexed worklist query, and the same
    # list as text on the row so that permission checks need no second query.
    candidate_roles_text: Mapped[str] = mapped_column(String(500), default="")
    candidates: Mapped[list[HumanTaskCandidate]] = relationship(back_populates="task", cascade="all, delete-orphan")

    @property
    def candidate_roles(self) -> list[str]:
        return [role for role in self.candidate_roles_text.split(",") if role]


class HumanTaskCandidate(db.Model):
    """A role that may claim a human task (from the task's lane)."""

    __tablename__ = "human_task_candidate"
    __table_args__ = (Index("ix_human_task_candidate_role", "role_code", "task_id"),)

    task_id: Mapped[int] = mapped_column(ForeignKey("human_task.id", ondelete="CASCADE"), primary_key=True)
    role_code: Mapped[str] = mapped_column(String(64), primary_key=True)

    task: Mapped[HumanTask] = relationship(back_populates="candidates")


class InstanceUnit(db.Model):
    """A unit an instance concerns (lead, assisting, related, dispatched, risk owner): its section
    heads and staff may see the instance (docs/decisions.md 46). Added as the data names units,
    never removed."""

    __tablename__ = "instance_unit"
    __table_args__ = (Index("ix_instance_unit_unit", "unit_code", "instance_id"),)

    instance_id: Mapped[int] = mapped_column(ForeignKey("process_instance.id", ondelete="CASCADE"),
                                             primary_key=True)
    unit_code: Mapped[str] = mapped_column(String(64), primary_key=True)
