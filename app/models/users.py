"""People, their roles (lanes map to roles) and organisation units."""

from __future__ import annotations

from datetime import datetime

from flask_login import UserMixin
from sqlalchemy import Boolean, ColumnElement, ForeignKey, Integer, String, UniqueConstraint, false
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.extensions import db
from app.models.base import UTCDateTime, utcnow


class Role(db.Model):
    """A system role; BPMN lanes name roles (domain.md §11.13)."""

    __tablename__ = "role"

    code: Mapped[str] = mapped_column(String(64), primary_key=True)
    name_zh: Mapped[str] = mapped_column(String(100))
    name_en: Mapped[str] = mapped_column(String(100))


class OrgUnit(db.Model):
    """A section, subordinate unit or township station."""

    __tablename__ = "org_unit"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    code: Mapped[str] = mapped_column(String(64), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    name_en: Mapped[str | None] = mapped_column(String(200))  # shown on the English pages; else `name`
    kind: Mapped[str] = mapped_column(String(32), default="section")
    active: Mapped[bool] = mapped_column(Boolean, default=True)


class User(UserMixin, db.Model):
    """A person who logs in."""

    __tablename__ = "user_account"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    username: Mapped[str] = mapped_column(String(64), unique=True)
    display_name: Mapped[str] = mapped_column(String(100))
    password_hash: Mapped[str] = mapped_column(String(255))
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    must_change_password: Mapped[bool] = mapped_column(Boolean, default=False)
    # Still the password `yuqing seed-demo` printed: refused in production, changed first elsewhere.
    demo_password: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())
    session_epoch: Mapped[int] = mapped_column(Integer, default=0)
    locale: Mapped[str | None] = mapped_column(String(16))
    email: Mapped[str | None] = mapped_column(String(254))
    phone: Mapped[str | None] = mapped_column(String(32))
    unit_id: Mapped[int | None] = mapped_column(ForeignKey("org_unit.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    last_login_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    roles: Mapped[list[UserRole]] = relationship(back_populates="user", cascade="all, delete-orphan",
                                                 lazy="selectin")
    unit: Mapped[OrgUnit | None] = relationship()

    @property
    def is_active(self) -> bool:  # type: ignore[override]
        return self.active

    def get_id(self) -> str:
        """Flask-Login id: user id plus session epoch, so logout and revocation end old cookies."""
        return f"{self.id}:{self.session_epoch}"

    @property
    def role_codes(self) -> set[str]:
        return {r.role_code for r in self.roles}

    def has_role(self, *codes: str) -> bool:
        return bool(self.role_codes.intersection(codes))


SERVICE_PASSWORD = "!api-token-user"  # noqa: S105 - marks an API token's service user; no password hashes to it


def is_person() -> ColumnElement[bool]:
    """SQL: the account is a person's, not an API token's service user (app.operations.api_tokens), who
    gets no messages, is offered in no picker and staffs no lane."""
    return User.password_hash != SERVICE_PASSWORD


class UserRole(db.Model):
    """A role held by a user."""

    __tablename__ = "user_role"
    __table_args__ = (UniqueConstraint("user_id", "role_code"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("user_account.id", ondelete="CASCADE"), index=True)
    role_code: Mapped[str] = mapped_column(ForeignKey("role.code"), index=True)

    user: Mapped[User] = relationship(back_populates="roles")


class Delegation(db.Model):
    """A standing delegate (委托): while `starts_at` <= now < `ends_at`, `delegate` sees and works the
    tasks `user` holds, on their behalf. Ended early by setting `ended_at`."""

    __tablename__ = "task_delegation"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("user_account.id", ondelete="CASCADE"), index=True)
    delegate_id: Mapped[int] = mapped_column(ForeignKey("user_account.id", ondelete="CASCADE"), index=True)
    starts_at: Mapped[datetime] = mapped_column(UTCDateTime)
    ends_at: Mapped[datetime] = mapped_column(UTCDateTime)
    reason: Mapped[str] = mapped_column(String(300), default="")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    ended_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    user: Mapped[User] = relationship(foreign_keys=[user_id])
    delegate: Mapped[User] = relationship(foreign_keys=[delegate_id])
