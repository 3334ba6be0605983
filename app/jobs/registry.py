"""Named jobs (kind → handler) and running one claimed job: the loop both runners share."""

from __future__ import annotations

import logging
import os
import socket
import threading
from collections.abc import Callable
from typing import Any

from app import notify
from app.extensions import db
from app.operations import (
    auto_documents,
    batches,
    deliveries,
    documents,
    external,
    task_notices,
    timer_firing,
)
from app.operations import jobs as job_ops

log = logging.getLogger(__name__)


class PermanentJobError(Exception):
    """A job that cannot succeed by retrying (bad payload, refused destination)."""


Handler = Callable[[dict[str, Any]], Any]
HANDLERS: dict[str, Handler] = {
    "fire_due_timers": lambda payload: timer_firing.fire_due_timers(limit=int(payload.get("limit", 100))),
    "probe": lambda payload: job_ops.record_probe(str(payload.get("key", ""))),
    deliveries.JOB_KIND: deliveries.send_delivery,
    batches.JOB_KIND: batches.run_batch,
    external.JOB_KIND: external.run_call,
    task_notices.LANDED_JOB: task_notices.land,
    task_notices.DIGEST_JOB: task_notices.digest,
    task_notices.REMINDER_JOB: task_notices.remind,
    auto_documents.JOB_KIND: documents.generate_for_step,
}
PERMANENT_ERRORS: tuple[type[BaseException], ...] = (PermanentJobError, notify.PermanentFailure)


def register(kind: str, handler: Handler) -> None:
    """Add a job kind (modules that own a handler register it at import)."""
    HANDLERS[kind] = handler


def worker_id(kind: str) -> str:
    """A name unique to this process and thread, shown in leases and job rows."""
    return f"{kind}:{socket.gethostname()}:{os.getpid()}:{threading.get_ident()}"


def run_claimed(job_id: int, worker: str) -> str | None:
    """Run one job this worker claimed and record the outcome; returns the job's new status."""
    job = job_ops.job_for(job_id, worker)
    if job is None:
        return None
    kind, payload = job.kind, dict(job.payload or {})
    handler = HANDLERS.get(kind)
    if handler is None:
        return job_ops.finish_job(job_id, worker, f"unknown job kind {kind!r}", permanent=True)
    try:
        handler(payload)
    except PERMANENT_ERRORS as exc:
        log.warning("job %s (%s) failed permanently: %s", job_id, kind, exc)
        return job_ops.finish_job(job_id, worker, f"{type(exc).__name__}: {exc}", permanent=True)
    except Exception as exc:  # anything else is retried with backoff, then shown to admins
        log.warning("job %s (%s) failed: %s", job_id, kind, exc)
        _reset_session()
        return job_ops.finish_job(job_id, worker, f"{type(exc).__name__}: {exc}")
    return job_ops.finish_job(job_id, worker)


def run_due(worker: str, limit: int = 20, ids: list[int] | None = None) -> int:
    """Claim and run due jobs (or the given ones); returns how many ran."""
    claimed = job_ops.claim_jobs(worker, limit=limit, ids=ids)
    for job_id in claimed:
        run_claimed(job_id, worker)
    return len(claimed)


def run_guarded(what: str, work: Callable[[], int]) -> int:
    """Run one part of a worker round (scheduled starts, due timers); if it fails, log it and let the
    round go on with the other parts, so a failure in one never stops jobs and notifications."""
    try:
        return work()
    except Exception:  # the next round tries again; the other parts of this one still run
        log.exception("%s failed; the rest of the round goes on", what)
        _reset_session()
        return 0


def _reset_session() -> None:
    """The failed handler's session must not carry its half-done state into the next job."""
    db.session.rollback()
