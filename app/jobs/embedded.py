"""The embedded runner: one thread inside the web process, held by a database lease.

Only the process holding the lease `embedded-worker` runs jobs and fires timers, so several web
processes on one database never do the work twice. The thread wakes at once after a commit that
wrote jobs, and otherwise every `poll` seconds.
"""

from __future__ import annotations

import atexit
import logging
import threading
import uuid

from flask import Flask

from app.jobs.registry import run_due, run_guarded, worker_id
from app.operations import jobs as job_ops
from app.operations import schedules, timer_firing

log = logging.getLogger(__name__)
LEASE = "embedded-worker"


class EmbeddedWorker:
    """Fires due timers and runs due jobs in a daemon thread while this process holds the lease."""

    def __init__(self, app: Flask, poll: float = 2.0, lease_seconds: int = 15):
        self.app = app
        self.poll = poll
        self.lease_seconds = lease_seconds
        self.name = f"{worker_id('embedded')}:{uuid.uuid4().hex[:8]}"
        self.wakeup = threading.Event()
        self.stopping = threading.Event()
        self.thread = threading.Thread(target=self._loop, name="yuqing-embedded-worker", daemon=True)

    def start(self) -> EmbeddedWorker:
        job_ops.on_jobs_committed(self._wake)
        self.thread.start()
        atexit.register(self.stop)
        return self

    def stop(self, timeout: float = 10.0) -> None:
        self.stopping.set()
        self.wakeup.set()
        job_ops.remove_listener(self._wake)
        if self.thread.is_alive() and threading.current_thread() is not self.thread:
            self.thread.join(timeout)
        with self.app.app_context():
            try:
                job_ops.release_lease(LEASE, self.name)
            except Exception:  # at exit the database may already be gone; the lease expires anyway
                log.debug("could not release the worker lease", exc_info=True)

    def _wake(self, _ids: list[int]) -> None:
        self.wakeup.set()

    def _loop(self) -> None:
        while not self.stopping.is_set():
            try:
                with self.app.app_context():
                    self.tick()
            except Exception:  # the loop must survive a database hiccup; it tries again next poll
                log.exception("embedded worker tick failed")
            self.wakeup.wait(self.poll)
            self.wakeup.clear()

    def tick(self) -> int:
        """One round: renew the lease, fire due timers, run due jobs. Returns the work done."""
        if not job_ops.hold_lease(LEASE, self.name, self.lease_seconds, {"kind": "embedded", "poll": self.poll}):
            return 0
        done = run_guarded("scheduled starts", schedules.ensure_scheduled)
        done += run_guarded("due timers", timer_firing.fire_due_timers)
        while not self.stopping.is_set():
            ran = run_due(self.name)
            done += ran
            if ran == 0:
                break
        return done


def start(app: Flask, poll: float | None = None) -> EmbeddedWorker:
    """Start the embedded worker for this app."""
    return EmbeddedWorker(app, poll=poll or app.config["WORKER_POLL_SECONDS"]).start()
