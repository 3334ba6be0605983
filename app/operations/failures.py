"""Instances that need an admin: put in error with a reason, admins alerted once.

One instance whose stored state cannot be loaded (corrupted JSON, a serializer version this
release does not read, a spec that fails to restore) or whose advance crashes must never stop the
others: the use case that met it rolls back, the instance is put in error in a transaction of its
own (`quarantine`), and from then on the timer sweep, message delivery, jobs and batches skip it.
An admin terminates it (no state is read) or retries it once the cause is fixed (decision 47).
"""

from __future__ import annotations

import functools
import logging
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import ParamSpec, TypeVar

from flask_babel import lazy_gettext as _l
from sqlalchemy import select
from sqlalchemy.orm import Session

from app.db import transaction
from app.engine import state
from app.models import AuditEvent, InstanceStatus, ProcessInstance
from app.operations import alerts
from app.operations.errors import StateUnreadable

log = logging.getLogger(__name__)
LIVE = (InstanceStatus.WAITING, InstanceStatus.RUNNING)
P = ParamSpec("P")
R = TypeVar("R")


def mark_error(session: Session, instance: ProcessInstance, element: str | None, reason: str) -> None:
    """Put an instance in error without changing its state (an admin repairs and retries it)."""
    record_error(session, instance, element, reason)
    instance.next_timer_at = None


def record_error(session: Session, instance: ProcessInstance, element: str | None, reason: str) -> None:
    """Put the instance in error, audit it, and give every admin an urgent inbox message."""
    instance.status = InstanceStatus.ERROR
    instance.error_element = element
    instance.error_text = reason
    session.add(AuditEvent(instance_id=instance.id, action="instance_error",
                           detail={"element": element, "reason": reason}))
    label = instance.business_key or instance.title or instance.process_key
    alerts.alert_admins(session, "instance_error",
                        str(_l("流程出错:%(label)s(环节 %(element)s)", label=label, element=element or "—")),
                        reason, f"/instances/{instance.public_id}", instance_id=instance.id)


def unreadable_reason(exc: BaseException) -> str:
    """What the failures page says about a state that cannot be loaded."""
    return str(_l("流程状态数据无法读取:%(detail)s", detail=str(exc)[:500]))


def crash_reason(exc: BaseException) -> str:
    """What the failures page says about an advance that crashed outside the engine's own checks."""
    if isinstance(exc, state.StateError):
        return unreadable_reason(exc)
    return str(_l("处理时发生意外错误:%(detail)s", detail=f"{type(exc).__name__}: {exc}"[:500]))


@contextmanager
def reading_state(instance: ProcessInstance) -> Iterator[None]:
    """Around every load of an instance's state: a state that cannot be read becomes StateUnreadable
    (409), naming the instance, for `quarantining` to put it in error after the rollback."""
    try:
        yield
    except state.StateError as exc:
        raise StateUnreadable(str(_l("该流程的状态数据无法读取,已转为出错并通知管理员;请联系管理员处理。")),
                              instance_id=instance.id, reason=unreadable_reason(exc)) from exc


def quarantining(operation: Callable[P, R]) -> Callable[P, R]:
    """Decorates a use case that loads a state: once its transaction has rolled back, an instance whose
    state could not be read is put in error (`quarantine`), then the caller gets the 409."""

    @functools.wraps(operation)
    def run(*args: P.args, **kwargs: P.kwargs) -> R:
        try:
            return operation(*args, **kwargs)
        except StateUnreadable as exc:
            quarantine(exc.instance_id, exc.reason)
            raise

    return run


def quarantine(instance_id: int, reason: str) -> bool:
    """Put one live instance in error in a transaction of its own, so that nothing tries it again until
    an admin acts; admins are alerted once. False when it was not live (already in error, suspended,
    ended) and nothing changed."""
    with transaction() as session:
        instance = session.scalar(select(ProcessInstance).where(ProcessInstance.id == instance_id)
                                  .with_for_update(of=ProcessInstance).execution_options(populate_existing=True))
        if instance is None or instance.status not in LIVE:
            return False
        mark_error(session, instance, None, reason)
    log.error("instance %s put in error: %s", instance_id, reason)
    return True
