"""The same job suite under the embedded runner and under Celery workers on Redis."""

from __future__ import annotations

import time
from datetime import timedelta

from sqlalchemy import func, select

from app.extensions import db
from app.jobs.embedded import EmbeddedWorker
from app.models import Job, JobStatus, Notification
from app.operations import clock as clock_ops
from app.operations import instances, jobs, schedules, users
from tests.conftest import PASSWORD
from tests.jobs.conftest import START, wait_for
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
        assert wait_for(lambda: jobs.probe_seen("hello"), timeout=20)
        assert wait_for(lambda: db.session.scalar(select(Job.status)) == JobStatus.DONE, timeout=10)


def test_the_quick_report_timer_fires_within_one_poll_of_its_due_time(runner):
    app = runner.app
    starter = _starter(app)
    with app.app_context():
        instance = instances.start_incident(starter)
        assert instance.next_timer_at == START + timedelta(minutes=30)
        clock_ops.set_clock(START + timedelta(minutes=29))
        assert not wait_for(lambda: _count("report_overdue") > 0, timeout=runner.poll * 3)
        clock_ops.set_clock(START + timedelta(minutes=30, seconds=1))
        # one poll (plus the second the other process may take to see the new clock) and some slack
        assert wait_for(lambda: _count("report_overdue") > 0, timeout=runner.poll + 3)


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
        assert not wait_for(lambda: _count("release_overdue") > 0, timeout=1)
        runner.start()
        assert wait_for(lambda: _count("release_overdue") > 0, timeout=runner.poll + 15)
        recipients = _count("release_overdue")
        assert not wait_for(lambda: _count("release_overdue") > recipients, timeout=runner.poll * 2)  # once


def test_the_embedded_worker_wakes_at_once_after_a_commit_that_wrote_jobs(runner_app):
    worker = EmbeddedWorker(runner_app, poll=30, lease_seconds=60).start()
    try:
        with runner_app.app_context():
            assert worker.thread.is_alive()
            time.sleep(0.5)  # let the first (idle) round finish; from now on it sleeps for 30 s
            jobs.enqueue_probe("wake")
            assert wait_for(lambda: jobs.probe_seen("wake"), timeout=5)  # far less than one poll
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
