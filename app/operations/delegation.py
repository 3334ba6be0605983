"""Standing delegates (委托): while I am away, a colleague sees and works the tasks I hold, on my behalf.

A delegation has a start and an end; it can be ended early. A person has at most one delegation
at a time, and delegations do not chain: the delegate may not be away themselves in that period,
and a person standing in for someone may not hand their own tasks on meanwhile (A→B→C, or A→B→A).
What a delegate does is audited with the holder's name (`on_behalf_of`).
"""

from __future__ import annotations

from datetime import datetime, timedelta

from flask_babel import lazy_gettext as _l
from sqlalchemy import and_, or_, select
from sqlalchemy.orm import Session

from app import clock
from app.db import transaction
from app.extensions import db
from app.models import AuditEvent, Delegation, User, UserRole
from app.models.users import is_person
from app.operations.errors import Invalid, NotFound
from app.operations.visibility import UNIT_ROLES

MAX_SPAN = timedelta(days=90)


def with_delegates(session: Session, people: set[int]) -> set[int]:
    """`people` and whoever stands in for one of them right now."""
    if not people:
        return set()
    now = clock.now()
    return people | set(session.scalars(select(Delegation.delegate_id).where(
        Delegation.user_id.in_(sorted(people)), Delegation.starts_at <= now, Delegation.ends_at > now,
        Delegation.ended_at.is_(None))))


def _overlapping(start: datetime, end: datetime) -> object:
    return and_(Delegation.ended_at.is_(None), Delegation.starts_at < end, Delegation.ends_at > start)


def create_delegation(actor: User, delegate_username: str, starts_at: datetime | None, ends_at: datetime | None,
                      reason: str) -> Delegation:
    """Name a delegate for my tasks from `starts_at` to `ends_at` (refused with the reason per field)."""
    reason = (reason or "").strip()
    errors = _period_errors(starts_at, ends_at)
    if len(reason) > 300:
        errors["reason"] = [str(_l("委托事由不能超过 300 字。"))]
    with transaction() as session:
        delegate = session.scalar(select(User).where(User.username == (delegate_username or "").strip(),
                                                     User.active.is_(True), is_person()))
        problem = _delegate_problem(actor, delegate)
        if problem:
            errors["delegate"] = [problem]
        if errors or starts_at is None or ends_at is None or delegate is None:
            raise Invalid(str(_l("委托未保存,请修改后再提交。")), errors)
        errors = _chain_errors(session, actor, delegate, starts_at, ends_at)
        if errors:
            raise Invalid(str(_l("委托未保存,请修改后再提交。")), errors)
        row = Delegation(user_id=actor.id, delegate_id=delegate.id, starts_at=starts_at, ends_at=ends_at,
                         reason=reason, created_at=clock.now())
        session.add(row)
        session.flush()
        session.add(AuditEvent(actor_id=actor.id, action="delegation_created",
                               detail={"delegation": row.id, "delegate": delegate.username,
                                       "starts_at": starts_at.isoformat(), "ends_at": ends_at.isoformat(),
                                       "reason": reason}))
        return row


def _period_errors(starts_at: datetime | None, ends_at: datetime | None) -> dict[str, list[str]]:
    errors: dict[str, list[str]] = {}
    if starts_at is None:
        errors["starts_at"] = [str(_l("请填写开始时间。"))]
    if ends_at is None:
        errors["ends_at"] = [str(_l("请填写结束时间。"))]
    elif ends_at <= clock.now():
        errors["ends_at"] = [str(_l("结束时间必须晚于现在。"))]
    elif starts_at is not None and ends_at <= starts_at:
        errors["ends_at"] = [str(_l("结束时间必须晚于开始时间。"))]
    elif starts_at is not None and ends_at - starts_at > MAX_SPAN:
        errors["ends_at"] = [str(_l("委托期限最长 90 天。"))]
    return errors


def _delegate_problem(actor: User, delegate: User | None) -> str | None:
    if delegate is None:
        return str(_l("请选择在岗的委托人。"))
    if delegate.id == actor.id:
        return str(_l("不能委托给自己。"))
    if not delegate.role_codes & actor.role_codes:
        return str(_l("%(name)s与您没有相同的岗位角色,不能代办您的任务。", name=delegate.display_name))
    if not _shares_work(actor, delegate):
        return str(_l("%(name)s与您不在同一科室,不能代办您本科室的任务。", name=delegate.display_name))
    return None


def _shares_work(actor: User, delegate: User) -> bool:
    """A delegate must be able to hold my work: a role we share that is not bound to a unit, or a unit
    role in my own unit (another unit's section head would otherwise read my unit's incidents)."""
    shared = delegate.role_codes & actor.role_codes
    if shared - UNIT_ROLES:
        return True
    return bool(shared) and actor.unit_id is not None and delegate.unit_id == actor.unit_id


def _chain_errors(session: Session, actor: User, delegate: User, start: datetime, end: datetime
                  ) -> dict[str, list[str]]:
    """One delegation per person at a time, and none that would chain or loop."""
    period = _overlapping(start, end)
    if session.scalar(select(Delegation.id).where(Delegation.user_id == actor.id, period).limit(1)):
        return {"starts_at": [str(_l("这段时间内您已有委托;请先结束原委托。"))]}
    holder = session.scalar(select(User.display_name).join(Delegation, Delegation.user_id == User.id)
                            .where(Delegation.delegate_id == actor.id, period).limit(1))
    if holder:
        return {"delegate": [str(_l("这段时间内您正受%(name)s委托代办,不能再委托他人(委托不能连环或循环)。",
                                    name=holder))]}
    if session.scalar(select(Delegation.id).where(Delegation.user_id == delegate.id, period).limit(1)):
        return {"delegate": [str(_l("%(name)s在这段时间内也已委托他人办理,不能再转委托(委托不能连环或循环)。",
                                    name=delegate.display_name))]}
    return {}


def end_delegation(actor: User, delegation_id: int) -> Delegation:
    """End one of my delegations now (or withdraw one that has not started)."""
    with transaction() as session:
        row = session.scalar(select(Delegation).where(Delegation.id == delegation_id, Delegation.user_id == actor.id,
                                                      Delegation.ended_at.is_(None)))
        if row is None:
            raise NotFound(str(_l("委托不存在或已结束。")))
        row.ended_at = clock.now()
        session.add(AuditEvent(actor_id=actor.id, action="delegation_ended", detail={"delegation": row.id}))
        return row


def delegations_of(user: User) -> list[Delegation]:
    """My delegations and those naming me as the delegate that have not ended, newest first."""
    now = clock.now()
    return list(db.session.scalars(select(Delegation).where(
        or_(Delegation.user_id == user.id, Delegation.delegate_id == user.id),
        Delegation.ended_at.is_(None), Delegation.ends_at > now).order_by(Delegation.starts_at.desc())))


def colleagues(user: User) -> list[User]:
    """Active people who could hold my work (see _shares_work), for the picker."""
    roles = sorted(user.role_codes)
    if not roles:
        return []
    people = db.session.scalars(select(User).join(UserRole).where(
        UserRole.role_code.in_(roles), User.active.is_(True), is_person(), User.id != user.id).distinct()
        .order_by(User.display_name))
    return [person for person in people if _shares_work(user, person)]
