"""Runners for the job suite: the embedded thread and real Celery workers on the local Redis.

Both run against a really committed database; the clock is the controlled clock stored in that
database, so a Celery worker in another process sees the same time as the test.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
import uuid
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
import redis
from flask import Flask, has_app_context

from app import clock
from app.extensions import db as _db
from app.jobs.celery_app import install_dispatch
from app.jobs.embedded import EmbeddedWorker
from app.operations import clock as clock_ops
from app.operations import jobs
from tests.conftest import ROOT, build_app

REDIS_URL = os.environ.get("YQ_TEST_REDIS_URL", "redis://127.0.0.1:6379/13")
START = datetime(2026, 11, 25, 1, 0, tzinfo=UTC)


def wait_for(condition: Callable[[], bool], timeout: float = 20.0, every: float = 0.05) -> bool:
    """Poll `condition` (in a fresh session each time) until it holds or the timeout passes."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if has_app_context():
            _db.session.remove()
        if condition():
            return True
        time.sleep(every)
    return False


class Runner:
    """Something that runs jobs and fires timers for `app`, which can be stopped and started again."""

    kind = ""
    poll = 0.0

    def __init__(self, app: Flask, tmp: Path):
        self.app = app
        self.tmp = tmp

    def start(self) -> None:
        raise NotImplementedError

    def stop(self) -> None:
        raise NotImplementedError


class EmbeddedRunner(Runner):
    kind = "embedded"
    poll = 0.2

    def start(self) -> None:
        self.worker = EmbeddedWorker(self.app, poll=self.poll, lease_seconds=2).start()

    def stop(self) -> None:
        self.worker.stop()


class CeleryRunner(Runner):
    kind = "celery"
    poll = 1.0  # the beat sweep interval

    def start(self) -> None:
        env = {**os.environ, "YQ_DATABASE_URL": self.app.config["SQLALCHEMY_DATABASE_URI"],
               "YQ_CELERY_BROKER_URL": REDIS_URL, "YQ_ENV": "test", "YQ_SECRET_KEY": "test",
               "YQ_CONTROLLED_CLOCK": "1", "YQ_INSTANCE_PATH": str(self.tmp), "YQ_SWEEP_SECONDS": str(self.poll)}
        yuqing = [sys.executable, "-m", "app.cli"]
        self.worker = self._spawn("worker", [*yuqing, "worker", "-c", "2", "--without-heartbeat",
                                             "--without-gossip", "--without-mingle"], env)
        self.beat = self._spawn("beat", [*yuqing, "beat"], env)

    def _spawn(self, name: str, command: list[str], env: dict[str, str]) -> subprocess.Popen:
        with (self.tmp / f"{name}-{uuid.uuid4().hex[:6]}.log").open("w") as log:
            return subprocess.Popen(command, env=env, cwd=ROOT, stdout=log, stderr=subprocess.STDOUT,
                                    start_new_session=True)

    def kill_worker(self) -> None:
        """SIGKILL the worker and its pool processes: no clean shutdown, no acknowledgements."""
        os.killpg(self.worker.pid, signal.SIGKILL)
        self.worker.wait(10)

    def start_worker_only(self) -> None:
        beat = self.beat
        self.start()
        self.beat.terminate()
        self.beat.wait(10)
        self.beat = beat

    def stop(self) -> None:
        for process in (self.worker, self.beat):
            if process.poll() is None:
                os.killpg(process.pid, signal.SIGTERM)
        for process in (self.worker, self.beat):
            try:
                process.wait(15)
            except subprocess.TimeoutExpired:
                os.killpg(process.pid, signal.SIGKILL)


@pytest.fixture
def runner_app(tmp_path: Path) -> Iterator[Flask]:
    """A committed database whose clock is controlled through the database (shared with workers)."""
    redis.Redis.from_url(REDIS_URL).flushdb()
    application, drop = build_app(tmp_path, CONTROLLED_CLOCK=True, CELERY_BROKER_URL=REDIS_URL)
    with application.app_context():
        clock_ops.set_clock(START)
    yield application
    with application.app_context():
        _db.session.remove()
        _db.engine.dispose()
    clock.set_source(None)
    drop()


@pytest.fixture(params=["embedded", "celery"])
def runner(request: pytest.FixtureRequest, runner_app: Flask, tmp_path: Path) -> Iterator[Runner]:
    """The same suite under both runners."""
    if request.param == "celery":
        install_dispatch(runner_app)
        instance = CeleryRunner(runner_app, tmp_path)
    else:
        instance = EmbeddedRunner(runner_app, tmp_path)
    instance.start()
    yield instance
    instance.stop()
    jobs._listeners.clear()
