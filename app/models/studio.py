"""The process owners' workspace: every BPMN, DMN and form file, with a draft per file."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import ForeignKey, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.extensions import db
from app.models.base import JSONText, UTCDateTime, new_public_id, utcnow
from app.models.users import User


class WorkspaceFile(db.Model):
    """One source file as last deployed (`content`), and the work in progress on it (`draft`).

    `disk_hash` is the hash of the file in processes/ or forms/ at the last `yuqing deploy`: a later
    deploy from disk replaces `content` only when the disk file changed since, so edits made in the
    browser are not undone by the next `make run`.
    """

    __tablename__ = "workspace_file"

    name: Mapped[str] = mapped_column(String(200), primary_key=True)  # e.g. yq_incident.bpmn, ut_x.schema.json
    kind: Mapped[str] = mapped_column(String(16))  # bpmn, dmn, form
    content: Mapped[str | None] = mapped_column(Text)  # None: a new file not deployed yet
    content_hash: Mapped[str | None] = mapped_column(String(64))
    disk_hash: Mapped[str | None] = mapped_column(String(64))
    draft: Mapped[str | None] = mapped_column(Text)
    draft_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))
    draft_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    draft_by: Mapped[User | None] = relationship()

    @property
    def current(self) -> str:
        """What the editor opens: the draft if there is one, else the deployed content."""
        return self.draft if self.draft is not None else (self.content or "")


class SandboxRun(db.Model):
    """A test run of a draft: its own compiled spec and state, outside `process_instance`.

    Nothing of it reaches worklists, the ledger, statistics or notifications: service tasks'
    effects are listed (`effects`), not carried out.
    """

    __tablename__ = "sandbox_run"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    public_id: Mapped[str] = mapped_column(String(36), unique=True, default=new_public_id)
    owner_id: Mapped[int] = mapped_column(ForeignKey("user_account.id"), index=True)
    process_key: Mapped[str] = mapped_column(String(100))
    spec_key: Mapped[str] = mapped_column(String(100))
    spec_json: Mapped[str] = mapped_column(Text)
    sources: Mapped[dict[str, str]] = mapped_column(JSONText, default=dict)
    forms: Mapped[dict[str, Any]] = mapped_column(JSONText, default=dict)
    state_json: Mapped[str] = mapped_column(Text, default="")
    status: Mapped[str] = mapped_column(String(16), default="waiting")  # waiting, completed, error
    error_text: Mapped[str | None] = mapped_column(Text)
    open_tasks: Mapped[list[dict[str, Any]]] = mapped_column(JSONText, default=list)
    events: Mapped[list[dict[str, Any]]] = mapped_column(JSONText, default=list)
    data: Mapped[dict[str, Any]] = mapped_column(JSONText, default=dict)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
