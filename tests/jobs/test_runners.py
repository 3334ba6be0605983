"""The same job suite under the embedded runner and under Celery workers on Redis."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import func, select

from app.extensions import db
from app.models import Job, JobStatus, Notification
from app.operations import clock as clock_ops
from app.operations import instances, jobs, users
from tests.conftest import PASSWORD
from tests.jobs.conftest import START, wait_for


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


def test_a_deadline_still_fires_after_the_runner_was_down(runner):
    app = runner.app
    starter = _starter(app)
    with app.app_context():
        instances.start_incident(starter)
        runner.stop()
        clock_ops.set_clock(START + timedelta(hours=12))  # hours past the 30-minute deadline, nobody running
        assert not wait_for(lambda: _count("report_overdue") > 0, timeout=1)
        runner.start()
        assert wait_for(lambda: _count("report_overdue") > 0, timeout=runner.poll + 15)
        assert not wait_for(lambda: _count("report_overdue") > 2, timeout=runner.poll * 2)  # fired once
