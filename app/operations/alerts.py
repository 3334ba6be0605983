"""Urgent inbox messages to every active admin (a failed job, an instance in error)."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from app.models import Notification, User, UserRole


def alert_admins(session: Session, kind: str, title: str, body: str, link: str,
                 instance_id: int | None = None) -> None:
    """One urgent inbox row per active admin, in the caller's transaction."""
    admins = session.scalars(select(User.id).join(UserRole).where(UserRole.role_code == "admin",
                                                                    User.active.is_(True)))
    for admin_id in set(admins):
        session.add(Notification(user_id=admin_id, kind=kind, urgent=True, link=link, instance_id=instance_id,
                                 title=title, body=body[:1000]))
