"""Fire due timers: batch after batch of instances whose next timer is due, one transaction each; an
instance whose timers cannot fire is put aside and the sweep goes on (a poisoned row never stops the rest)."""

from __future__ import annotations

import logging
import time

from sqlalchemy import select
from sqlalchemy.exc import SQLAlchemyError

from app import clock
from app.db import transaction
from app.engine import runner
from app.engine.runner import RouteRefused
from app.extensions import db
from app.models import AuditEvent, InstanceStatus, ProcessInstance
from app.operations import catalog, instances
from app.operations.failures import crash_reason, mark_error, quarantine

log = logging.getLogger(__name__)


def fire_due_timers(limit: int = 200, shard: tuple[int, int] | None = None, seconds: float = 10.0) -> int:
    """Fire the timers of instances whose next timer is due, batch after batch, one transaction per
    instance, for at most `seconds`. `shard=(n, r)` takes only instances with id % n == r, so several
    workers can share a backlog without contending for the same rows."""
    fired = 0
    seen: set[int] = set()
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        batch = [i for i in _due_instance_ids(limit, shard) if i not in seen]
        if not batch:
            break
        for instance_id in batch:
            seen.add(instance_id)
            fired += _fire_or_quarantine(instance_id)
            if time.monotonic() >= deadline:
                break
    return fired


def _due_instance_ids(limit: int, shard: tuple[int, int] | None = None) -> list[int]:
    query = (select(ProcessInstance.id)
             .where(ProcessInstance.next_timer_at < clock.now(),
                    ProcessInstance.status.in_([InstanceStatus.WAITING, InstanceStatus.RUNNING]))
             .order_by(ProcessInstance.next_timer_at).limit(limit))
    if shard is not None:
        query = query.where(ProcessInstance.id % shard[0] == shard[1])
    return list(db.session.scalars(query))


def has_due_timers() -> bool:
    """Is any instance's timer due now?"""
    return bool(_due_instance_ids(1))


def _fire_or_quarantine(instance_id: int) -> bool:
    """Fire one instance's timers. One whose state cannot be loaded, or whose advance crashes, is put
    in error and the sweep goes on with the others; a database error still ends the round (it is
    everybody's, and the next round tries again)."""
    try:
        return _fire_instance_timers(instance_id)
    except SQLAlchemyError:
        raise
    except Exception as exc:  # one poisoned instance must not stop every other timer
        log.warning("timers of instance %s could not fire", instance_id, exc_info=True)
        quarantine(instance_id, crash_reason(exc))
        return True


def _fire_instance_timers(instance_id: int) -> bool:
    with transaction() as session:
        instance = session.scalar(select(ProcessInstance).where(
            ProcessInstance.id == instance_id,
            ProcessInstance.next_timer_at < clock.now(),
            ProcessInstance.status.in_([InstanceStatus.WAITING, InstanceStatus.RUNNING]),
        ).with_for_update(of=ProcessInstance, skip_locked=True))
        if instance is None:
            return False
        try:
            step = runner.fire_timers(catalog.spec(instance.definition_id), instance.state_json, instances.budget(),
                                      instances.environment(session, instance))
        except RouteRefused as exc:
            # Nobody to refuse to: a gateway without a route after a timer is an error to repair.
            mark_error(session, instance, exc.element_id, instances.route_message(exc))
            return True
        session.add(AuditEvent(instance_id=instance.id, action="timers_fired",
                               detail={"elements": step.completed_elements}))
        instances.apply_step(session, instance, step)
        return True
