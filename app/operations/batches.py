"""Batch operations: one intervention applied to a selection of instances, by the worker.

The selection (checked rows, or every instance matching a filter) is fixed when the batch is
created. The worker then applies the intervention instance by instance, each in its own transaction
that also advances the batch's position and records the result, so the progress bar is exact, a
crash resumes at the next instance, and no instance is done twice. A failure on one instance is
recorded with its reason and the batch goes on.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

from flask_babel import lazy_gettext as _l
from sqlalchemy import select
from sqlalchemy.orm import Session

from app import clock
from app.db import transaction
from app.extensions import db
from app.models import (
    AuditEvent,
    BatchOperation,
    HumanTask,
    ProcessDefinition,
    ProcessInstance,
    Role,
    TaskStatus,
    User,
)
from app.operations import assignment, failures, interventions, jobs, migrations, search
from app.operations.errors import Invalid, NotFound, OperationError, StateUnreadable

JOB_KIND = "batch_operation"
MAX_INSTANCES = 5000
SLICE_SECONDS = 20.0  # one job run works this long, then hands over to a follow-up job
KINDS = ("suspend", "resume", "terminate", "retry", "reassign", "migrate")


def start_batch(actor: User, kind: str, reason: str | None, *, selected: list[str] | None = None,
                f: search.InstanceFilter | None = None, params: dict[str, Any] | None = None) -> BatchOperation:
    """Create a batch over the checked instances (`selected` public ids) or all that match `f`."""
    if kind not in KINDS:
        raise Invalid(str(_l("未知的批量操作。")))
    why = interventions.require_reason(reason)
    params = _checked_params(kind, params or {})
    ids = _selection(actor, selected, f)
    if kind == "reassign":
        assignment.check_holders(db.session, ids, params["username"], params["element"], params["confirmed"])
    with transaction() as session:
        batch = BatchOperation(kind=kind, params=params, reason=why, instance_ids=ids, created_by_id=actor.id)
        session.add(batch)
        session.flush()
        session.add(AuditEvent(actor_id=actor.id, action="batch_started",
                               detail={"batch": batch.public_id, "kind": kind, "params": params, "reason": why,
                                       "count": len(ids), "filter": search.describe(f) if f else None}))
        jobs.enqueue(session, JOB_KIND, {"batch_id": batch.id}, key=f"batch:{batch.public_id}:0")
        return batch


def _selection(actor: User, selected: list[str] | None, f: search.InstanceFilter | None) -> list[int]:
    if selected:
        if len(selected) > MAX_INSTANCES:
            raise Invalid(str(_l("一次最多处理 %(n)s 个流程实例。", n=MAX_INSTANCES)))
        visible = search.filtered(actor, search.InstanceFilter()).with_only_columns(ProcessInstance.id)
        ids = list(db.session.scalars(visible.where(ProcessInstance.public_id.in_(selected))
                                      .order_by(ProcessInstance.id)))
    elif f is not None:
        if search.count(actor, f, MAX_INSTANCES) > MAX_INSTANCES:
            raise Invalid(str(_l("筛选结果超过 %(n)s 个流程实例,请缩小范围。", n=MAX_INSTANCES)))
        ids = search.matching_ids(actor, f, MAX_INSTANCES)
    else:
        ids = []
    if not ids:
        raise Invalid(str(_l("没有选中任何流程实例。")))
    return ids


def _checked_params(kind: str, params: dict[str, Any]) -> dict[str, Any]:
    if kind == "reassign":
        username, role = (params.get("username") or "").strip(), (params.get("role") or "").strip()
        element = (params.get("element") or "").strip()[:100]
        if username and db.session.scalar(select(User.id).where(User.username == username,
                                                                 User.active.is_(True))) is None:
            raise Invalid(str(_l("用户“%(name)s”不存在或已停用。", name=username)),
                          {"assignee": [str(_l("用户不存在或已停用。"))]})
        if not username and (not role or db.session.scalar(select(Role.code).where(Role.code == role)) is None):
            raise Invalid(str(_l("请选择办理人或角色。")), {"assignee": [str(_l("请选择办理人或角色。"))]})
        return {"username": username or None, "role": None if username else role, "element": element or None,
                "confirmed": bool(username and params.get("confirmed"))}
    if kind == "migrate":
        target = params.get("to_definition_id")
        if not isinstance(target, int) or db.session.get(ProcessDefinition, target) is None:
            raise Invalid(str(_l("请选择目标版本。")), {"to_definition_id": [str(_l("请选择目标版本。"))]})
        return {"to_definition_id": target}
    return {}


# -- the worker's side --------------------------------------------------------------------------


def run_batch(payload: dict[str, Any]) -> int:
    """Job handler: apply the batch to its next instances for up to SLICE_SECONDS; returns how many."""
    batch_id = int(payload["batch_id"])
    deadline = time.monotonic() + SLICE_SECONDS
    done = 0
    while True:
        position = _next_position(batch_id)
        if position is None:
            return done
        if time.monotonic() > deadline:
            _hand_over(batch_id, position)
            return done
        _process_one(batch_id, position)
        done += 1


def _next_position(batch_id: int) -> int | None:
    batch = db.session.scalar(select(BatchOperation).where(BatchOperation.id == batch_id)
                              .execution_options(populate_existing=True))
    if batch is None or batch.status == "done":
        return None
    if batch.position >= batch.total:
        with transaction() as session:
            row = _lock_batch(session, batch_id)
            row.status, row.finished_at = "done", clock.now()
            session.add(AuditEvent(actor_id=row.created_by_id, action="batch_finished",
                                   detail={"batch": row.public_id, "kind": row.kind, "succeeded": row.succeeded,
                                           "failed": row.failed}))
        return None
    return batch.position


def _hand_over(batch_id: int, position: int) -> None:
    with transaction() as session:
        batch = _lock_batch(session, batch_id)
        jobs.enqueue(session, JOB_KIND, {"batch_id": batch_id}, key=f"batch:{batch.public_id}:{position}")


def _lock_batch(session: Session, batch_id: int) -> BatchOperation:
    batch = session.scalar(select(BatchOperation).where(BatchOperation.id == batch_id)
                           .with_for_update().execution_options(populate_existing=True))
    if batch is None:
        raise NotFound(f"batch {batch_id} is gone")
    return batch


def _process_one(batch_id: int, position: int) -> None:
    """Apply the batch to the instance at `position`: the change and the progress in one transaction;
    if the change is refused, only the progress and the reason, in another."""
    try:
        with transaction() as session:
            batch = _lock_batch(session, batch_id)
            if batch.position != position:
                return  # another runner took it meanwhile
            instance_id = batch.instance_ids[position]
            instance = session.scalar(select(ProcessInstance).where(ProcessInstance.id == instance_id)
                                      .with_for_update(of=ProcessInstance)
                                      .execution_options(populate_existing=True))
            if instance is None:
                raise NotFound(str(_l("流程实例不存在。")))
            actor = session.get(User, batch.created_by_id) if batch.created_by_id else None
            with failures.reading_state(instance):
                message = APPLY[batch.kind](session, batch, instance, actor)
            # A retry is applied (and audited) even when the instance fails again; the report says so.
            _record(batch, instance, batch.kind != "retry" or interventions.retry_outcome(instance)[0], message)
    except OperationError as exc:
        _record_refusal(batch_id, position, exc)


def _record_refusal(batch_id: int, position: int, exc: OperationError) -> None:
    """The instance at `position` was refused: the batch records why and goes on. One whose state
    cannot be read goes to the failures page too."""
    unreadable = exc if isinstance(exc, StateUnreadable) else None
    with transaction() as session:
        batch = _lock_batch(session, batch_id)
        if batch.position == position:
            instance = session.get(ProcessInstance, batch.instance_ids[position])
            _record(batch, instance, False, unreadable.reason if unreadable else exc.message)
    if unreadable:
        failures.quarantine(unreadable.instance_id, unreadable.reason)


def _record(batch: BatchOperation, instance: ProcessInstance | None, ok: bool, message: str) -> None:
    entry = {"instance": instance.public_id if instance else None,
             "label": (instance.business_key or instance.title or instance.public_id[:8]) if instance else "",
             "ok": ok, "message": message}
    batch.results = [*batch.results, entry]
    batch.position += 1
    if ok:
        batch.succeeded += 1
    else:
        batch.failed += 1
    batch.status = "running"


def _instance_action(name: str) -> Callable[[Session, BatchOperation, ProcessInstance, User | None], str]:
    def apply(session: Session, batch: BatchOperation, instance: ProcessInstance, actor: User | None) -> str:
        interventions.INSTANCE_ACTIONS[name](session, instance, actor, _reason(batch))
        return interventions.retry_outcome(instance)[1] if name == "retry" else ""
    return apply


def _reason(batch: BatchOperation) -> str:
    return f"{batch.reason}(批量操作 {batch.public_id[:8]})"


def _reassign(session: Session, batch: BatchOperation, instance: ProcessInstance, actor: User | None) -> str:
    query = select(HumanTask).where(HumanTask.instance_id == instance.id, HumanTask.status == TaskStatus.OPEN)
    if batch.params.get("element"):
        query = query.where(HumanTask.spec_id == batch.params["element"])
    open_tasks = list(session.scalars(query.order_by(HumanTask.id)))
    if not open_tasks:
        raise Invalid(str(_l("没有符合条件的待办任务。")))
    if instance.status in interventions.ENDED:
        raise Invalid(str(_l("流程已结束。")))
    for task in open_tasks:
        interventions.apply_reassign(session, task, instance, actor, _reason(batch),
                                     batch.params.get("username"), batch.params.get("role"))
    return "、".join(task.name for task in open_tasks)


def _migrate(session: Session, batch: BatchOperation, instance: ProcessInstance, actor: User | None) -> str:
    return migrations.apply_migration(session, instance, batch.params["to_definition_id"], actor, _reason(batch),
                                      batch_id=batch.id)


APPLY: dict[str, Callable[[Session, BatchOperation, ProcessInstance, User | None], str]] = {
    **{name: _instance_action(name) for name in interventions.INSTANCE_ACTIONS},
    "reassign": _reassign, "migrate": _migrate,
}


# -- reads --------------------------------------------------------------------------------------


def get_batch(public_id: str) -> BatchOperation:
    """A batch by its public id, else NotFound."""
    batch = db.session.scalar(select(BatchOperation).where(BatchOperation.public_id == public_id))
    if batch is None:
        raise NotFound(str(_l("批量操作不存在。")))
    return batch


def recent_batches(limit: int = 50) -> list[BatchOperation]:
    """The newest batches first."""
    return list(db.session.scalars(select(BatchOperation).order_by(BatchOperation.id.desc()).limit(limit)))


def progress(batch: BatchOperation) -> dict[str, Any]:
    """What the progress bar polls."""
    return {"status": batch.status, "total": batch.total, "done": batch.position, "succeeded": batch.succeeded,
            "failed": batch.failed, "results": batch.results[-200:]}
