"""The task lists of the API: mine, my groups', every open task I may see — the worklist's SQL
(visibility.candidate_clause / task_clause), paged by keyset on the task id."""

from __future__ import annotations

import base64
from dataclasses import dataclass

from flask_babel import lazy_gettext as _l
from sqlalchemy import select

from app import clock
from app.extensions import db
from app.models import HumanTask, ProcessInstance, TaskStatus, User
from app.operations import visibility
from app.operations.errors import Invalid

SCOPES = ("mine", "groups", "open")


@dataclass(frozen=True)
class TaskPage:
    rows: list[HumanTask]
    next_cursor: str | None


def encode_cursor(value: int) -> str:
    return base64.urlsafe_b64encode(str(value).encode()).decode().rstrip("=")


def decode_cursor(cursor: str | None) -> int | None:
    """The number a cursor carries; Invalid (next to `cursor`) when it is not one of ours."""
    if not cursor:
        return None
    try:
        text = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)).decode()
    except (ValueError, UnicodeDecodeError):
        text = ""
    if not text.isdigit() or len(text) > 12:
        message = str(_l("分页参数无效,请从第一页重新读取。"))
        raise Invalid(message, {"cursor": [message]})
    return int(text)


def page_tasks(user: User, scope: str, *, process: str | None = None, overdue: bool | None = None,
               instance: str | None = None, cursor: str | None = None, limit: int = 50) -> TaskPage:
    """Open tasks of `scope` the user may see (of one instance, by its public id), oldest first, after `cursor`."""
    if scope == "mine":
        who = HumanTask.assignee_id == user.id
    elif scope == "groups":
        who = visibility.candidate_clause(user)
    else:
        who = visibility.task_clause(user)
    query = select(HumanTask).where(HumanTask.status == TaskStatus.OPEN, who)
    if process:
        query = query.where(HumanTask.process_id == process)
    if instance:
        query = query.where(HumanTask.instance_id == select(ProcessInstance.id).where(
            ProcessInstance.public_id == instance[:36]).scalar_subquery())
    if overdue is not None:
        late = HumanTask.due_at < clock.now()
        query = query.where(late if overdue else (HumanTask.due_at.is_(None) | ~late))
    after = decode_cursor(cursor)
    if after is not None:
        query = query.where(HumanTask.id > after)
    rows = list(db.session.scalars(query.order_by(HumanTask.id).limit(limit + 1)))
    more = len(rows) > limit
    rows = rows[:limit]
    return TaskPage(rows, encode_cursor(rows[-1].id) if more and rows else None)
