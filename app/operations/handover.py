"""Handing work on, as staff: 转办 (pass a task to a colleague who fits it, with a reason) and 催办 (the
office urges the holders of an open task, at most once per task in `URGE_INTERVAL`).

Each is one transaction: the task's instance is locked, the change and its audit row are written, and
the people concerned get their notices (app.operations.task_notices). A pass keeps what its sender had
typed into the task's form as the task's draft, in the same transaction.
"""

from __future__ import annotations

import json
import uuid
from datetime import datetime, timedelta
from typing import Any

from flask_babel import lazy_gettext as _l
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from app import clock
from app.db import transaction
from app.extensions import db
from app.models import AuditEvent, HumanTask, User, UserRole
from app.models.users import is_person
from app.operations import assignment, labels, ledger, task_notices, task_rows, tasks
from app.operations.errors import Conflict, Forbidden, Invalid
from app.operations.vocabulary import listed

OFFICE_ROLES = ("office_director", "office_staff")
URGE_INTERVAL = timedelta(minutes=30)
MAX_REASON = 500


def pass_task(public_id: str, actor: User, username: str, reason: str,
              draft: dict[str, Any] | None = None) -> HumanTask:
    """转办: give a task I may work on to a colleague who holds its lane's role (and unit), with a reason.

    `draft`: what I typed into the task's form, kept as its draft with the pass (nothing is kept when the
    pass is refused; the page sends it back).
    """
    reason = (reason or "").strip()
    errors: dict[str, list[str]] = {}
    if not reason:
        errors["pass_reason"] = [str(_l("请填写转办理由。"))]
    elif len(reason) > MAX_REASON:
        errors["pass_reason"] = [str(_l("转办理由不能超过 500 字。"))]
    with transaction() as session:
        task = tasks.task_for_write(session, public_id, actor)
        if not tasks.can_work(task, actor):
            raise tasks.not_workable(task)
        person = session.scalar(select(User).where(User.username == (username or "").strip(), User.active.is_(True),
                                                 is_person()))
        if person is None:
            errors["pass_to"] = [str(_l("请选择接收任务的同事。"))]
        elif person.id in (actor.id, task.assignee_id):
            errors["pass_to"] = [str(_l("任务已在%(name)s名下,请选择其他同事。", name=person.display_name))]
        elif problem := assignment.holder_problem(session, task, person):
            errors["pass_to"] = [problem + str(_l("不能转办给该同事。"))]
        if errors or person is None:
            why = "".join(text for texts in errors.values() for text in texts)
            raise Invalid(str(_l("转办未完成:%(why)s", why=why)), errors)
        _keep_draft(session, task, actor, draft)
        before = task.assignee.username if task.assignee else None
        on_behalf = task.assignee.display_name if task.assignee and task.assignee_id != actor.id else None
        task.assignee, task.claimed_at = person, clock.now()
        if task.addressed_to_id is not None:  # a task the diagram gave to one person is now the new one's
            task.addressed_to_id = person.id
        detail = {"task": task.spec_id, "name": task.name, "from": before, "to": person.username, "reason": reason}
        if on_behalf:
            detail["on_behalf_of"] = on_behalf
        session.add(AuditEvent(actor_id=actor.id, instance_id=task.instance_id, task_id=task.id,
                               action="task_passed", detail=detail))
        ledger.record_pass(session, task, actor, person, reason)
        session.flush()
        task_notices.notify_people(session, task, {person.id}, "task_passed", f"p{task.id}x{uuid.uuid4().hex[:8]}",
                                   {"actor_name": actor.display_name, "reason": reason})
        return task


def _keep_draft(session: Session, task: HumanTask, actor: User, draft: dict[str, Any] | None) -> None:
    if draft is None or draft == (task.draft or {}) or (not task.draft and not _typed(draft)):
        return
    if len(json.dumps(draft, ensure_ascii=False).encode()) > tasks.MAX_DRAFT_BYTES:
        raise Invalid(str(_l("草稿内容过大。")))
    task.draft = draft
    session.add(AuditEvent(actor_id=actor.id, instance_id=task.instance_id, task_id=task.id,
                           action="task_draft_saved", detail={"task": task.spec_id, "with": "task_passed"}))


def _typed(value: Any) -> bool:
    """Whether a form's raw values hold anything a person typed or chose."""
    if isinstance(value, dict):
        return any(_typed(item) for item in value.values())
    if isinstance(value, list):
        return any(_typed(item) for item in value)
    return bool(value.strip()) if isinstance(value, str) else value not in (None, False)


def return_note(task: HumanTask) -> task_rows.Returned | None:
    """A draft sent back to its drafter (decision 124): who returned it and their comment."""
    return task_rows.returned(db.session, task)


def pass_candidates(task: HumanTask, actor: User) -> list[User]:
    """Colleagues a task may be passed to: active holders of its lane's roles (in its unit), not me."""
    roles = task.candidate_roles
    if not roles:
        return []
    people = db.session.scalars(select(User).join(UserRole).where(
        UserRole.role_code.in_(roles), User.active.is_(True), is_person(), User.id != actor.id,
        User.id != (task.assignee_id or 0)).distinct().order_by(User.display_name))
    return [person for person in people if assignment.holder_problem(db.session, task, person) is None]


def may_urge(user: User) -> bool:
    """催办 is the office's: its director and staff."""
    return user.has_role(*OFFICE_ROLES)


def urge_task(public_id: str, actor: User, note: str) -> int:
    """催办: tell whoever holds an open task (or its group) to get on with it. Returns how many were told."""
    if not may_urge(actor):
        raise Forbidden(str(_l("只有办公室人员可以催办。")))
    note = (note or "").strip()
    if len(note) > MAX_REASON:
        raise Invalid(str(_l("催办意见不能超过 500 字。")), {"urge_note": [str(_l("催办意见不能超过 500 字。"))]})
    with transaction() as session:
        task = tasks.task_for_write(session, public_id, actor)
        last = _last_urged(session, task)
        now = clock.now()
        if last is not None and now - last < URGE_INTERVAL:
            again = clock.local(last + URGE_INTERVAL).strftime("%H:%M")
            message = str(_l("该任务已于 %(at)s 催办过,30 分钟内不重复催办;请在 %(again)s 后再催办。",
                             at=clock.local(last).strftime("%H:%M"), again=again))
            raise Conflict(message)
        people = task_notices.holders(session, task) - {actor.id}
        if not people:
            raise Invalid(str(_l("该任务目前没有可以办理的人员,无法催办;请联系系统管理员转办。")),
                          {"urge_note": [str(_l("该任务目前没有可以办理的人员。"))]})
        unit = labels.units_text(task.unit_code) if task.unit_code else ""
        session.add(AuditEvent(actor_id=actor.id, instance_id=task.instance_id, task_id=task.id, action="task_urged",
                               detail={"task": task.spec_id, "name": task.name, "note": note, "unit": unit,
                                       "recipients": len(people)}))
        return task_notices.notify_people(session, task, people, "task_urged", f"u{task.id}x{uuid.uuid4().hex[:8]}",
                                          {"actor_name": actor.display_name, "reason": note})


def _last_urged(session: Session, task: HumanTask) -> datetime | None:
    return session.scalar(select(func.max(AuditEvent.at)).where(AuditEvent.task_id == task.id,
                                                                AuditEvent.action == "task_urged"))


def holders_text(task: HumanTask, locale: str = "zh_CN") -> str:
    """Who an open task waits for, in words (for the 催办 button's confirmation), roles named in `locale`."""
    if task.assignee is not None:
        return task.assignee.display_name
    names = labels.role_names(locale)
    return str(_l("%(roles)s(待签收)", roles=listed((names.get(r, r) for r in task.candidate_roles), locale)))

