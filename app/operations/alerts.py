"""Urgent inbox messages to every active admin (a failed job, an instance in error, a task nobody can take)."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from sqlalchemy import select
from sqlalchemy.orm import Session

from app.models import AuditEvent, HumanTask, Notification, ProcessInstance, User, UserRole
from app.models.base import new_public_id
from app.models.users import is_person
from app.operations import labels


def alert_admins(session: Session, kind: str, title: str, body: str, link: str,  # noqa: PLR0913 - what, where, who
                 instance_id: int | None = None, *, roles: tuple[str, ...] = ("admin",),
                 staff_link: str | None = None) -> None:
    """One urgent inbox row per active admin (or holder of `roles`), in the caller's transaction; with
    `staff_link`, the holders who are not admins get that link instead of the admin console's."""
    rows = session.execute(select(User.id, UserRole.role_code).join(UserRole).where(
        UserRole.role_code.in_(roles), User.active.is_(True), is_person())).all()
    admins = {user_id for user_id, role in rows if role == "admin"}
    for admin_id in sorted({user_id for user_id, _role in rows}):
        theirs = link if admin_id in admins or staff_link is None else staff_link
        session.add(Notification(user_id=admin_id, kind=kind, urgent=True, link=theirs, instance_id=instance_id,
                                 title=title, body=body[:1000]))


def alert_unstaffed(session: Session, instance: ProcessInstance, task: HumanTask) -> None:
    """No active person holds a new task's lane roles (in its unit): it would wait unseen. The admins, who
    can reassign it, and the office director, who staffs the units, are told at once."""
    unit = labels.units_text(task.unit_code) if task.unit_code else ""
    task.public_id = task.public_id or new_public_id()  # the row is not inserted yet: its link needs the id now
    session.add(AuditEvent(instance_id=instance.id, task=task, action="warning",
                           detail={"element": task.spec_id, "reason": f"nobody can take this task {unit}".strip()}))
    label = instance.business_key or instance.title or task.name
    body = (_l("系统中没有%(unit)s可以办理该任务的在岗人员。请为其配置人员,或由管理员转办。", unit=unit) if unit
            else _l("系统中没有可以办理该任务的在岗人员。请为其配置人员,或由管理员转办。"))
    alert_admins(session, "task_unstaffed", str(_l("无人可办理:%(task)s(%(label)s)", task=task.name, label=label)),
                 str(body), f"/instances/{instance.public_id}", instance_id=instance.id,
                 roles=("admin", "office_director"), staff_link=f"/tasks/{task.public_id}")
