"""Monitoring: the health check, the Prometheus figures and the admin dashboard, read from the database.

Every figure is computed from the tables when it is asked for, never counted in a process: several
gunicorn processes (and nodes) serve the same database, and each must report the same numbers.
All functions here are read-only; none opens a transaction.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import and_, case, extract, func, or_, select, text
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.sql.elements import ColumnElement

from app import clock
from app.extensions import db
from app.models import (
    HumanTask,
    Incident,
    InstanceStatus,
    Job,
    JobStatus,
    ProcessInstance,
    TaskStatus,
    User,
    WorkerLease,
)

# Upper bounds (seconds) of the task completion histogram: 1 min, 5 min, 15 min, 30 min, 1 h, 4 h, 12 h, 24 h.
COMPLETION_BUCKETS: tuple[float, ...] = (60, 300, 900, 1800, 3600, 4 * 3600, 12 * 3600, 24 * 3600)
TIMER_STATUSES = (InstanceStatus.WAITING, InstanceStatus.RUNNING)
FIRST_RESPONSE_DEADLINE = "first_release"  # ledger deadline name of the first authoritative release
SOON = timedelta(hours=1)
URGENT_LIMIT = 10


# -- health -------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class WorkerHealth:
    """The newest heartbeat of any worker (embedded lease or Celery beat) and how old it is."""

    last_heartbeat: datetime | None
    age_seconds: float | None
    ok: bool


@dataclass(frozen=True)
class Health:
    """What /healthz reports."""

    status: str  # ok | degraded | fail
    database_ok: bool
    database_ms: float | None
    database_error: str | None
    worker: WorkerHealth | None  # None when the database could not be asked
    error_instances: int | None = None  # instances in error, waiting for an admin
    demo_accounts: int | None = None  # active accounts still holding the password seed-demo printed


def _worker_health(now: datetime, stale_after: float) -> WorkerHealth:
    """The newest worker heartbeat; not ok when there is none or it is older than `stale_after` seconds."""
    last = db.session.scalar(select(func.max(WorkerLease.heartbeat_at)))
    if last is None:
        return WorkerHealth(None, None, False)
    age = max((now - last).total_seconds(), 0.0)
    return WorkerHealth(last, age, age <= stale_after)


def health(stale_after: float, demo_accounts_degrade: bool = False) -> Health:
    """Database reachable (`SELECT 1`): ok, or degraded when the worker is stale, an instance is in error
    or (`demo_accounts_degrade`: where they can log in) a demo account keeps its printed password;
    fail when the database cannot be asked."""
    started = time.perf_counter()
    try:
        db.session.execute(text("SELECT 1")).scalar()
        elapsed = round((time.perf_counter() - started) * 1000, 1)
        worker = _worker_health(clock.now(), stale_after)
        errors = db.session.scalar(select(func.count()).select_from(ProcessInstance)
                                   .where(ProcessInstance.status == InstanceStatus.ERROR)) or 0
        demo = db.session.scalar(select(func.count()).select_from(User)
                                 .where(User.demo_password.is_(True), User.active.is_(True))) or 0
    except SQLAlchemyError as exc:
        db.session.rollback()
        return Health("fail", False, None, type(exc).__name__, None)
    healthy = worker.ok and not errors and not (demo and demo_accounts_degrade)
    return Health("ok" if healthy else "degraded", True, elapsed, None, worker, errors, demo)


# -- metrics ------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Histogram:
    """Cumulative bucket counts (one per bound in `bounds`, then +Inf = count), sum and count."""

    bounds: tuple[float, ...]
    cumulative: tuple[int, ...]
    total_seconds: float
    count: int


@dataclass(frozen=True)
class Metrics:
    """The figures /metrics exposes, all read at one moment `now`."""

    now: datetime
    instances: dict[str, int]
    tasks_open: int
    tasks_overdue: int
    task_completion: Histogram
    jobs: dict[str, int]
    job_queue_depth: int
    job_lag_seconds: float
    timer_lag_seconds: float
    failures: int
    worker_heartbeat_age_seconds: float | None  # None: no worker ever sent a heartbeat


def _counts_by(column: Any, names: list[str]) -> dict[str, int]:
    rows = dict(db.session.execute(select(column, func.count()).group_by(column)).all())
    counts = {name: int(rows.get(name, 0)) for name in names}
    counts.update({str(k): int(v) for k, v in rows.items() if k is not None and str(k) not in counts})
    return counts


def _seconds_between(start: Any, end: Any) -> ColumnElement[float]:
    """SQL for `end - start` in seconds, on SQLite (text timestamps) and PostgreSQL alike."""
    if db.session.get_bind().dialect.name == "sqlite":
        # julianday() is a double: round to the millisecond so that 300 s stays 300 s at a bucket bound.
        return func.round((func.julianday(end) - func.julianday(start)) * 86400.0, 3)
    return extract("epoch", end - start)


def _completion_histogram() -> Histogram:
    """Time from creation to completion of every completed human task, bucketed in one query."""
    seconds = _seconds_between(HumanTask.created_at, HumanTask.completed_at)
    columns = [func.sum(case((seconds <= bound, 1), else_=0)) for bound in COMPLETION_BUCKETS]
    row = db.session.execute(
        select(*columns, func.count(), func.coalesce(func.sum(seconds), 0))
        .where(HumanTask.status == TaskStatus.COMPLETED, HumanTask.completed_at.is_not(None))).one()
    count = int(row[-2] or 0)
    return Histogram(COMPLETION_BUCKETS, (*(int(v or 0) for v in row[:-2]), count), float(row[-1] or 0), count)


def _open_tasks(now: datetime) -> tuple[int, int]:
    row = db.session.execute(
        select(func.count(), func.coalesce(func.sum(case((HumanTask.due_at <= now, 1), else_=0)), 0))
        .where(HumanTask.status == TaskStatus.OPEN)).one()
    return int(row[0]), int(row[1])


def _due_jobs(now: datetime) -> tuple[int, datetime | None]:
    row = db.session.execute(select(func.count(), func.min(Job.run_at))
                             .where(Job.status == JobStatus.PENDING, Job.run_at <= now)).one()
    return int(row[0]), row[1]


def _oldest_due_timer(now: datetime) -> datetime | None:
    return db.session.scalar(select(func.min(ProcessInstance.next_timer_at)).where(
        ProcessInstance.status.in_(TIMER_STATUSES), ProcessInstance.next_timer_at <= now))


def _lag(now: datetime, since: datetime | None) -> float:
    return max((now - since).total_seconds(), 0.0) if since else 0.0


def metrics() -> Metrics:
    """Every figure of /metrics, read from the tables now."""
    now = clock.now()
    instances = _counts_by(ProcessInstance.status, [s.value for s in InstanceStatus])
    jobs = _counts_by(Job.status, [s.value for s in JobStatus])
    tasks_open, tasks_overdue = _open_tasks(now)
    depth, oldest_job = _due_jobs(now)
    worker = _worker_health(now, float("inf"))
    return Metrics(
        now=now, instances=instances, tasks_open=tasks_open, tasks_overdue=tasks_overdue,
        task_completion=_completion_histogram(), jobs=jobs, job_queue_depth=depth,
        job_lag_seconds=_lag(now, oldest_job), timer_lag_seconds=_lag(now, _oldest_due_timer(now)),
        failures=jobs[JobStatus.FAILED] + instances[InstanceStatus.ERROR],
        worker_heartbeat_age_seconds=worker.age_seconds)


# -- dashboard -----------------------------------------------------------------------------------------


@dataclass(frozen=True)
class UrgentTask:
    """An open task that is overdue or due within the hour."""

    public_id: str
    name: str
    incident: str
    due_at: datetime
    created_at: datetime


@dataclass
class Compliance:
    """First-response deadlines of a period: met in time, missed, not yet due."""

    since: datetime
    until: datetime
    met: int = 0
    missed: int = 0
    pending: int = 0


@dataclass(frozen=True)
class Dashboard:
    """What /admin/dashboard shows (and dashboard.json refreshes)."""

    now: datetime
    incidents_by_level: dict[int | None, int]
    tasks_overdue: int
    tasks_due_soon: int
    urgent: list[UrgentTask]
    week: Compliance
    month: Compliance
    failed_jobs: int
    error_instances: int
    worker: WorkerHealth
    job_queue_depth: int
    job_lag_seconds: float
    timer_lag_seconds: float

    @property
    def failures(self) -> int:
        return self.failed_jobs + self.error_instances


def _incidents_by_level() -> dict[int | None, int]:
    rows = dict(db.session.execute(select(Incident.level, func.count()).where(Incident.status == "open")
                                   .group_by(Incident.level)).all())
    counts: dict[int | None, int] = {level: int(rows.get(level, 0)) for level in (1, 2, 3, 4)}
    counts[None] = int(sum(v for k, v in rows.items() if k not in (1, 2, 3, 4)))
    return counts


def _urgent_tasks(now: datetime) -> tuple[int, int, list[UrgentTask]]:
    soon = now + SOON
    row = db.session.execute(
        select(func.coalesce(func.sum(case((HumanTask.due_at <= now, 1), else_=0)), 0),
               func.coalesce(func.sum(case((and_(HumanTask.due_at > now, HumanTask.due_at <= soon), 1), else_=0)), 0))
        .where(HumanTask.status == TaskStatus.OPEN)).one()
    rows = db.session.execute(
        select(HumanTask.public_id, HumanTask.name, HumanTask.due_at, HumanTask.created_at,
               ProcessInstance.business_key, ProcessInstance.title)
        .join(ProcessInstance, ProcessInstance.id == HumanTask.instance_id)
        .where(HumanTask.status == TaskStatus.OPEN, HumanTask.due_at <= soon)
        .order_by(HumanTask.due_at, HumanTask.id).limit(URGENT_LIMIT)).all()
    urgent = [UrgentTask(public_id, name, " ".join(p for p in (key, title) if p), due_at, created_at)
              for public_id, name, due_at, created_at, key, title in rows]
    return int(row[0]), int(row[1]), urgent


def _period_starts(now: datetime) -> tuple[datetime, datetime, datetime, datetime]:
    """(week start, next week start, month start, next month start), at midnight Asia/Shanghai."""
    local = clock.local(now)
    today = local.replace(hour=0, minute=0, second=0, microsecond=0)
    week = today - timedelta(days=today.weekday())
    month = today.replace(day=1)
    next_month = (month + timedelta(days=32)).replace(day=1)
    return week, week + timedelta(days=7), month, next_month


def _classify(entry: dict[str, Any], now: datetime) -> tuple[datetime, str] | None:
    due = clock.parse_aware(entry.get("due_at"))
    if due is None:
        return None
    done = clock.parse_aware(entry.get("done_at"))
    if entry.get("missed") or (done is not None and done > due) or (done is None and due <= now):
        return due, "missed"
    return due, "met" if done is not None else "pending"


def _first_response_compliance(now: datetime) -> tuple[Compliance, Compliance]:
    """First-release deadlines (the ledger's `first_release`) falling due this week and this month.

    A deadline counts in the period its due time falls in: met when released in time, missed when
    the ledger marked it missed or its time passed without a release, pending while still open.
    """
    week_start, week_end, month_start, month_end = _period_starts(now)
    week, month = Compliance(week_start, week_end), Compliance(month_start, month_end)
    # A first release falls due hours after discovery; a week's slack keeps late registrations in.
    bound = min(week_start, month_start) - timedelta(days=7)
    heads = db.session.execute(select(Incident.deadlines, Incident.status, Incident.closed_at).where(
        or_(Incident.discovered_at >= bound, Incident.created_at >= bound, Incident.status == "open")))
    for deadlines, status, closed_at in heads:
        # A terminated incident's deadline is judged as it stood when it ended; one still open then never falls due.
        ended = closed_at if status == "terminated" and closed_at is not None else None
        classified = _classify((deadlines or {}).get(FIRST_RESPONSE_DEADLINE) or {}, ended or now)
        if classified is None or (ended is not None and classified[1] == "pending"):
            continue
        due, outcome = classified
        for period in (week, month):
            if period.since <= due < period.until:
                setattr(period, outcome, getattr(period, outcome) + 1)
    return week, month


def dashboard(stale_after: float) -> Dashboard:
    """Everything the admin dashboard shows, read now."""
    now = clock.now()
    overdue, soon, urgent = _urgent_tasks(now)
    week, month = _first_response_compliance(now)
    depth, oldest_job = _due_jobs(now)
    failed_jobs = db.session.scalar(select(func.count()).select_from(Job).where(Job.status == JobStatus.FAILED))
    errors = db.session.scalar(select(func.count()).select_from(ProcessInstance)
                               .where(ProcessInstance.status == InstanceStatus.ERROR))
    return Dashboard(
        now=now, incidents_by_level=_incidents_by_level(), tasks_overdue=overdue, tasks_due_soon=soon,
        urgent=urgent, week=week, month=month, failed_jobs=int(failed_jobs or 0), error_instances=int(errors or 0),
        worker=_worker_health(now, stale_after), job_queue_depth=depth, job_lag_seconds=_lag(now, oldest_job),
        timer_lag_seconds=_lag(now, _oldest_due_timer(now)))

