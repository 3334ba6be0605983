"""The in-app inbox, the destinations admins register, preferences, and per-channel deliveries."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import Boolean, ForeignKey, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from app.extensions import db
from app.models.base import JSONText, UTCDateTime, utcnow


class Notification(db.Model):
    """One message in one user's inbox."""

    __tablename__ = "notification"
    __table_args__ = (Index("ix_notification_user_unread", "user_id", "read_at"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("user_account.id", ondelete="CASCADE"))
    kind: Mapped[str] = mapped_column(String(64))
    title: Mapped[str] = mapped_column(String(300))
    body: Mapped[str] = mapped_column(Text, default="")
    link: Mapped[str | None] = mapped_column(String(300))
    instance_id: Mapped[int | None] = mapped_column(ForeignKey("process_instance.id"))
    dedup_key: Mapped[str | None] = mapped_column(String(200), unique=True)
    urgent: Mapped[bool] = mapped_column(default=False)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    read_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class NotificationChannel(db.Model):
    """A destination an admin registered: a group robot or webhook, or the SMS gateway.

    Diagrams never name addresses; they name a notification type, and channels subscribe to types.
    """

    __tablename__ = "notification_channel"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(100), unique=True)
    kind: Mapped[str] = mapped_column(String(16))  # webhook | dingtalk | wecom | sms
    address: Mapped[str] = mapped_column(String(500))  # the URL (for sms: the gateway URL)
    secret: Mapped[str | None] = mapped_column(String(500))
    allow_networks: Mapped[list[str]] = mapped_column(JSONText, default=list)
    allow_http: Mapped[bool] = mapped_column(Boolean, default=False)
    kinds: Mapped[list[str]] = mapped_column(JSONText, default=lambda: ["*"])  # notification types, * = all
    urgent_only: Mapped[bool] = mapped_column(Boolean, default=False)
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))

    def wants(self, kind: str, urgent: bool) -> bool:
        return self.active and (urgent or not self.urgent_only) and ("*" in self.kinds or kind in self.kinds)


class NotificationPreference(db.Model):
    """A user's choice of personal channels for one notification type (or * for all)."""

    __tablename__ = "notification_preference"
    __table_args__ = (UniqueConstraint("user_id", "kind"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("user_account.id", ondelete="CASCADE"), index=True)
    kind: Mapped[str] = mapped_column(String(64), default="*")
    email: Mapped[bool] = mapped_column(Boolean, default=True)
    sms: Mapped[str] = mapped_column(String(16), default="urgent")  # never | urgent | always
    # @-mention me in the duty-group robots (DingTalk/WeCom) for task notices: never | urgent | always
    im: Mapped[str] = mapped_column(String(16), default="never", server_default="never")


class NotificationDelivery(db.Model):
    """One message to one destination over one channel; a job sends it and records the outcome."""

    __tablename__ = "notification_delivery"
    __table_args__ = (Index("ix_notification_delivery_status", "status", "created_at"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    kind: Mapped[str] = mapped_column(String(64))
    channel_kind: Mapped[str] = mapped_column(String(16))
    channel_id: Mapped[int | None] = mapped_column(ForeignKey("notification_channel.id"))
    user_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))
    instance_id: Mapped[int | None] = mapped_column(ForeignKey("process_instance.id"), index=True)
    address: Mapped[str] = mapped_column(String(500))
    subject: Mapped[str] = mapped_column(String(300))
    body: Mapped[str] = mapped_column(Text, default="")
    link: Mapped[str | None] = mapped_column(String(500))
    urgent: Mapped[bool] = mapped_column(Boolean, default=False)
    dedup_key: Mapped[str] = mapped_column(String(200), unique=True)
    status: Mapped[str] = mapped_column(String(16), default="pending")  # pending | sent | failed
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    last_error: Mapped[str | None] = mapped_column(Text)
    receipt: Mapped[str | None] = mapped_column(String(300))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    detail: Mapped[dict[str, Any] | None] = mapped_column(JSONText)
    mentions: Mapped[list[str] | None] = mapped_column(JSONText)  # mobiles a group robot @-mentions
