"""The human task rows of an engine step: rows of tasks no longer ready are cancelled, new ones written
with their candidates and context snapshot; a task the diagram gives to one person is theirs, a returned
draft goes back to its holder (`returnTo`), and a task nobody can take raises an alert."""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any, NamedTuple

from flask_babel import lazy_gettext as _l
from sqlalchemy import select, update
from sqlalchemy.orm import Session

from app.engine.runner import Step
from app.models import AuditEvent, HumanTask, HumanTaskCandidate, ProcessInstance, TaskStatus, User
from app.operations import alerts, catalog, visibility

MAX_CONTEXT_BYTES = 256 * 1024


def sync(session: Session, instance: ProcessInstance, step: Step, now: datetime,
         open_rows: list[tuple[int, str, str]] | None) -> list[HumanTask]:
    """Bring the instance's open task rows in line with the step's ready tasks; returns the rows opened.
    `open_rows` (id, guid, element) when the caller read them under the instance's lock, else read here."""
    # Only the columns needed: rows carry large context snapshots that need not be read here. Neither
    # this read nor the staffing check below needs the step's pending rows: without autoflush they are
    # written together later, one INSERT per table (the audit events of the whole step in one).
    with session.no_autoflush:
        if open_rows is None:
            open_rows = [tuple(row) for row in session.execute(
                select(HumanTask.id, HumanTask.task_guid, HumanTask.spec_id).where(
                    HumanTask.instance_id == instance.id, HumanTask.status == TaskStatus.OPEN))]
        return _sync_open_rows(session, instance, step, now, {guid: _OpenRow(row_id, guid, spec)
                                                               for row_id, guid, spec in open_rows})


class _OpenRow(NamedTuple):
    id: int
    task_guid: str
    spec_id: str


def _sync_open_rows(session: Session, instance: ProcessInstance, step: Step, now: datetime,
                    open_rows: dict[str, _OpenRow]) -> list[HumanTask]:
    ready = {task.guid: task for task in step.ready}
    gone = [row for guid, row in open_rows.items() if guid not in ready]
    if gone:
        session.execute(update(HumanTask).where(HumanTask.id.in_([row.id for row in gone]))
                        .values(status=TaskStatus.CANCELLED, completed_at=now))
        session.add_all(AuditEvent(instance_id=instance.id, task_id=row.id, action="task_cancelled",
                                   detail={"task": row.spec_id}) for row in gone)
    opened = []
    version = catalog.version(instance.definition_id)
    for guid, task in ready.items():
        if guid in open_rows:
            continue
        roles = version.task_info(task.process_id, task.spec_id).get("roles", [])
        row = HumanTask(
            instance_id=instance.id, task_guid=guid, process_id=task.process_id, spec_id=task.spec_id,
            name=task.name, lane=task.lane, form=task.form, ui_form=task.ui_form,
            documentation=task.documentation, context=capped(task.data), due_at=task.due_at, created_at=now,
            unit_code=task.unit, candidate_roles_text=",".join(roles),
            candidates=[HumanTaskCandidate(role_code=role) for role in roles],
        )
        if task.assignee:
            _preassign(session, instance, row, task.assignee, now)
        returned = _return_to_holder(session, instance, row, task.return_to, now) if task.return_to else None
        session.add(row)
        session.add(AuditEvent(actor_id=None, instance_id=instance.id, task=row, action="task_created",
                               detail={"task": task.spec_id, "name": task.name,
                                       "due_at": task.due_at.isoformat() if task.due_at else None}))
        if returned is not None:
            session.add(returned)
        opened.append(row)
    # Whether anybody can take the new tasks, checked for all of them in one statement.
    unassigned = [row for row in opened if row.assignee_id is None]
    needs = [(row.candidate_roles, row.unit_code) for row in unassigned]
    for row, ok in zip(unassigned, visibility.staffed(session, needs) if needs else [], strict=True):
        if not ok:
            alerts.alert_unstaffed(session, instance, row)
    return opened


def _preassign(session: Session, instance: ProcessInstance, row: HumanTask, username: str, now: datetime) -> None:
    """A task the diagram gives to one person (a commentator, the chosen replier) is theirs at once."""
    user_id = session.scalar(select(User.id).where(User.username == username, User.active.is_(True)))
    if user_id is None:
        session.add(AuditEvent(instance_id=instance.id, action="warning",
                               detail={"element": row.spec_id, "reason": f"assignee '{username}' is not an active "
                                                                         "user; the task is open to its lane"}))
        return
    row.assignee_id = row.addressed_to_id = user_id
    row.claimed_at = now


def _return_to_holder(session: Session, instance: ProcessInstance, row: HumanTask, guid: str,
                      now: datetime) -> AuditEvent | None:
    """A returned draft goes back to whoever held its last round: claimed for them, still listed to the group
    as theirs (they may give it back); to the group when that person no longer fits it."""
    holder = session.scalar(select(User).join(HumanTask, HumanTask.assignee_id == User.id).where(
        HumanTask.instance_id == instance.id, HumanTask.task_guid == guid, HumanTask.status == TaskStatus.COMPLETED,
        User.active.is_(True)))
    if holder is None or row.assignee_id is not None or not visibility.is_candidate(row, holder):
        return None
    row.assignee_id, row.claimed_at = holder.id, now
    return AuditEvent(actor_id=None, instance_id=instance.id, task=row, action="task_claimed",
                      detail={"task": row.spec_id, "returned_to": holder.username})


COMPLETIONS = ("task_completed", "task_completed_by_admin")


class Returned(NamedTuple):
    """Who sent a draft back to its holder (`returnTo`, decision 124), and their comment ("" without one)."""

    by: str
    comment: str


def returned(session: Session, task: HumanTask) -> Returned | None:
    """For a task claimed back for its drafter: the completion that sent it back (the instance's last one before
    the task opened), its person and comment (the returning form's `*_comment` field); None for any other task."""
    events = session.execute(select(AuditEvent.id, AuditEvent.action, AuditEvent.detail).where(
        AuditEvent.task_id == task.id, AuditEvent.action.in_(("task_created", "task_claimed")))
        .order_by(AuditEvent.id)).all()
    created = next((event.id for event in events if event.action == "task_created"), None)
    if created is None or not any(event.action == "task_claimed" and "returned_to" in (event.detail or {})
                                  for event in events):
        return None
    row = session.execute(select(AuditEvent.detail, User.display_name).outerjoin(User, User.id == AuditEvent.actor_id)
                          .where(AuditEvent.instance_id == task.instance_id, AuditEvent.action.in_(COMPLETIONS),
                                 AuditEvent.id < created).order_by(AuditEvent.id.desc()).limit(1)).first()
    if row is None:
        return None
    data = (row.detail or {}).get("data") or {}
    comment = next((value.strip() for key, value in data.items()
                    if key.endswith("_comment") and isinstance(value, str) and value.strip()), "")
    body = data.get("approver_body")
    if data.get("external_result") == "return" and isinstance(body, str) and body.strip():
        # the office recorded a superior's review: the superior returned it, the office only wrote it down
        return Returned(str(_l("%(body)s(%(person)s记录)", body=body.strip(), person=row.display_name or "")), comment)
    return Returned(row.display_name or "", comment)


def capped(data: dict[str, Any]) -> dict[str, Any]:
    """`data` as JSON gives it back (what a row stores), or a marker when it is over MAX_CONTEXT_BYTES."""
    encoded = json.dumps(data, ensure_ascii=False, default=str)
    if len(encoded.encode()) <= MAX_CONTEXT_BYTES:
        return json.loads(encoded)
    return {"_truncated": True}
