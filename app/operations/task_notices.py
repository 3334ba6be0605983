"""Notices that a task landed on a person or their group, coalesced per person; reminders before a task's due time.

When a step opens tasks, one `task_landed` job is written in its transaction (one row, whatever the
number of tasks or people). The worker then writes an inbox row for each person the task is now for
(its holder, else every person of its lane and unit, and their standing delegates), always linking
to the task page `/tasks/<id>`, and one `task_digest` job per person and window (`TASK_DIGEST_SECONDS`).
When that window ends, the digest job sends one e-mail/SMS for everything that landed on the person
in it — the notice itself when it was one task, a list when it was several — by their settings and
the urgency of the tasks; a group task that a colleague took meanwhile is left out. The DingTalk/WeCom
duty groups (robots an admin subscribed to `task`) get the same message, @-mentioning the person by
their mobile when they chose so (`im`: never | urgent | always). A person without an address for a
channel gets the inbox row only. A task with a due time gets one reminder before
it (`task_due_reminder`), to whoever holds it then, unless it is done by then.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable
from datetime import UTC, datetime, timedelta
from typing import Any

from flask import current_app
from sqlalchemy import select
from sqlalchemy.orm import Session

from app import clock
from app.db import transaction
from app.models import HumanTask, Notification, NotificationPreference, TaskStatus, User
from app.notify import templates
from app.operations import delegation, deliveries, jobs, labels, task_rows, visibility
from app.operations.notifications import message_context

LANDED_JOB = "task_landed"
DIGEST_JOB = "task_digest"
REMINDER_JOB = "task_due_reminder"
PREFERENCE_KIND = deliveries.TASK_KIND  # the settings row (and robot subscription) of every task notice
CANCELLED = "task_cancelled"
RETURNED = "task_returned"
KINDS = ("task_assigned", RETURNED, "task_group", "task_passed", "task_urged", "task_reminder", CANCELLED)
URGENT_LEVELS = (1, 2)
URGENT_WITHIN = timedelta(hours=1)
REMINDER_LEAD = timedelta(hours=1)
REMINDER_MIN_SPAN = timedelta(minutes=10)


# -- in the transaction of the change --------------------------------------------------------------


def tasks_opened(session: Session, rows: list[HumanTask], actor: User | None) -> None:
    """A step opened `rows`: one job tells the people they landed on (the actor, who is on the page, not)."""
    if not rows:
        return
    session.flush()  # the rows are inserted now rather than at commit, so the job can name them
    jobs.enqueue(session, LANDED_JOB, {"tasks": [row.id for row in rows], "actor": actor.id if actor else None,
                                       "key": uuid.uuid4().hex[:12]})


def notify_people(session: Session, task: HumanTask, people: Iterable[int], kind: str, key: str,
                  extra: dict[str, Any] | None = None) -> int:
    """Inbox rows for `people` about `task` each linking to the task page, and the
    digest job of each person's current window. Returns how many rows were written."""
    people = delegation.with_delegates(session, set(people))
    if not people:
        return 0
    now = clock.now()
    window = int(current_app.config.get("TASK_DIGEST_SECONDS", 120))
    bucket = int(now.timestamp()) // window
    instance = task.instance
    context = {**message_context(instance), "task_name": task.name,
               "due_at_local": clock.local(task.due_at).strftime("%Y-%m-%d %H:%M") if task.due_at else "",
               "unit_name": labels.units_text(task.unit_code) if visibility.unit_bound(task) else "",
               "actor_name": "", "reason": "", **(extra or {})}
    subject, body = templates.render(kind, context)
    urgent = is_urgent(task, now)
    for person in sorted(people):
        session.add(Notification(user_id=person, kind=kind, title=subject, body=body, link=f"/tasks/{task.public_id}",
                                 instance_id=instance.id, urgent=urgent,
                                 dedup_key=f"land:{key}:{task.id}:{person}:b{bucket}"))
        jobs.enqueue(session, DIGEST_JOB, {"user": person, "bucket": bucket},
                     run_at=datetime.fromtimestamp((bucket + 1) * window, UTC), key=f"task-digest:{person}:{bucket}")
    return len(people)


def is_urgent(task: HumanTask, now: datetime) -> bool:
    """Level Ⅰ or Ⅱ, or due within the hour: SMS by default, marked urgent everywhere."""
    return task.instance.level in URGENT_LEVELS or (task.due_at is not None and task.due_at - now <= URGENT_WITHIN)


def holders(session: Session, task: HumanTask) -> set[int]:
    """Who a task is for now: its holder, else every person of its lane (and unit)."""
    return {task.assignee_id} if task.assignee_id else visibility.candidate_ids(session, task)


def schedule_reminder(session: Session, task: HumanTask, now: datetime) -> None:
    """One reminder before the task's due time: an hour before, or a quarter of the time left if less."""
    if task.due_at is None or task.due_at - now <= REMINDER_MIN_SPAN:
        return
    lead = min(REMINDER_LEAD, (task.due_at - now) / 4)
    due = int(task.due_at.timestamp())
    jobs.enqueue(session, REMINDER_JOB, {"task": task.id, "due": due}, run_at=task.due_at - lead,
                 key=f"task-reminder:{task.id}:{due}")


# -- jobs ------------------------------------------------------------------------------------------


def land(payload: dict[str, Any]) -> int:
    """The `task_landed` job: inbox rows for the people the opened tasks are for, reminders scheduled."""
    key, actor = str(payload["key"])[:16], payload.get("actor")
    with transaction() as session:
        if _done(session, key):
            return 0
        rows = session.scalars(select(HumanTask).where(HumanTask.id.in_([int(i) for i in payload["tasks"]]),
                                                       HumanTask.status == TaskStatus.OPEN))
        written, now = 0, clock.now()
        for task in rows:
            people = holders(session, task) - {actor}
            back = task_rows.returned(session, task) if task.assignee_id else None
            if back is not None:  # a returned draft, claimed for its drafter: say so, who and why
                written += notify_people(session, task, people, RETURNED, key,
                                         {"actor_name": back.by, "reason": back.comment})
            else:
                written += notify_people(session, task, people,
                                         "task_assigned" if task.assignee_id else "task_group", key)
            schedule_reminder(session, task, now)
        return written


def remind(payload: dict[str, Any]) -> int:
    """The `task_due_reminder` job: the task is still open before its due time — tell whoever holds it."""
    with transaction() as session:
        task = session.get(HumanTask, int(payload["task"]))
        if task is None or task.status != TaskStatus.OPEN or task.due_at is None:
            return 0
        now = clock.now()
        if int(task.due_at.timestamp()) != int(payload["due"]):  # the due time was changed: remind for the new one
            schedule_reminder(session, task, now)
            return 0
        key = f"r{task.id}x{int(payload['due'])}"
        if task.due_at <= now or _done(session, key):
            return 0
        return notify_people(session, task, holders(session, task), "task_reminder", key)


def digest(payload: dict[str, Any]) -> int:
    """The `task_digest` job: one message per person and window over the personal channels."""
    person, bucket = int(payload["user"]), int(payload["bucket"])
    with transaction() as session:
        rows = list(session.scalars(select(Notification).where(
            Notification.user_id == person, Notification.kind.in_(KINDS),
            Notification.dedup_key.like(f"land:%:b{bucket}")).order_by(Notification.id)))
        ids = {row.link.rsplit("/", 1)[-1] for row in rows if row.link}
        tasks = {t.public_id: t for t in session.scalars(select(HumanTask).where(HumanTask.public_id.in_(ids)))}
        live = [row for row in rows if _still_for(tasks.get((row.link or "").rsplit("/", 1)[-1]), row, person)]
        if not live:
            return 0
        base = current_app.config["PUBLIC_URL"]
        if len(live) == 1:
            subject, body, link = live[0].title, live[0].body, base + (live[0].link or "/tasks")
        else:
            subject, body = templates.render("task_digest", {
                "count": len(live), "items": [{"title": row.title, "link": base + (row.link or "")} for row in live]})
            link = base + "/tasks"
        notice = deliveries.Notice(kind=PREFERENCE_KIND, subject=subject, body=body, urgent=any(r.urgent for r in live),
                                   link=link, instance_id=live[0].instance_id if len(live) == 1 else None)
        rows = deliveries.plan_deliveries(session, notice, [person], f"task-digest-{person}-{bucket}",
                                          group_channels="explicit")
        mobile = _mention(session, person, notice.urgent)
        for row in rows:
            if mobile and row.channel_kind in deliveries.ROBOT_KINDS:
                row.mentions = [mobile]
        return len(rows)


def _mention(session: Session, person: int, urgent: bool) -> str | None:
    """The mobile to @-mention in the duty groups, if the person chose so for this urgency and has one."""
    choice = session.scalar(select(NotificationPreference.im).where(
        NotificationPreference.user_id == person, NotificationPreference.kind == PREFERENCE_KIND))
    if choice == "always" or (choice == "urgent" and urgent):
        return session.scalar(select(User.phone).where(User.id == person)) or None
    return None


def _done(session: Session, key: str) -> bool:
    """Did this job already write its rows (it ran, and its runner died before recording that)?"""
    return session.scalar(select(Notification.id).where(Notification.dedup_key.startswith(f"land:{key}:"))
                          .limit(1)) is not None


def _still_for(task: HumanTask | None, row: Notification, person: int) -> bool:
    """Worth a message now: the task is open, and a group task was not taken by a colleague meanwhile
    (or, for the notice that it was cancelled, it still is)."""
    if row.kind == CANCELLED:
        return task is not None and task.status == TaskStatus.CANCELLED
    if task is None or task.status != TaskStatus.OPEN:
        return False
    return row.kind != "task_group" or task.assignee_id in (None, person)
