"""The job table: written with its cause, claimed with a lease, retried with backoff, failed visibly."""

from __future__ import annotations

import threading
from datetime import timedelta

import pytest
from sqlalchemy import select, update

from app import clock
from app.db import transaction
from app.jobs import registry
from app.models import Job, JobStatus, Notification
from app.operations import jobs
from app.operations.errors import Conflict

CALLS: list[dict] = []


@pytest.fixture
def handlers():
    def flaky(payload):
        CALLS.append(payload)
        if len(CALLS) <= payload.get("fail_times", 0):
            raise ConnectionError("SMTP down")

    def broken(payload):
        raise registry.PermanentJobError("destination refused")

    CALLS.clear()
    registry.register("test_flaky", flaky)
    registry.register("test_broken", broken)
    yield
    registry.HANDLERS.pop("test_flaky")
    registry.HANDLERS.pop("test_broken")


def _enqueue(kind, payload=None, **kwargs):
    with transaction() as session:
        job = jobs.enqueue(session, kind, payload or {}, **kwargs)
        return job.id if job else None


def test_a_job_is_written_only_if_its_transaction_commits(db):
    with pytest.raises(RuntimeError), transaction() as session:
        jobs.enqueue(session, "probe", {"key": "lost"})
        raise RuntimeError("the cause failed")
    assert db.session.scalars(select(Job)).all() == []


def test_idempotency_key_writes_a_job_once(db):
    first = _enqueue("probe", {"key": "a"}, key="same")
    assert first is not None and _enqueue("probe", {"key": "a"}, key="same") is None


def test_claim_run_finish(db, handlers):
    job_id = _enqueue("test_flaky", {"fail_times": 0})
    assert registry.run_due("w1") == 1
    job = db.session.get(Job, job_id)
    assert (job.status, job.attempts, job.locked_by) == (JobStatus.DONE, 1, None)
    assert registry.run_due("w1") == 0


def test_failures_back_off_then_succeed(db, handlers, fake_clock):
    job_id = _enqueue("test_flaky", {"fail_times": 2})
    registry.run_due("w1")
    job = db.session.get(Job, job_id)
    assert job.status == JobStatus.PENDING and "SMTP down" in job.last_error
    first_delay = job.run_at - fake_clock.current
    assert timedelta(seconds=5) <= first_delay <= timedelta(seconds=10)
    assert registry.run_due("w1") == 0  # not due yet
    fake_clock.advance(seconds=11)
    registry.run_due("w1")
    second_delay = db.session.get(Job, job_id).run_at - fake_clock.current
    assert timedelta(seconds=10) <= second_delay <= timedelta(seconds=20)
    fake_clock.advance(seconds=21)
    registry.run_due("w1")
    assert db.session.get(Job, job_id).status == JobStatus.DONE and len(CALLS) == 3


def test_exhausted_retries_fail_visibly_and_alert_admins(db, handlers, fake_clock, user_factory):
    admin = user_factory(["admin"])
    job_id = _enqueue("test_flaky", {"fail_times": 99}, max_attempts=3)
    for _ in range(3):
        registry.run_due("w1")
        fake_clock.advance(hours=1)
    job = db.session.get(Job, job_id)
    assert job.status == JobStatus.FAILED and job.attempts == 3
    assert job.first_failed_at < job.last_failed_at
    alert = db.session.scalars(select(Notification).where(Notification.user_id == admin.id)).one()
    assert alert.kind == "job_failed" and "SMTP down" in alert.body
    assert [j.id for j in jobs.list_jobs("failed")] == [job_id]
    jobs.retry_job(job_id, admin)
    assert db.session.get(Job, job_id).status == JobStatus.PENDING


def test_permanent_error_fails_at_once_and_can_be_dismissed(db, handlers, user_factory):
    job_id = _enqueue("test_broken")
    registry.run_due("w1")
    job = db.session.get(Job, job_id)
    assert job.status == JobStatus.FAILED and job.attempts == 1
    jobs.dismiss_job(job_id, user_factory(["admin"]), "destination removed")
    assert db.session.get(Job, job_id).status == JobStatus.DISMISSED
    with pytest.raises(Conflict):
        jobs.dismiss_job(job_id, None, "again")


def test_unknown_kind_fails_permanently(db):
    job_id = _enqueue("no_such_kind")
    registry.run_due("w1")
    assert db.session.get(Job, job_id).status == JobStatus.FAILED


def test_a_crashed_workers_lease_expires_and_another_worker_finishes_the_job(db, handlers, fake_clock):
    job_id = _enqueue("test_flaky", {})
    assert jobs.claim_jobs("crashed", lease_seconds=60) == [job_id]  # then the worker dies
    assert registry.run_due("w2") == 0
    fake_clock.advance(seconds=61)
    assert registry.run_due("w2") == 1
    job = db.session.get(Job, job_id)
    assert job.status == JobStatus.DONE and job.attempts == 2
    assert jobs.finish_job(job_id, "crashed") is None  # a late finish of the dead worker changes nothing


def test_a_job_sent_by_id_is_claimed_even_while_the_sweep_holds_its_row(committed_app):
    """The Celery sweep marks the jobs it re-sends (an UPDATE that locks their rows) while workers may
    already hold those ids. A worker handed a job id must wait for that lock, not skip the row: the
    message is acknowledged either way, so a skipped job loses its message and waits for a resend."""
    with committed_app.app_context():
        job_id = _enqueue("probe", {"key": "locked"})
        locked, release = threading.Event(), threading.Event()

        def sweep_marking() -> None:
            with committed_app.app_context(), transaction() as session:
                session.execute(update(Job).where(Job.id == job_id).values(dispatched_at=clock.now()))
                locked.set()
                release.wait(10)

        sweep = threading.Thread(target=sweep_marking)
        sweep.start()
        try:
            assert locked.wait(60)
            threading.Timer(0.3, release.set).start()
            assert jobs.claim_jobs("w1", ids=[job_id]) == [job_id]
        finally:
            release.set()
            sweep.join(10)
        assert jobs.claim_jobs("w2", ids=[job_id]) == []  # and, claimed, it is not claimed twice


def test_only_one_holder_of_a_lease(db, fake_clock):
    assert jobs.hold_lease("embedded-worker", "a", 15)
    assert not jobs.hold_lease("embedded-worker", "b", 15)
    assert jobs.hold_lease("embedded-worker", "a", 15)  # renewing
    fake_clock.advance(seconds=16)
    assert jobs.hold_lease("embedded-worker", "b", 15)
    jobs.release_lease("embedded-worker", "b")
    assert jobs.hold_lease("embedded-worker", "a", 15)


def test_commit_listeners_hear_the_ids_of_new_jobs(db):
    heard = []
    jobs.on_jobs_committed(heard.extend)
    try:
        job_id = _enqueue("probe", {"key": "x"})
    finally:
        jobs.remove_listener(heard.extend)
    assert heard == [job_id]


def test_a_retried_job_that_fails_again_is_failed_again_and_alerts_again(db, handlers, user_factory):
    admin = user_factory(["admin"])
    job_id = _enqueue("test_broken")
    registry.run_due("w1")
    jobs.retry_job(job_id, admin)
    registry.run_due("w1")
    assert db.session.get(Job, job_id).status == JobStatus.FAILED
    alerts = db.session.scalars(select(Notification).where(Notification.user_id == admin.id,
                                                           Notification.kind == "job_failed")).all()
    assert len(alerts) == 2
