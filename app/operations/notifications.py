"""Turn `notify` side effects into inbox rows for every recipient; list and mark the inbox."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from flask import current_app
from sqlalchemy import Select, func, select, update
from sqlalchemy.orm import Session

from app import clock
from app.db import transaction
from app.engine.services import SideEffect
from app.extensions import db
from app.models import (
    AuditEvent,
    HumanTask,
    Incident,
    Notification,
    OrgUnit,
    ProcessInstance,
    TaskStatus,
    User,
    UserRole,
)
from app.models.users import is_person
from app.notify import templates
from app.operations import catalog, labels, visibility
from app.operations import deliveries as deliveries_ops
from app.operations.vocabulary import level_name


def deliver(session: Session, instance: ProcessInstance, effect: SideEffect) -> list[Notification]:
    """Write the in-app notifications a service task asked for, in the caller's transaction."""
    if effect.operator != "notify":
        return []
    kind = effect.params["template"]
    urgent = bool(effect.params.get("urgent"))
    until = clock.parse_aware(effect.params.get("until"))
    if until is not None and clock.now() >= until:
        return []  # "less than an hour left" once the deadline has passed (a late worker, a clock moved on)
    event_key = f"{instance.public_id}:{effect.task_guid}"
    if "once" in effect.params:
        event_key = f"{instance.public_id}:{kind}:once:{effect.params['once']}"[:150]
        if session.scalar(select(Notification.id).where(Notification.dedup_key.startswith(event_key + ":"))):
            return []  # this alert (for this deadline) was already sent by another path
    recipients = _recipients(session, instance, effect.params["recipients"], effect.data)
    subject, body = templates.render(kind, message_context(instance, effect.data))
    links = links_for(session, instance, recipients)
    rows = []
    for user_id in sorted(recipients):
        row = Notification(user_id=user_id, kind=kind, title=subject, body=body, link=links[user_id],
                           instance_id=instance.id, urgent=urgent, dedup_key=f"{event_key}:{user_id}")
        session.add(row)
        rows.append(row)
    base = current_app.config["PUBLIC_URL"]
    deliveries = []
    for link in sorted(set(links.values())):  # each person's e-mail carries their own link
        notice = deliveries_ops.Notice(kind=kind, subject=subject, body=body, urgent=urgent, link=base + link,
                                       instance_id=instance.id)
        people = sorted(user_id for user_id, theirs in links.items() if theirs == link)
        deliveries += deliveries_ops.plan_deliveries(session, notice, people, event_key, group_channels="none")
    notice = deliveries_ops.Notice(kind=kind, subject=subject, body=body, urgent=urgent,
                                   link=base + page_link(session, instance),
                                   instance_id=instance.id)
    deliveries += deliveries_ops.plan_deliveries(session, notice, [], event_key)
    session.add(AuditEvent(instance_id=instance.id, action="notification_sent",
                           detail={"kind": kind, "element": effect.task_spec, "recipients": len(rows),
                                   "deliveries": [d.channel_kind for d in deliveries]}))
    return rows


def links_for(session: Session, instance: ProcessInstance, people: set[int]) -> dict[int, str]:
    """Where a notice about `instance` takes each person: their most urgent open task of it, else the
    incident's staff page (`page_link`)."""
    if not people:
        return {}
    tasks = list(session.scalars(select(HumanTask).where(HumanTask.instance_id == instance.id,
                                                         HumanTask.status == TaskStatus.OPEN)
                                 .order_by(HumanTask.due_at.is_(None), HumanTask.due_at, HumanTask.id)))
    page = page_link(session, instance)
    links = dict.fromkeys(people, page)
    for user in session.scalars(select(User).where(User.id.in_(sorted(people)))) if tasks else []:
        task = next((t for t in tasks if t.assignee_id == user.id
                     or (t.assignee_id is None and visibility.is_candidate(t, user))), None)
        if task is not None:
            links[user.id] = f"/tasks/{task.public_id}"
    return links


def page_link(session: Session, instance: ProcessInstance) -> str:
    """Where a notice about an instance takes people: its incident's staff page, else the instance page."""
    number = session.scalar(select(Incident.number).where(Incident.instance_id == instance.id))
    if number is None and (instance.business_key or "").startswith("YQ-"):  # a level's response, a release …
        number = instance.business_key
    return f"/incidents/{number}" if number else f"/instances/{instance.public_id}"


def _recipients(session: Session, instance: ProcessInstance, keys: list[str], data: dict[str, Any]) -> set[int]:
    """People named by a service task: role codes, `initiator`, `lane:<lane name>` (the roles of that
    lane in this process version), `assignee:<task id>` (whoever claimed or completed that task
    in this instance), `involved` (whoever claimed or completed any task of this instance) and
    `unit_heads:<data name>` (the section heads of the unit codes that task data holds, e.g.
    `unit_heads:related_units`)."""
    ids: set[int] = set()
    roles = {k for k in keys if ":" not in k and k not in ("initiator", "involved")}
    for key in keys:
        if key.startswith("unit_heads:"):
            name = key.split(":", 1)[1]
            ids.update(_unit_heads(session, data.get(name) if name in data else (instance.data or {}).get(name)))
    if "initiator" in keys and instance.started_by_id:
        ids.add(instance.started_by_id)
    lanes = {k.split(":", 1)[1] for k in keys if k.startswith("lane:")}
    if lanes:
        tasks = catalog.version(instance.definition_id).tasks.values()
        roles.update(role for info in tasks if info.get("lane") in lanes for role in info.get("roles", []))
    assigned = [k.split(":", 1)[1] for k in keys if k.startswith("assignee:")]
    if assigned or "involved" in keys:
        query = select(HumanTask.assignee_id, HumanTask.completed_by_id).where(HumanTask.instance_id == instance.id)
        if "involved" not in keys:
            query = query.where(HumanTask.spec_id.in_(assigned))
        ids.update(person for row in session.execute(query) for person in row if person)
    if roles:
        ids.update(session.scalars(select(UserRole.user_id).join(User).where(
            UserRole.role_code.in_(sorted(roles)), User.active.is_(True), is_person())))
    return ids


def _unit_heads(session: Session, codes: Any) -> set[int]:
    codes = [codes] if isinstance(codes, str) else codes
    if not isinstance(codes, list) or not codes:
        return set()
    return set(session.scalars(select(User.id).join(UserRole).join(OrgUnit, OrgUnit.id == User.unit_id).where(
        UserRole.role_code == "section_head", OrgUnit.code.in_([str(c) for c in codes[:50]]),
        User.active.is_(True), is_person())))


def _local(value: Any) -> str | None:
    if not isinstance(value, str):
        return None
    try:
        parsed = datetime.fromisoformat(value)
    except ValueError:
        return value
    if parsed.tzinfo is None:
        return value
    return clock.local(parsed).strftime("%Y-%m-%d %H:%M")


def message_context(instance: ProcessInstance, data: dict[str, Any] | None = None) -> dict[str, Any]:
    """Values notification templates may use, from the data of the task that asked (else the instance's)."""
    data = data or instance.data or {}
    confirmed = data.get("current_level") or data.get("confirmed_level")
    level = confirmed or data.get("proposed_level")
    return {
        "incident_no": instance.business_key or "",
        "title": instance.title or data.get("title") or "",
        "process_name": catalog.version(instance.definition_id).name,
        "level_name": level_name(level),
        "level_confirmed": bool(confirmed),  # else level_name is the system's proposal, not yet graded
        "grade_basis": data.get("grade_basis") or "",
        "summary": str(data.get("summary") or "")[:500],
        "reason": str(data.get("upgrade_reason") or data.get("reason") or "")[:500],
        "worsening_desc": str(data.get("worsening_desc") or "")[:500],
        # entering a level after an upgrade: the first release was already made, its deadline is met
        "first_release_done": bool((data.get("record") or {}).get("first_release_done")),
        # one dispatched unit's task (yq_dispatch): which unit, and what it was asked to do
        "dispatch_unit_name": labels.units_text(data["dispatch_unit"]) if data.get("dispatch_unit") else "",
        "dispatch_task_text": str(data.get("dispatch_task_text") or "")[:500],
        **{f"{key}_local": _local(data.get(key)) for key in (
            "discovered_at", "report_due_at", "release_due_at", "release_warn_at", "national_due_at",
            "press_conf_due_at", "summary_due_at", "dispatch_due_at", "aftermath_until")},
    }


def unread_count(user: User) -> int:
    """Unread inbox messages of a user."""
    return db.session.scalar(unread_query(user)) or 0


def unread_query(user: User) -> Select[tuple[int]]:
    """`unread_count` as a statement (a page that counts other things asks it in the same round trip)."""
    return select(func.count(Notification.id)).where(Notification.user_id == user.id, Notification.read_at.is_(None))


def list_inbox(user: User, limit: int = 100) -> list[Notification]:
    """The newest inbox messages of a user."""
    return list(db.session.scalars(select(Notification).where(Notification.user_id == user.id)
                                   .order_by(Notification.created_at.desc(), Notification.id.desc())
                                   .limit(limit)))


def mark_read(user: User, notification_id: int | None = None) -> int:
    """Mark one (or every) message of the user as read; returns how many changed."""
    with transaction() as session:
        query = update(Notification).where(Notification.user_id == user.id, Notification.read_at.is_(None))
        if notification_id is not None:
            query = query.where(Notification.id == notification_id)
        return session.execute(query.values(read_at=clock.now())).rowcount
