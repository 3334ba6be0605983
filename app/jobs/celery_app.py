"""The Celery runner (scale-out): workers and beat on Redis, carrying only job ids.

`yuqing worker` runs Celery workers and `yuqing beat` the scheduler. A task `yuqing.run_job`
claims and runs one job by id; `yuqing.sweep` (every few seconds, from beat) fires due timers and
sends again every due job the broker may have lost, so losing Redis loses nothing.
"""

from __future__ import annotations

import logging
from datetime import timedelta
from typing import Any

from celery import Celery, Task
from flask import Flask

from app.jobs.registry import run_due, run_guarded, worker_id
from app.operations import jobs as job_ops
from app.operations import schedules, timer_firing

log = logging.getLogger(__name__)
RESEND_AFTER = timedelta(seconds=30)


def create_celery(app: Flask) -> Celery:
    """A Celery app whose tasks run inside this Flask app's context."""

    class AppTask(Task):
        def __call__(self, *args: Any, **kwargs: Any) -> Any:
            with app.app_context():
                return self.run(*args, **kwargs)

    celery = Celery(app.import_name, task_cls=AppTask)
    celery.conf.update(
        broker_url=app.config["CELERY_BROKER_URL"],
        result_backend=None,
        task_ignore_result=True,
        task_acks_late=True,
        task_reject_on_worker_lost=True,
        worker_prefetch_multiplier=1,
        broker_connection_retry_on_startup=True,
        beat_schedule={"sweep": {"task": "yuqing.sweep", "schedule": app.config["SWEEP_SECONDS"]}},
        timezone="UTC",
        yuqing_sweep_seconds=app.config["SWEEP_SECONDS"],
        yuqing_timer_shards=app.config["TIMER_SHARDS"],
    )
    _register_tasks(celery)
    app.extensions["celery"] = celery
    return celery


def _register_tasks(celery: Celery) -> None:
    @celery.task(name="yuqing.run_job")
    def run_job(job_id: int) -> int:
        return run_due(worker_id("celery"), limit=1, ids=[job_id])

    @celery.task(name="yuqing.fire_timers")
    def fire_timers(shards: int, shard: int) -> int:
        return timer_firing.fire_due_timers(shard=(shards, shard), seconds=celery.conf.yuqing_sweep_seconds)

    @celery.task(name="yuqing.sweep")
    def sweep() -> dict[str, int]:
        shards = celery.conf.yuqing_timer_shards
        run_guarded("scheduled starts", schedules.ensure_scheduled)
        due = timer_firing.has_due_timers()
        if due:  # spread the backlog over the workers: each task takes every shards-th instance
            for shard in range(shards):
                fire_timers.apply_async(args=[shards, shard])
        ids = job_ops.undispatched(RESEND_AFTER)
        # Marked before sending: once a message is out, a worker may claim, run and finish (or
        # reschedule, clearing dispatched_at) its job at once; a later mark would overwrite that. If
        # sending fails half-way, the unsent rest goes again after RESEND_AFTER.
        job_ops.mark_dispatched(ids)
        for job_id in ids:
            run_job.apply_async(args=[job_id])
        job_ops.heartbeat("celery-beat", worker_id("beat"), {"resent": len(ids), "timers_due": due})
        return {"timers_due": int(due), "resent": len(ids)}

    def dispatch(ids: list[int]) -> None:
        for job_id in ids:
            run_job.apply_async(args=[job_id], retry=False)

    celery.dispatch = dispatch  # type: ignore[attr-defined]


def install_dispatch(app: Flask) -> None:
    """Send new jobs to the broker right after the commit that wrote them (best effort: the sweep
    sends whatever this misses)."""
    celery = app.extensions.get("celery") or create_celery(app)

    def send(ids: list[int]) -> None:
        try:
            celery.dispatch(ids)
        except Exception:  # broker down: the jobs wait in the table for the sweep
            log.warning("could not send jobs %s to the broker; the sweep will", ids, exc_info=True)

    job_ops.on_jobs_committed(send)
