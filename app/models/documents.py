"""Generated documents (公文): the Word files made from an incident's ledger, or a month's statistics.

Each generation is kept as a new version, so what was sent stays readable after a regeneration.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Index, Integer, LargeBinary, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from app.extensions import db
from app.models.base import UTCDateTime, new_public_id, utcnow


class GeneratedDocument(db.Model):
    """One version of one document: its kind, what it is about (an incident number or a month), the file."""

    __tablename__ = "generated_document"
    __table_args__ = (UniqueConstraint("kind", "subject", "version"),
                      Index("ix_generated_document_incident", "incident_id"),
                      Index("ix_generated_document_source_entry", "source_entry_id", unique=True))

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    public_id: Mapped[str] = mapped_column(String(36), unique=True, default=new_public_id)
    kind: Mapped[str] = mapped_column(String(32))  # operations.documents.KINDS
    subject: Mapped[str] = mapped_column(String(40))  # the incident number, or the month "2026-11"
    incident_id: Mapped[int | None] = mapped_column(ForeignKey("incident.id", ondelete="CASCADE"))
    version: Mapped[int] = mapped_column(Integer)
    filename: Mapped[str] = mapped_column(String(255))
    size: Mapped[int] = mapped_column(Integer)
    sha256: Mapped[str] = mapped_column(String(64))
    content: Mapped[bytes] = mapped_column(LargeBinary, deferred=True)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    # the ledger line of the process step that generated it (documents.AUTO_STEPS), None when a person asked
    source_entry_id: Mapped[int | None] = mapped_column(Integer)
