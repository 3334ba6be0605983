"""Start instances, apply engine steps to the database (task rows, side effects, status), deliver messages.

Due timers fire in `timer_firing`; pages read instances through `instance_views`."""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import datetime
from typing import Any

from flask import current_app
from flask_babel import lazy_gettext as _l
from sqlalchemy import select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from app import clock
from app.db import transaction
from app.engine import helpers, runner, state
from app.engine.runner import Budget, RouteRefused, Step
from app.engine.services import SideEffect
from app.models import (
    Alert,
    AuditEvent,
    Counter,
    HumanTask,
    Incident,
    InstanceStatus,
    ProcessDefinition,
    ProcessInstance,
    User,
)
from app.operations import (
    catalog,
    deadlines,
    ledger,
    notifications,
    profiles,
    task_notices,
    task_rows,
    visibility,
)
from app.operations.errors import Conflict, Invalid, NotFound
from app.operations.failures import (
    mark_error,
    quarantining,
    reading_state,
    record_error,
    unreadable_reason,
)

INCIDENT_PROCESS = "yq_incident"


def budget() -> Budget:
    """The step budget of one advance, from configuration."""
    return Budget(steps=current_app.config["STEP_BUDGET"])


def start_incident(actor: User, data: dict[str, Any] | None = None) -> ProcessInstance:
    """Register a new incident: number it, seed `discovered_at` with now, run to the first task."""
    with transaction() as session:
        return _start_incident(session, actor, data or {})


def register_incident(actor: User) -> tuple[ProcessInstance, HumanTask | None]:
    """The registration page's start: `start_incident`, and the person who registers holds the first
    task they may do (the quick report, decision 94), so it is theirs in 我的 rather than offered to the
    whole group while they fill it in. Returns that task too (None if none is theirs to do)."""
    with transaction() as session:
        held: list[HumanTask] = []
        instance = _start_incident(session, actor, {}, hold=held)
        return instance, (held[0] if held else None)


def _hold_first(actor: User, opened: list[HumanTask], held: list[HumanTask]) -> AuditEvent | None:
    """The first opened task `actor` may do, held by them before its row is written (one INSERT)."""
    task = next((row for row in opened if row.assignee_id is None and visibility.is_candidate(row, actor)), None)
    if task is None:
        return None
    task.assignee_id, task.claimed_at = actor.id, clock.now()
    held.append(task)
    return AuditEvent(actor_id=actor.id, instance_id=task.instance_id, task=task, action="task_claimed",
                      detail={"task": task.spec_id, "on_start": True})


def _start_incident(session: Session, actor: User | None, data: dict[str, Any],
                    hold: list[HumanTask] | None = None) -> ProcessInstance:
    number = _next_incident_number(session)
    data = {**data, "incident_no": number}
    data.setdefault("discovered_at", helpers.now())
    instance = _start(session, INCIDENT_PROCESS, actor, data, business_key=number, hold=hold)
    incident = Incident(number=number, instance_id=instance.id, title=instance.title or "",
                        discovered_at=clock.parse_aware(data["discovered_at"]), deadlines={})
    # the quick report is due from the start (its task is the registration): the ledger holds its due
    # time now, so an incident not yet reported counts as 未到期, like the deadlines set later
    due = (instance.data or {}).get("report_due_at")
    if due:
        deadlines.set_deadline(incident, "report", due=due)
    session.add(incident)
    session.flush()
    return instance


def start_instance(process_key: str, actor: User | None, data: dict[str, Any] | None = None,
                   scheduled_for: datetime | None = None) -> ProcessInstance:
    """Start the newest version of a process with `data` (`scheduled_for`: the scheduler's period)."""
    with transaction() as session:
        instance = _start(session, process_key, actor, dict(data or {}))
        instance.scheduled_for = scheduled_for
        return instance


def latest_definition(session: Session, process_key: str) -> ProcessDefinition:
    definition = session.scalar(select(ProcessDefinition).where(
        ProcessDefinition.process_key == process_key, ProcessDefinition.is_latest.is_(True)))
    if definition is None:
        raise NotFound(str(_l("流程 %(key)s 尚未部署。", key=process_key)))
    return definition


def new_instance(session: Session, definition: ProcessDefinition, actor: User | None,
                 business_key: str | None = None) -> ProcessInstance:
    """The row of an instance about to start (flushed, so queries during its first step can find it)."""
    instance = ProcessInstance(
        definition=definition, process_key=definition.process_key, business_key=business_key,
        started_by_id=actor.id if actor else None, state_json="", serializer_version=state.SERIALIZER_VERSION,
    )
    session.add(instance)
    session.flush()
    session.add(AuditEvent(actor_id=actor.id if actor else None, instance_id=instance.id, action="instance_started",
                           detail={"process": definition.process_key, "version": definition.version}))
    return instance


def _start(session: Session, process_key: str, actor: User | None, data: dict[str, Any],
           business_key: str | None = None, hold: list[HumanTask] | None = None) -> ProcessInstance:
    """`hold`: the actor holds the first task the start opens that they may do, appended to the list."""
    definition = latest_definition(session, process_key)
    data.setdefault("initiator", actor.username if actor else None)
    profile = profiles.active_values(session)  # before the new row, so that its audit event joins the step's
    instance = new_instance(session, definition, actor, business_key)
    try:
        step = runner.start(catalog.spec(definition.id), data, budget(), environment(session, instance, profile))
    except RouteRefused as exc:
        raise Invalid(route_message(exc)) from exc
    holder = actor if hold is not None else None
    apply_step(session, instance, step, actor, open_rows=[],  # a new instance has no open task yet
               on_opened=(lambda opened: _hold_first(holder, opened, hold)) if holder else None)
    return instance


def environment(session: Session, instance: ProcessInstance,
                profile: dict[str, Any] | None = None) -> runner.Environment:
    """What an advance of `instance` may read: the active profile (read now unless given) and the ledger
    queries."""
    return runner.Environment(profile=profile if profile is not None else profiles.active_values(session),
                              query=lambda name, params: ledger.query(session, instance, name, params),
                              record=lambda effect: ledger.record_effect(session, instance, effect))


def _next_incident_number(session: Session) -> str:
    year = clock.local(clock.now()).year
    name = f"incident-{year}"
    # One statement, race-free even for the year's first incidents registered at once: an upsert that
    # locks the row and says the new value (INSERT … ON CONFLICT DO UPDATE … RETURNING, both databases).
    insert = postgresql.insert if session.get_bind().dialect.name == "postgresql" else sqlite.insert
    value = session.scalar(insert(Counter).values(name=name, value=1).on_conflict_do_update(
        index_elements=[Counter.name], set_={"value": Counter.value + 1}).returning(Counter.value))
    return f"YQ-{year}-{value:04d}"


def route_message(exc: RouteRefused) -> str:
    if exc.message:
        return exc.message
    return str(_l("“%(name)s”没有可走的分支,提交未被接受。", name=exc.element_name))


def apply_step(session: Session, instance: ProcessInstance, step: Step, actor: User | None = None,
               open_rows: list[tuple[int, str, str]] | None = None,
               on_opened: Callable[[list[HumanTask]], AuditEvent | None] | None = None) -> list[HumanTask]:
    """Store an engine step: state, status, business fields, human tasks, side effects, audit.

    `open_rows`: the instance's open tasks (id, guid, element) when the caller read them with the
    instance's lock (a completion does), else they are read here. `on_opened` may change the opened rows
    before they are written (and return an audit event for it). Returns the human tasks the step opened.
    """
    now = clock.now()
    if step.state_kept:
        # The advance was discarded (its state was too large): nothing of it is stored but the error.
        mark_error(session, instance, step.failure.element_id, step.failure.reason)
        return []
    instance.state_json = step.state
    instance.serializer_version = state.SERIALIZER_VERSION
    instance.next_timer_at = step.next_timer_at
    instance.updated_at = now
    visibility.record_units(session, instance, instance.data, step.data)
    instance.data = task_rows.capped(step.data)
    _set_business_fields(instance, step.data)
    _set_status(session, instance, step, now)
    _settle_ended_alert(session, instance, step)
    opened = task_rows.sync(session, instance, step, now, open_rows)
    if on_opened is not None and (event := on_opened(opened)) is not None:
        session.add(event)
    task_notices.tasks_opened(session, opened, actor)
    for effect in _coalesced(step.side_effects):
        EFFECTS[effect.operator](session, instance, effect, actor)
    for warning in step.warnings:
        session.add(AuditEvent(instance_id=instance.id, action="warning",
                               detail={"element": warning.element_id, "reason": warning.reason}))
    return opened


def _notify(session: Session, instance: ProcessInstance, effect: SideEffect, actor: User | None) -> None:
    notifications.deliver(session, instance, effect)


def _ledger(session: Session, instance: ProcessInstance, effect: SideEffect, actor: User | None) -> None:
    ledger.record_effect(session, instance, effect, actor)


def _open_incident(session: Session, instance: ProcessInstance, effect: SideEffect, actor: User | None) -> None:
    """`start_incident`: a lead became an incident of its own (its own instance, numbered), in this
    same transaction: either both the triage and the new incident are stored, or neither."""
    from app.operations import intake  # noqa: PLC0415 - intake builds on this module

    incident_instance = _start_incident(session, actor, intake.incident_from_lead(session, dict(effect.params["data"])))
    session.add(AuditEvent(actor_id=actor.id if actor else None, instance_id=instance.id, action="incident_opened",
                           detail={"incident": incident_instance.business_key, "element": effect.task_spec}))
    _settle_alert(session, effect.data.get("alert_id"), "new", incident_instance.id)


def _forward_update(session: Session, instance: ProcessInstance, effect: SideEffect, actor: User | None) -> None:
    """`forward_update`: new information about a running incident. The incident's instance gets
    msg_yq_update if a step waits for it; the ledger records the update either way."""
    number = effect.params["incident_no"]
    incident = session.scalar(select(Incident).where(Incident.number == number))
    target = session.get(ProcessInstance, incident.instance_id) if incident and incident.instance_id else None
    if incident is None or target is None:
        session.add(AuditEvent(instance_id=instance.id, action="warning",
                               detail={"element": effect.task_spec, "reason": f"incident {number} not found; "
                                                                              "the update was not forwarded"}))
        return
    update_data = {**effect.params["update"], "incident_no": number}
    delivered = deliver_message(session, target, "msg_yq_update", update_data, actor)
    ledger.record_update(session, target, update_data, actor, delivered)
    _settle_alert(session, effect.data.get("alert_id"), "duplicate", target.id)


def _settle_alert(session: Session, alert_id: Any, outcome: str, instance_id: int | None) -> None:
    alert = session.scalar(select(Alert).where(Alert.public_id == alert_id)) if isinstance(alert_id, str) else None
    if alert is None:
        return
    alert.outcome = outcome
    if instance_id is not None:
        alert.incident_id = session.scalar(select(Incident.id).where(Incident.instance_id == instance_id))


def _settle_ended_alert(session: Session, instance: ProcessInstance, step: Step) -> None:
    """A lead closed without an incident (judged irrelevant): the alert says so."""
    alert_id = step.data.get("alert_id")
    if step.ended and isinstance(alert_id, str):
        alert = session.scalar(select(Alert).where(Alert.public_id == alert_id))
        if alert is not None and alert.outcome == "pending":
            alert.outcome = "irrelevant" if step.data.get("relevance") == "irrelevant" else "closed"


def _call_system(session: Session, instance: ProcessInstance, effect: SideEffect, actor: User | None) -> None:
    from app.operations import external  # noqa: PLC0415 - external builds on this module

    external.request_call(session, instance, effect, actor)


EFFECTS = {"notify": _notify, "ledger": _ledger, "start_incident": _open_incident, "forward_update": _forward_update,
           "call_system": _call_system}


def deliver_message(session: Session, instance: ProcessInstance, name: str, payload: dict[str, Any],
                    actor: User | None) -> bool:
    """Deliver a message inside the caller's transaction; False when the instance does not wait for it.

    Locks the instance row first (the caller holds no lock on it; lock order is caller → target).
    """
    session.scalar(select(ProcessInstance.id).where(ProcessInstance.id == instance.id)
                   .with_for_update(of=ProcessInstance))
    session.refresh(instance)
    if instance.status not in (InstanceStatus.WAITING, InstanceStatus.RUNNING):
        return False
    try:
        step = runner.send_message(catalog.spec(instance.definition_id), instance.state_json, name, payload,
                                   budget(), environment(session, instance))
    except (runner.TaskNotReady, RouteRefused):
        return False
    except state.StateError as exc:  # the sender's step goes on; the unreadable target goes to an admin
        mark_error(session, instance, None, unreadable_reason(exc))
        return False
    session.add(AuditEvent(actor_id=actor.id if actor else None, instance_id=instance.id,
                           action="message_received", detail={"name": name, "payload": payload}))
    apply_step(session, instance, step, actor)
    return True


def _coalesced(effects: list[SideEffect]) -> list[SideEffect]:
    """One request per element, parameters and data within a step: timers that were missed while
    nothing ran (a cycle timer catching up several rounds at once) remind once, not once per missed
    round; the rows of a multi-instance task (other data) are still reminded one by one."""
    seen: set[tuple[str, str, str, str]] = set()
    kept = []
    for effect in effects:
        key = (effect.process_id, effect.task_spec, effect.operator,
               json.dumps([effect.params, effect.data], sort_keys=True, default=str))
        if key not in seen:
            seen.add(key)
            kept.append(effect)
    return kept


def _set_status(session: Session, instance: ProcessInstance, step: Step, now: datetime) -> None:
    if step.failure is not None:
        record_error(session, instance, step.failure.element_id, step.failure.reason)
    elif step.ended:
        instance.status = InstanceStatus.COMPLETED
        instance.ended_at = now
        instance.next_timer_at = None
        session.add(AuditEvent(instance_id=instance.id, action="instance_completed"))
    else:
        instance.status = InstanceStatus.WAITING


def _set_business_fields(instance: ProcessInstance, data: dict[str, Any]) -> None:
    title = data.get("title")
    if isinstance(title, str) and title:
        instance.title = title[:300]
    for key in ("confirmed_level", "current_level", "proposed_level"):
        level = data.get(key)
        if isinstance(level, int) and not isinstance(level, bool) and 1 <= level <= 4:
            instance.level = level
            break
    number = data.get("incident_no")
    if isinstance(number, str) and not instance.business_key:
        instance.business_key = number[:64]


@quarantining
def send_message(public_id: str, name: str, payload: dict[str, Any], actor: User | None = None) -> ProcessInstance:
    """Deliver a message (e.g. msg_yq_update with new evidence) to a waiting instance."""
    with transaction() as session:
        # Row lock on PostgreSQL (SQLite renders no FOR UPDATE; BEGIN IMMEDIATE serialises there).
        instance = session.scalar(select(ProcessInstance).where(ProcessInstance.public_id == public_id)
                                  .with_for_update(of=ProcessInstance))
        if instance is None:
            raise NotFound(str(_l("流程实例不存在。")))
        try:
            with reading_state(instance):
                step = runner.send_message(catalog.spec(instance.definition_id), instance.state_json, name,
                                           payload, budget(), environment(session, instance))
        except runner.TaskNotReady as exc:
            raise Conflict(str(_l("该流程当前不接收消息“%(name)s”。", name=name))) from exc
        except RouteRefused as exc:
            raise Invalid(route_message(exc)) from exc
        session.add(AuditEvent(actor_id=actor.id if actor else None, instance_id=instance.id,
                               action="message_received", detail={"name": name, "payload": payload}))
        apply_step(session, instance, step, actor)
        return instance
