"""Background jobs: the outbox rows written with a change, claimed by a runner, retried, or failed.

A job row is written in the same transaction as the change that caused it (`enqueue`), so a job
exists exactly when its cause was committed. Runners (the embedded thread or Celery workers) claim
due jobs with a lease, run the named handler (each handler is a use case with its own transaction
and is safe to repeat), then finish the job: done, or back to pending after an exponential backoff
with jitter, or — after `max_attempts` or a permanent error — failed, which admins see and can
retry or dismiss. Delivery is at least once; handlers and receivers dedupe on stable keys.
"""

from __future__ import annotations

import logging
import random
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from flask_babel import lazy_gettext as _l
from sqlalchemy import event, or_, select, update
from sqlalchemy.orm import Session

from app import clock
from app.db import transaction
from app.extensions import db
from app.models import (
    AppSetting,
    AuditEvent,
    Job,
    JobStatus,
    NotificationChannel,
    NotificationDelivery,
    ProcessInstance,
    User,
    WorkerLease,
)
from app.operations import alerts
from app.operations.errors import Conflict, NotFound

log = logging.getLogger(__name__)
BACKOFF_BASE = 10  # seconds; attempt n waits about BASE * 2**(n-1), capped
BACKOFF_CAP = 3600
LEASE_SECONDS = 120
_WRITTEN = "yq_jobs_written"
_listeners: list[Callable[[list[int]], None]] = []
Settle = Callable[[Session, Job], None]
_settlers: dict[str, tuple[Settle, Settle]] = {}  # kind → (on failed, on retried)


def enqueue(session: Session, kind: str, payload: dict[str, Any], *, run_at: datetime | None = None,
            key: str | None = None, max_attempts: int = 8) -> Job | None:
    """Write a job in the caller's transaction; with `key`, a job already written under it is kept."""
    if key is not None and session.scalar(select(Job.id).where(Job.idempotency_key == key)) is not None:
        return None
    job = Job(kind=kind, payload=payload, run_at=run_at or clock.now(), idempotency_key=key,
              max_attempts=max_attempts, status=JobStatus.PENDING)
    session.add(job)
    session.flush()  # the id is what runners and listeners are told
    session.info.setdefault(_WRITTEN, []).append(job)
    return job


def enqueue_new(session: Session, kind: str, payloads: list[tuple[str, dict[str, Any]]], *,
                max_attempts: int = 8) -> list[Job]:
    """Write jobs whose keys cannot exist yet (they name rows created in this transaction), at once."""
    now = clock.now()
    created = [Job(kind=kind, payload=payload, run_at=now, idempotency_key=key, max_attempts=max_attempts,
                   status=JobStatus.PENDING) for key, payload in payloads]
    session.add_all(created)
    session.flush()
    session.info.setdefault(_WRITTEN, []).extend(created)
    return created


def on_jobs_committed(listener: Callable[[list[int]], None]) -> None:
    """Call `listener(job_ids)` after every commit that wrote jobs (runners use it to wake up)."""
    if listener not in _listeners:
        _listeners.append(listener)


def on_job_settled(kind: str, *, failed: Settle, retried: Settle) -> None:
    """Keep the rows a job kind works on in step with it: `failed(session, job)` runs in the transaction
    that gives the job up, `retried` in the one an admin puts it back in the queue with."""
    _settlers[kind] = (failed, retried)


def remove_listener(listener: Callable[[list[int]], None]) -> None:
    """Stop calling a listener registered with on_jobs_committed."""
    if listener in _listeners:
        _listeners.remove(listener)


@event.listens_for(Session, "after_commit")
def _after_commit(session: Session) -> None:
    written = session.info.pop(_WRITTEN, None)
    if not written:
        return
    ids = [job.id for job in written if job.id is not None]
    for listener in list(_listeners):
        try:
            listener(ids)
        except Exception:  # a wake-up that fails is covered by the next poll or sweep
            log.warning("job listener failed", exc_info=True)


@event.listens_for(Session, "after_rollback")
def _after_rollback(session: Session) -> None:
    session.info.pop(_WRITTEN, None)


def backoff(attempts: int) -> timedelta:
    """Delay before the next attempt: exponential with full jitter between half and the whole step."""
    step = min(BACKOFF_CAP, BACKOFF_BASE * 2 ** max(attempts - 1, 0))
    return timedelta(seconds=random.uniform(step / 2, step))


def claim_jobs(worker: str, limit: int = 20, lease_seconds: int = LEASE_SECONDS,
               ids: list[int] | None = None) -> list[int]:
    """Take up to `limit` due jobs (or the given ids, if due) for `worker`; expired leases count as due.

    A batch claim skips rows another transaction has locked (another runner is taking them). A claim
    of given ids (a Celery message) waits for the lock instead: the lock may be the sweep marking the
    row dispatched or a finish, not a claim, and skipping would drop the message's job until the next
    resend. After the wait PostgreSQL checks the row again, so a job claimed meanwhile is not taken.
    """
    now = clock.now()
    with transaction() as session:
        due = or_(Job.status == JobStatus.PENDING,
                  (Job.status == JobStatus.RUNNING) & (Job.lease_until < now))
        query = select(Job.id).where(due, Job.run_at <= now).order_by(Job.run_at, Job.id).limit(limit)
        if ids is not None:
            query = query.where(Job.id.in_(ids))
        claimed = list(session.scalars(query.with_for_update(skip_locked=ids is None)))
        if claimed:
            session.execute(update(Job).where(Job.id.in_(claimed)).values(
                status=JobStatus.RUNNING, locked_by=worker, lease_until=now + timedelta(seconds=lease_seconds),
                attempts=Job.attempts + 1))
        return claimed


def job_for(job_id: int, worker: str) -> Job | None:
    """The job a worker claimed, or None if its lease went to someone else."""
    job = db.session.get(Job, job_id)
    if job is None or job.status != JobStatus.RUNNING or job.locked_by != worker:
        return None
    return job


def finish_job(job_id: int, worker: str, error: str | None = None, *, permanent: bool = False) -> str | None:
    """Record how a run ended; returns the job's new status (None if the lease was lost meanwhile)."""
    now = clock.now()
    with transaction() as session:
        job = session.scalar(select(Job).where(Job.id == job_id).with_for_update())
        if job is None or job.status != JobStatus.RUNNING or job.locked_by != worker:
            return None
        job.lease_until, job.locked_by = None, None
        if error is None:
            job.status, job.finished_at, job.last_error = JobStatus.DONE, now, None
            return job.status
        job.last_error = error[:4000]
        job.first_failed_at = job.first_failed_at or now
        job.last_failed_at = now
        if permanent or job.attempts >= job.max_attempts:
            job.status = JobStatus.FAILED
            _alert_admins(session, job)
            if job.kind in _settlers:
                _settlers[job.kind][0](session, job)
        else:
            job.status, job.run_at, job.dispatched_at = JobStatus.PENDING, now + backoff(job.attempts), None
        return job.status


def _alert_admins(session: Session, job: Job) -> None:
    alerts.alert_admins(session, "job_failed", str(_l("后台任务失败:%(kind)s #%(id)d", kind=job.kind, id=job.id)),
                        job.last_error or "", "/admin/failures")
    session.add(AuditEvent(action="job_failed", detail={"job": job.id, "kind": job.kind, "error": job.last_error}))


def retry_job(job_id: int, actor: User | None) -> Job:
    """Put a failed (or dismissed) job back in the queue, with a fresh attempt budget."""
    with transaction() as session:
        job = session.get(Job, job_id)
        if job is None:
            raise NotFound(str(_l("后台任务不存在。")))
        if job.status not in (JobStatus.FAILED, JobStatus.DISMISSED):
            raise Conflict(str(_l("只有失败的任务可以重试。")))
        job.status, job.run_at, job.attempts, job.dispatched_at = JobStatus.PENDING, clock.now(), 0, None
        session.info.setdefault(_WRITTEN, []).append(job)
        if job.kind in _settlers:
            _settlers[job.kind][1](session, job)
        session.add(AuditEvent(actor_id=actor.id if actor else None, action="job_retried",
                               detail={"job": job.id, "kind": job.kind}))
        return job


def dismiss_job(job_id: int, actor: User | None, reason: str) -> Job:
    """Give up on a failed job deliberately (kept, with who and why)."""
    with transaction() as session:
        job = session.get(Job, job_id)
        if job is None:
            raise NotFound(str(_l("后台任务不存在。")))
        if job.status != JobStatus.FAILED:
            raise Conflict(str(_l("只有失败的任务可以忽略。")))
        job.status, job.finished_at = JobStatus.DISMISSED, clock.now()
        session.add(AuditEvent(actor_id=actor.id if actor else None, action="job_dismissed",
                               detail={"job": job.id, "kind": job.kind, "reason": reason}))
        return job


def list_jobs(status: str, limit: int = 200) -> list[Job]:
    """Jobs in a status, newest failures first."""
    return list(db.session.scalars(select(Job).where(Job.status == status)
                                   .order_by(Job.last_failed_at.desc(), Job.id.desc()).limit(limit)))


@dataclass(frozen=True)
class FailedJob:
    """A failed job as the failures page shows it: what it was, and the instance and channel it concerns."""

    job: Job
    label: str
    instance: ProcessInstance | None
    channel: str | None  # a registered channel's name (for call_system, the name even if none is registered)
    via: str | None  # otherwise the personal channel (e-mail) and whom it was for


def failed_jobs(limit: int = 200) -> list[FailedJob]:
    """Failed jobs, newest first, each with the instance and the channel its payload names (one query per table)."""
    rows = list_jobs(JobStatus.FAILED, limit)
    payloads = [row.payload or {} for row in rows]
    sent = _by_id(NotificationDelivery, [p.get("delivery_id") for p in payloads])
    instances = _by_id(ProcessInstance, [p.get("instance_id") for p in payloads]
                       + [d.instance_id for d in sent.values()])
    channels = _by_id(NotificationChannel, [d.channel_id for d in sent.values()])
    people = _by_id(User, [d.user_id for d in sent.values()])
    described = []
    for row, payload in zip(rows, payloads, strict=True):
        delivery = sent.get(payload.get("delivery_id"))
        if delivery is None:
            name = payload.get("channel")
            described.append(FailedJob(row, _kind_label(row.kind), instances.get(payload.get("instance_id")),
                                       name if isinstance(name, str) else None, None))
            continue
        channel = channels.get(delivery.channel_id)
        described.append(FailedJob(row, _kind_label(row.kind), instances.get(delivery.instance_id),
                                   channel.name if channel else None,
                                   None if channel else _personal(delivery, people.get(delivery.user_id))))
    return described


def _personal(delivery: NotificationDelivery, person: User | None) -> str:
    """A delivery without a registered channel (an e-mail), and whom it was for."""
    via = str(_l("电子邮件")) if delivery.channel_kind == "email" else delivery.channel_kind
    return f"{via}({person.display_name})" if person else via


KIND_LABELS = {"deliver_notification": _l("通知发送"), "call_system": _l("外部系统调用"),
               "batch_operation": _l("批量操作"), "fire_due_timers": _l("到期定时处理"), "probe": _l("运行检查"),
               "task_landed": _l("新任务通知"), "task_digest": _l("任务通知汇总发送"),
               "task_due_reminder": _l("任务到期提醒"), "document_for_step": _l("流程环节生成文书")}


def _kind_label(kind: str) -> str:
    return str(KIND_LABELS.get(kind, kind))


def _by_id(model: Any, ids: list[Any]) -> dict[int, Any]:
    wanted = {i for i in ids if isinstance(i, int) and not isinstance(i, bool)}
    if not wanted:
        return {}
    return {row.id: row for row in db.session.scalars(select(model).where(model.id.in_(wanted)))}


def undispatched(older_than: timedelta, limit: int = 500) -> list[int]:
    """Jobs the broker may have lost: due pending jobs not handed to it recently, and running jobs
    whose worker died (lease expired). The Celery sweep sends them again."""
    now = clock.now()
    pending = (Job.status == JobStatus.PENDING) & or_(Job.dispatched_at.is_(None),
                                                      Job.dispatched_at < now - older_than)
    orphaned = (Job.status == JobStatus.RUNNING) & (Job.lease_until < now)
    return list(db.session.scalars(select(Job.id).where(or_(pending, orphaned), Job.run_at <= now)
                                   .order_by(Job.run_at).limit(limit)))


def mark_dispatched(ids: list[int]) -> None:
    """Note that these jobs were handed to the broker now."""
    if ids:
        with transaction() as session:
            session.execute(update(Job).where(Job.id.in_(ids)).values(dispatched_at=clock.now()))


def record_probe(key: str) -> bool:
    """The `probe` job: proves a runner works end to end by writing one setting row per key."""
    with transaction() as session:
        name = f"probe:{key}"[:64]
        if session.get(AppSetting, name) is not None:
            return False
        session.add(AppSetting(key=name, value={"at": clock.now().isoformat()}))
        return True


def probe_seen(key: str) -> bool:
    """Has the probe job with this key run?"""
    return db.session.get(AppSetting, f"probe:{key}"[:64]) is not None


def enqueue_probe(key: str) -> Job | None:
    """Queue a probe job (health checks, tests, the runner benchmark)."""
    with transaction() as session:
        return enqueue(session, "probe", {"key": key}, key=f"probe:{key}")


# -- leases and heartbeats ------------------------------------------------------------------------


def hold_lease(name: str, holder: str, seconds: int, info: dict[str, Any] | None = None) -> bool:
    """Take or renew the lease `name` for `holder`; False while another holder's lease is valid."""
    now = clock.now()
    with transaction() as session:
        lease = session.scalar(select(WorkerLease).where(WorkerLease.name == name).with_for_update())
        if lease is None:
            session.add(WorkerLease(name=name, holder=holder, until=now + timedelta(seconds=seconds),
                                    heartbeat_at=now, info=info))
            return True
        if lease.holder != holder and lease.until > now:
            return False
        lease.holder, lease.until, lease.heartbeat_at, lease.info = holder, now + timedelta(seconds=seconds), now, info
        return True


def release_lease(name: str, holder: str) -> None:
    """Give a lease back (on clean shutdown) so another process can take over at once."""
    with transaction() as session:
        session.execute(update(WorkerLease).where(WorkerLease.name == name, WorkerLease.holder == holder)
                        .values(until=clock.now()))


def heartbeat(name: str, holder: str, info: dict[str, Any] | None = None) -> None:
    """Record that a worker is alive (Celery workers; the embedded worker's lease is its heartbeat)."""
    hold_lease(name, holder, LEASE_SECONDS, info)
