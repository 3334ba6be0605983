"""Runners for the job suite: the embedded thread and real Celery workers on Redis.

Both run against a really committed database; the clock is the controlled clock stored in that
database, so a Celery worker in another process sees the same time as the test.

Each test session starts a Redis server of its own (unless YQ_TEST_REDIS_URL names one): sessions
that run at the same time on one machine (the SQLite and the PostgreSQL run, other developers) must
not share a broker, or one session's workers take the other's messages and its FLUSHDB empties the
other's queue. The controlled clock stands still, so a message lost that way is never sent again.

Nothing here may assume an idle machine (`.ci/run` runs beside other work on two cores): a runner is
started and then waited for until it has shown it works (Celery: a sweep that beat sent and a worker
ran), every positive wait allows PATIENCE, and a check that something did *not* happen waits for
runner rounds that saw the controlled clock (`Runner.wait_for_round`), never for a stretch of wall
time. How fast a runner is belongs in bench/timers.py.
"""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import time
import uuid
from abc import ABC, abstractmethod
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
import redis
from flask import Flask, has_app_context
from sqlalchemy import delete, select

from app import clock
from app.extensions import db as _db
from app.jobs.celery_app import install_dispatch
from app.jobs.embedded import EmbeddedWorker
from app.models import WorkerLease
from app.operations import clock as clock_ops
from app.operations import jobs
from tests.conftest import ROOT, build_app
from tests.notify.loopback import free_port

SHARED_REDIS_URL = "redis://127.0.0.1:6379/13"  # only where no redis-server can be started
START = datetime(2026, 11, 25, 1, 0, tzinfo=UTC)
# Seconds a runner may take for one thing on a loaded machine (a Celery worker starting under load
# takes tens of seconds). A wait returns as soon as its condition holds, so this costs nothing when
# things work; it is a bound on a hang, not a latency requirement.
PATIENCE = 120.0
BEAT_HEARTBEAT = "celery-beat"  # written by every sweep (app/jobs/celery_app.py), with the clock it saw


def wait_for(condition: Callable[[], bool], timeout: float = PATIENCE, every: float = 0.05) -> bool:
    """Poll `condition` (in a fresh session each time) until it holds or the timeout passes."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if has_app_context():
            _db.session.remove()
        if condition():
            return True
        time.sleep(every)
    return False


class Runner(ABC):
    """Something that runs jobs and fires timers for `app`, which can be stopped and started again."""

    kind = ""
    poll = 0.0

    def __init__(self, app: Flask, tmp: Path):
        self.app = app
        self.tmp = tmp

    @abstractmethod
    def start(self) -> None:
        """Start the runner's processes or threads."""

    @abstractmethod
    def stop(self) -> None:
        """Stop them (and wait until they are gone)."""

    @abstractmethod
    def wait_for_round(self) -> None:
        """Wait until the runner has finished a whole round (fire due timers, run due jobs) that began
        after this call and saw the controlled clock's current time: what did not happen by then is
        not going to happen at this clock."""


class CountingWorker(EmbeddedWorker):
    """The embedded worker, counting the rounds it finished (so a test can wait for one)."""

    rounds = 0

    def tick(self) -> int:
        try:
            return super().tick()
        finally:
            self.rounds += 1


class EmbeddedRunner(Runner):
    kind = "embedded"
    poll = 0.2

    def start(self) -> None:
        self.worker = CountingWorker(self.app, poll=self.poll, lease_seconds=2).start()

    def stop(self) -> None:
        self.worker.stop()

    def wait_for_round(self) -> None:
        # The round under way may have read the clock before the caller set it; the next one has not
        # (this process's clock cache is cleared when the clock is set).
        target = self.worker.rounds + 2
        if not wait_for(lambda: self.worker.rounds >= target):
            raise AssertionError(f"the embedded worker finished no round in {PATIENCE} s")


class CeleryRunner(Runner):
    kind = "celery"
    poll = 1.0  # the beat sweep interval
    _yuqing = (sys.executable, "-m", "app.cli")

    def start(self) -> None:
        env = {**os.environ, "YQ_DATABASE_URL": self.app.config["SQLALCHEMY_DATABASE_URI"],
               "YQ_CELERY_BROKER_URL": self.app.config["CELERY_BROKER_URL"], "YQ_ENV": "test", "YQ_SECRET_KEY": "test",
               "YQ_CONTROLLED_CLOCK": "1", "YQ_INSTANCE_PATH": str(self.tmp), "YQ_SWEEP_SECONDS": str(self.poll)}
        self._env = env
        self.worker = self._spawn_worker()
        self.beat = self._spawn("beat", [*self._yuqing, "beat"], env)
        self.wait_until_ready()

    def _spawn_worker(self) -> subprocess.Popen:
        return self._spawn("worker", [*self._yuqing, "worker", "-c", "2", "--without-heartbeat", "--without-gossip",
                                      "--without-mingle"], self._env)

    def wait_until_ready(self) -> None:
        """Wait for a sweep run after the start: beat is sending and a worker is taking messages.
        Both take many seconds to start on a busy machine; the tests' bounds begin after this.
        Stops the runner if it never gets there (nothing is left running)."""
        try:
            ready = self._wait_for_sweep(lambda lease: True)
        except BaseException:
            self.stop()
            raise
        if not ready:
            self.stop()
            raise AssertionError(f"no Celery sweep ran within {PATIENCE} s of the start; logs: {self.logs()}")

    def wait_for_round(self) -> None:
        now = self._clock_now()
        # The sweep records the clock it saw; every process re-reads the clock within a second.
        for _ in range(2):
            if not self._wait_for_sweep(lambda lease: lease.heartbeat_at >= now):
                raise AssertionError(f"no Celery sweep at {now} within {PATIENCE} s; logs: {self.logs()}")

    def _clock_now(self) -> datetime:
        with self.app.app_context():
            return clock.now()

    def _forget_sweeps(self) -> None:
        with self.app.app_context():
            _db.session.execute(delete(WorkerLease).where(WorkerLease.name == BEAT_HEARTBEAT))
            _db.session.commit()
            _db.session.remove()

    def _wait_for_sweep(self, accept: Callable[[WorkerLease], bool]) -> bool:
        """Forget the last sweep's heartbeat, then wait for a new one that `accept`s."""
        self._forget_sweeps()

        def swept() -> bool:
            lease = _db.session.scalar(select(WorkerLease).where(WorkerLease.name == BEAT_HEARTBEAT))
            return lease is not None and accept(lease)

        with self.app.app_context():
            return wait_for(lambda: self._alive() and swept()) and swept()

    def _alive(self) -> bool:
        for process in (self.worker, self.beat):
            if process.poll() is not None:
                raise AssertionError(f"{process.args[3]} exited with {process.returncode}; logs: {self.logs()}")
        return True

    def logs(self) -> str:
        """The runner's log files, for a failure message."""
        return "\n".join(f"--- {path.name}\n{path.read_text(errors='replace')[-3000:]}"
                         for path in sorted(self.tmp.glob("*.log")) if not path.name.startswith("redis"))

    def _spawn(self, name: str, command: list[str], env: dict[str, str]) -> subprocess.Popen:
        with (self.tmp / f"{name}-{uuid.uuid4().hex[:6]}.log").open("w") as log:
            return subprocess.Popen(command, env=env, cwd=ROOT, stdout=log, stderr=subprocess.STDOUT,
                                    start_new_session=True)

    def kill_worker(self) -> None:
        """SIGKILL the worker and its pool processes: no clean shutdown, no acknowledgements."""
        os.killpg(self.worker.pid, signal.SIGKILL)
        self.worker.wait(PATIENCE)

    def start_worker_only(self) -> None:
        """Start a worker again (beat kept running) and wait until it takes messages."""
        self.worker = self._spawn_worker()
        self.wait_until_ready()

    def stop(self) -> None:
        for process in (self.worker, self.beat):
            if process.poll() is None:
                os.killpg(process.pid, signal.SIGTERM)
        for process in (self.worker, self.beat):
            try:
                process.wait(PATIENCE / 4)
            except subprocess.TimeoutExpired:
                os.killpg(process.pid, signal.SIGKILL)
                process.wait(PATIENCE)  # reaped: a Popen left running is a ResourceWarning (an error here)


def _start_redis(directory: Path) -> tuple[str, subprocess.Popen] | None:
    """A redis-server on a free loopback port, keeping nothing on disk (None if it would not start)."""
    server = shutil.which("redis-server")
    if server is None:
        return None
    for attempt in range(3):  # the free port may be taken before the server binds it
        port = free_port()
        with (directory / f"redis-{attempt}.log").open("w") as log:
            process = subprocess.Popen([server, "--port", str(port), "--bind", "127.0.0.1", "--save", "",
                                        "--appendonly", "no", "--dir", str(directory)],
                                       stdout=log, stderr=subprocess.STDOUT)
        url = f"redis://127.0.0.1:{port}/0"
        client = redis.Redis.from_url(url, socket_connect_timeout=1)
        deadline = time.monotonic() + PATIENCE / 4
        while process.poll() is None and time.monotonic() < deadline:
            try:
                if client.ping():
                    client.close()
                    return url, process
            except redis.ConnectionError:
                time.sleep(0.05)
        client.close()
        if process.poll() is None:
            process.kill()
        process.wait(10)
    return None


@pytest.fixture(scope="session")
def redis_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """This session's broker: YQ_TEST_REDIS_URL if set, else a Redis server of the session's own."""
    configured = os.environ.get("YQ_TEST_REDIS_URL")
    started = None if configured else _start_redis(tmp_path_factory.mktemp("redis"))
    if started is None:
        yield configured or SHARED_REDIS_URL
        return
    url, process = started
    try:
        yield url
    finally:
        process.terminate()
        try:
            process.wait(10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(10)


@pytest.fixture
def runner_app(tmp_path: Path, redis_url: str) -> Iterator[Flask]:
    """A committed database whose clock is controlled through the database (shared with workers)."""
    with redis.Redis.from_url(redis_url) as broker:
        broker.flushdb()  # nothing left by an earlier test (a killed worker's messages)
    application, drop = build_app(tmp_path, CONTROLLED_CLOCK=True, CELERY_BROKER_URL=redis_url)
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
    try:
        instance.start()  # a runner that never gets ready stops itself and fails the test
        yield instance
        instance.stop()
    finally:
        jobs._listeners.clear()
