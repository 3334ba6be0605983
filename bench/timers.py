"""Benchmark: 10,000 instances whose timers fall due in the same minute, fired by the embedded runner
and by two Celery workers; prints the fire lag (p50/p95/max) and the rates.

Usage: .venv/bin/python bench/timers.py [--instances 10000] [--jobs 2000] [--database-url URL]

Each instance is a real `yq_incident` waiting in its quick-report task with the 30-minute boundary
timer; one is started through the operations and copied (state, open task) to make the rest. The
lag of an instance is the time its timers were fired minus its due time (from the audit trail).
The bare engine's cost of the same firing (load + refresh timers + steps + dump) is measured too.
Also runs `--jobs` probe jobs through each runner and prints jobs per second. Needs the local
PostgreSQL (default) and Redis; the database named by --database-url must exist and be empty.
"""

from __future__ import annotations

import argparse
import os
import signal
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import redis  # noqa: E402
from flask_migrate import upgrade  # noqa: E402
from sqlalchemy import delete, func, insert, select  # noqa: E402

from app import clock, create_app  # noqa: E402
from app.engine import runner  # noqa: E402
from app.extensions import db  # noqa: E402
from app.jobs.embedded import EmbeddedWorker  # noqa: E402
from app.models import (  # noqa: E402
    AppSetting,
    AuditEvent,
    HumanTask,
    HumanTaskCandidate,
    Job,
    JobStatus,
    Notification,
    NotificationDelivery,
    ProcessInstance,
)
from app.operations import catalog, deploy, instances, jobs, users  # noqa: E402

REDIS_URL = "redis://127.0.0.1:6379/12"
PASSWORD = "bench password 123"


def build(url: str):
    app = create_app({"SQLALCHEMY_DATABASE_URI": url, "SECRET_KEY": "bench", "YQ_ENV": "test",
                      "CONTROLLED_CLOCK": False, "INSTANCE_PATH": tempfile.mkdtemp(), "CELERY_BROKER_URL": REDIS_URL})
    with app.app_context():
        upgrade()
        users.ensure_roles_and_units()
        deploy.deploy_processes(*deploy.read_directory(ROOT / "processes", ROOT / "forms"), note="bench")
        if users.authenticate("bench", PASSWORD) is None:
            users.create_user("bench", "基准", PASSWORD, ["monitor", "office_director"], must_change_password=False)
    return app


def make_instances(app, count: int, due: datetime) -> list[int]:
    """One real incident whose quick report is due at `due`, copied `count - 1` times."""
    with app.app_context():
        clock.set_source(lambda: due - timedelta(minutes=30))
        try:
            seed = instances.start_incident(users.authenticate("bench", PASSWORD))
        finally:
            clock.set_source(None)
        task = db.session.scalars(select(HumanTask).where(HumanTask.instance_id == seed.id)).one()
        columns = {c: getattr(seed, c) for c in ("definition_id", "process_key", "status", "state_json",
                                                  "serializer_version", "next_timer_at", "data", "started_by_id")}
        rows = [{**columns, "public_id": str(uuid.uuid4()), "business_key": f"B-{n}", "version": 1,
                 "started_at": due, "updated_at": due} for n in range(count - 1)]
        with db.engine.begin() as connection:
            for start in range(0, len(rows), 1000):
                connection.execute(insert(ProcessInstance), rows[start:start + 1000])
        ids = [seed.id, *db.session.scalars(select(ProcessInstance.id).where(ProcessInstance.id != seed.id,
                                                                           ProcessInstance.started_at == due))]
        copy_tasks(task, ids[1:])
        return ids


def copy_tasks(task: HumanTask, instance_ids: list[int]) -> None:
    fields = {c: getattr(task, c) for c in ("task_guid", "process_id", "spec_id", "name", "lane", "form", "ui_form",
                                             "documentation", "context", "status", "due_at", "created_at",
                                             "candidate_roles_text")}
    with db.engine.begin() as connection:
        for start in range(0, len(instance_ids), 1000):
            chunk = instance_ids[start:start + 1000]
            connection.execute(insert(HumanTask), [{**fields, "public_id": str(uuid.uuid4()), "instance_id": i}
                                                   for i in chunk])
    db.session.remove()
    with db.engine.begin() as connection:
        new = connection.execute(select(HumanTask.id).where(HumanTask.instance_id.in_(instance_ids))).scalars().all()
        for start in range(0, len(new), 1000):
            rows = [{"task_id": t, "role_code": role} for t in new[start:start + 1000] for role in task.candidate_roles]
            connection.execute(insert(HumanTaskCandidate), rows)


def lags(app, ids: list[int], due: datetime) -> list[float]:
    with app.app_context():
        fired = db.session.execute(
            select(AuditEvent.instance_id, func.min(AuditEvent.at))
            .where(AuditEvent.action == "timers_fired", AuditEvent.instance_id.in_(ids))
            .group_by(AuditEvent.instance_id)).all()
    return [(at - due).total_seconds() for _, at in fired]


def wait_fired(app, ids: list[int], timeout: float) -> None:
    deadline = time.monotonic() + timeout
    with app.app_context():
        while time.monotonic() < deadline:
            db.session.remove()
            left = db.session.scalar(select(func.count(ProcessInstance.id)).where(
                ProcessInstance.id.in_(ids), ProcessInstance.next_timer_at.is_not(None)))
            if left == 0:
                return
            time.sleep(0.5)
    raise SystemExit(f"timers not all fired within {timeout} s")


def probe_rate(app, count: int, tag: str) -> float:
    with app.app_context():
        started = time.perf_counter()
        for n in range(count):
            jobs.enqueue_probe(f"{tag}-{n}")
        deadline = time.monotonic() + 600
        while time.monotonic() < deadline:
            db.session.remove()
            done = db.session.scalar(select(func.count(Job.id)).where(Job.status == JobStatus.DONE,
                                                                       Job.kind == "probe"))
            if done >= count:
                return count / (time.perf_counter() - started)
            time.sleep(0.2)
    raise SystemExit("probe jobs not done")


def reset(app) -> None:
    with app.app_context(), db.engine.begin() as connection:
        for table in (AuditEvent, NotificationDelivery, Notification, HumanTaskCandidate, HumanTask, Job):
            connection.execute(delete(table))
        connection.execute(delete(AppSetting).where(AppSetting.key.like("probe:%")))
        connection.execute(delete(ProcessInstance))


def bare_engine_ms(app, ids: list[int]) -> float:
    with app.app_context():
        instance = db.session.get(ProcessInstance, ids[0])
        spec, state = catalog.spec(instance.definition_id), instance.state_json
    samples = []
    for _ in range(200):
        started = time.perf_counter()
        runner.fire_timers(spec, state)
        samples.append((time.perf_counter() - started) * 1000)
    return statistics.median(samples)


def report(name: str, values: list[float], count: int, elapsed: float) -> None:
    ordered = sorted(values)
    p95 = ordered[max(int(len(ordered) * 0.95) - 1, 0)]
    print(f"{name:<18} fired {len(values)}/{count}   lag p50 {statistics.median(ordered):6.2f} s   p95 {p95:6.2f} s   "
          f"max {ordered[-1]:6.2f} s   {count / elapsed:7.1f} instances/s")


def run_embedded(app, count: int, lead: float) -> list[int]:
    due = datetime.now(UTC) + timedelta(seconds=lead)
    ids = make_instances(app, count, due)
    worker = EmbeddedWorker(app, poll=1.0).start()
    try:
        time.sleep(max(0.0, (due - datetime.now(UTC)).total_seconds()))
        started = time.monotonic()
        wait_fired(app, ids, timeout=3600)
        report("embedded (1 thread)", lags(app, ids, due), count, time.monotonic() - started)
    finally:
        worker.stop()
    return ids


def celery_processes(app) -> list[subprocess.Popen]:
    env = {**os.environ, "YQ_DATABASE_URL": app.config["SQLALCHEMY_DATABASE_URI"], "YQ_CELERY_BROKER_URL": REDIS_URL,
           "YQ_ENV": "test", "YQ_SECRET_KEY": "bench", "YQ_CONTROLLED_CLOCK": "0", "YQ_SWEEP_SECONDS": "1",
           "YQ_TIMER_SHARDS": "4", "YQ_INSTANCE_PATH": tempfile.mkdtemp()}
    command = [sys.executable, "-m", "app.cli"]
    log = open(os.devnull, "w")  # noqa: SIM115 - closed by the OS with the children
    return [subprocess.Popen([*command, "worker", "-c", "1", "-n", f"bench{n}@%h"], env=env, cwd=ROOT,
                             stdout=log, stderr=log, start_new_session=True) for n in (1, 2)] + [
        subprocess.Popen([*command, "beat"], env=env, cwd=ROOT, stdout=log, stderr=log, start_new_session=True)]


def run_celery(app, count: int, lead: float) -> list[subprocess.Popen]:
    due = datetime.now(UTC) + timedelta(seconds=lead)
    ids = make_instances(app, count, due)
    processes = celery_processes(app)
    try:
        time.sleep(max(0.0, (due - datetime.now(UTC)).total_seconds()))
        started = time.monotonic()
        wait_fired(app, ids, timeout=3600)
        report("celery (2 workers)", lags(app, ids, due), count, time.monotonic() - started)
        return processes
    except BaseException:
        stop(processes)
        raise


def stop(processes: list[subprocess.Popen]) -> None:
    """Warm shutdown of each worker (SIGTERM to the main process only: signalling the pool children
    too can leave Celery's main process waiting for them forever); whatever is left is killed."""
    for process in processes:
        process.send_signal(signal.SIGTERM)
    for process in processes:
        try:
            process.wait(30)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--instances", type=int, default=10_000)
    parser.add_argument("--jobs", type=int, default=2000)
    parser.add_argument("--lead", type=float, default=60.0, help="seconds from setup to the due time")
    parser.add_argument("--database-url", default=os.environ.get("BENCH_DATABASE_URL",
                                                                  "postgresql+psycopg://postgres@127.0.0.1:5432/yuqing_bench"))
    args = parser.parse_args()
    redis.Redis.from_url(REDIS_URL).flushdb()
    app = build(args.database_url)
    print(f"database: {args.database_url.split('@')[-1]}   instances: {args.instances}   probe jobs: {args.jobs}")
    ids = run_embedded(app, args.instances, args.lead)
    engine_ms = bare_engine_ms(app, ids)
    print(f"bare engine, one instance's timers (load + refresh + steps + dump): median {engine_ms:.2f} ms")
    app_worker = EmbeddedWorker(app, poll=1.0).start()
    print(f"embedded (1 thread) probe jobs: {probe_rate(app, args.jobs, 'embedded'):7.1f} jobs/s")
    app_worker.stop()
    reset(app)
    processes = run_celery(app, args.instances, args.lead)
    try:
        from app.jobs.celery_app import install_dispatch  # noqa: PLC0415

        install_dispatch(app)
        print(f"celery (2 workers) probe jobs: {probe_rate(app, args.jobs, 'celery'):7.1f} jobs/s")
    finally:
        stop(processes)


if __name__ == "__main__":
    main()
