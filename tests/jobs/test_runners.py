"""The same job suite under the embedded runner and under Celery workers on Redis."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import func, select

from app.extensions import db
from app.jobs.embedded import EmbeddedWorker
from app.models import Job, JobStatus, Notification
from app.operations import clock as clock_ops
from app.operations import instances, jobs, schedules, users
from tests.conftest import PASSWORD
from tests.jobs.conftest import PATIENCE, START, CountingWorker, wait_for
from tests.processes.answers import CONFIRM, REGISTER, REQUEST
from tests.processes.flow import Flow


def _starter(app):
    with app.app_context():
        users.create_user("starter", "监控员", PASSWORD, ["monitor", "office_director"],
                          must_change_password=False, check_strength=False)
        return users.authenticate("starter", PASSWORD)


def _count(kind):
    return db.session.scalar(select(func.count(Notification.id)).where(Notification.kind == kind))


def test_a_queued_job_runs(runner):
    with runner.app.app_context():
        jobs.enqueue_probe("hello")
        assert wait_for(lambda: jobs.probe_seen("hello"))
        assert wait_for(lambda: db.session.scalar(select(Job.status)) == JobStatus.DONE)


def test_the_quick_report_timer_fires_once_it_is_due_and_not_before(runner):
    """When it fires is the controlled clock's business; how fast (the lag) is bench/timers.py's."""
    app = runner.app
    starter = _starter(app)
    with app.app_context():
        instance = instances.start_incident(starter)
        assert instance.next_timer_at == START + timedelta(minutes=30)
        clock_ops.set_clock(START + timedelta(minutes=29))
        runner.wait_for_round()  # the runner looked at 09:29 and found nothing due
        assert _count("report_overdue") == 0
        clock_ops.set_clock(START + timedelta(minutes=30, seconds=1))
        assert wait_for(lambda: _count("report_overdue") > 0)


def test_a_12_hour_deadline_still_fires_when_the_runner_restarted_in_the_middle(runner):
    app = runner.app
    with app.app_context():
        flow = Flow("yq_incident", incident=True)
        flow.do("ut_register", **REGISTER)
        flow.do("ut_confirm_level", **CONFIRM)
        flow.do("ut_request_instruction", **REQUEST)
        flow.do("ut_instruction_decision", decision="approve")
        assert flow.task("ut_consult").due_at == START + timedelta(hours=12)  # first response, 12 h
        clock_ops.set_clock(START + timedelta(hours=6))
        runner.stop()  # down in the middle of the deadline
        clock_ops.set_clock(START + timedelta(hours=12, minutes=5))
        assert _count("release_overdue") == 0
        runner.start()
        assert wait_for(lambda: _count("release_overdue") > 0)
        recipients = _count("release_overdue")
        runner.wait_for_round()
        assert _count("release_overdue") == recipients  # once: later rounds at the same time add nothing


def test_the_embedded_worker_wakes_at_once_after_a_commit_that_wrote_jobs(runner_app):
    worker = CountingWorker(runner_app, poll=3600, lease_seconds=7200).start()
    try:
        with runner_app.app_context():
            assert wait_for(lambda: worker.rounds == 1)  # the first (idle) round is over; it sleeps an hour
            jobs.enqueue_probe("wake")
            assert wait_for(lambda: jobs.probe_seen("wake"), timeout=PATIENCE)  # far less than one poll
    finally:
        worker.stop()


def test_only_one_embedded_worker_works_while_it_holds_the_lease(runner_app):
    first = EmbeddedWorker(runner_app, poll=30, lease_seconds=60)
    second = EmbeddedWorker(runner_app, poll=30, lease_seconds=60)
    with runner_app.app_context():
        schedules.ensure_scheduled()  # the shipped monthly analysis's waiting instance is not this test's work
        jobs.enqueue_probe("lease")
        assert first.tick() == 1
        jobs.enqueue_probe("lease-2")
        assert second.tick() == 0  # the lease is the first worker's
        assert not jobs.probe_seen("lease-2")
        jobs.release_lease("embedded-worker", first.name)
        assert second.tick() == 1
