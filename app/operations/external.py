"""Asynchronous service tasks: `call_system` sends JSON to an external system an admin registered
(a webhook channel, by name) and the instance waits at the task until the answer arrives.

The step that reached the task writes a `call_system` job in its own transaction (the outbox). The
job looks the channel up, makes the call with no transaction open, then resumes the instance with
the answer in one transaction. An unreachable system is retried with backoff (the instance waits);
a missing channel, a refused address or a 4xx is a permanent failure that admins see and retry after
fixing the cause. The call carries a stable idempotency key, and a task already resumed is not
resumed twice, so a job repeated after a crash never double-acts.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from app import notify
from app.db import transaction
from app.engine import runner, state
from app.engine.services import SideEffect
from app.extensions import db
from app.models import AuditEvent, InstanceStatus, NotificationChannel, ProcessInstance, User
from app.operations import catalog, failures, instances, jobs

JOB_KIND = "call_system"
CALLABLE_KINDS = ("webhook",)


def request_call(session: Session, instance: ProcessInstance, effect: SideEffect, actor: User | None) -> None:
    """The effect of a `call_system` task: write the job that makes the call (once per task)."""
    jobs.enqueue(session, JOB_KIND, {"instance_id": instance.id, "task_guid": effect.task_guid,
                                     "element": effect.task_spec, "channel": effect.params["channel"],
                                     "payload": effect.params["payload"]},
                 key=f"call-system:{instance.id}:{effect.task_guid}")
    session.add(AuditEvent(actor_id=actor.id if actor else None, instance_id=instance.id, action="system_called",
                           detail={"element": effect.task_spec, "channel": effect.params["channel"]}))


def run_call(payload: dict[str, Any]) -> str:
    """Job handler: call the system, then resume the waiting task with its answer."""
    instance = db.session.get(ProcessInstance, int(payload["instance_id"]))
    if instance is None:
        raise notify.PermanentFailure(f"instance {payload['instance_id']} does not exist")
    channel = db.session.scalar(select(NotificationChannel).where(
        NotificationChannel.name == payload["channel"], NotificationChannel.active.is_(True),
        NotificationChannel.kind.in_(CALLABLE_KINDS)))
    if channel is None:
        raise notify.PermanentFailure(f"no active webhook channel named {payload['channel']!r} is registered; "
                                      "register it on the channels page, then retry")
    destination = notify.Destination(kind=channel.kind, address=channel.address, secret=channel.secret,
                                     allow_networks=tuple(channel.allow_networks or ()),
                                     allow_http=channel.allow_http)
    key = f"call-system-{instance.id}-{payload['task_guid']}"
    db.session.rollback()  # no transaction stays open while the other system answers
    answer = notify.call_json(destination, dict(payload["payload"]), key)
    return _resume(int(payload["instance_id"]), str(payload["task_guid"]), answer)


def _resume(instance_id: int, task_guid: str, answer: dict[str, Any]) -> str:
    with transaction() as session:
        instance = session.scalar(select(ProcessInstance).where(ProcessInstance.id == instance_id)
                                  .with_for_update(of=ProcessInstance).execution_options(populate_existing=True))
        if instance is None or instance.status not in (InstanceStatus.WAITING, InstanceStatus.RUNNING):
            # Ended, suspended or in error meanwhile: the answer is kept in the audit; an admin decides.
            session.add(AuditEvent(instance_id=instance_id, action="system_answer_kept",
                                   detail={"task": task_guid, "answer": answer}))
            return "instance not running; answer kept"
        try:
            step = runner.resume_service(catalog.spec(instance.definition_id), instance.state_json, task_guid,
                                         answer, instances.budget(), instances.environment(session, instance))
        except runner.TaskNotReady:
            return "already resumed"
        except runner.RouteRefused as exc:
            instances.mark_error(session, instance, exc.element_id, instances.route_message(exc))
            return "route refused"
        except state.StateError as exc:  # an admin repairs the instance; the answer stays in the audit
            instances.mark_error(session, instance, None, failures.unreadable_reason(exc))
            session.add(AuditEvent(instance_id=instance_id, action="system_answer_kept",
                                   detail={"task": task_guid, "answer": answer}))
            return "state unreadable; answer kept"
        session.add(AuditEvent(instance_id=instance.id, action="system_answered",
                               detail={"task": task_guid, "status": answer.get("status")}))
        instances.apply_step(session, instance, step)
        return "resumed"
