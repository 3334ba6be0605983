"""A Celery worker killed with SIGKILL in the middle of a batch of mails: a restarted worker finishes
everything; nothing is lost, and nothing is sent twice beyond the jobs that were in flight."""

from __future__ import annotations

import asyncio
from datetime import timedelta

import pytest
from aiosmtpd.controller import Controller
from sqlalchemy import func, select

from app.db import transaction
from app.extensions import db
from app.models import Job, JobStatus, User
from app.operations import clock as clock_ops
from app.operations import deliveries, users
from tests.conftest import PASSWORD
from tests.jobs.conftest import CeleryRunner, wait_for
from tests.notify.loopback import READY_TIMEOUT, SmtpSink, free_port

MAILS = 60
IN_FLIGHT = 4  # two pool processes, each may have one job claimed and one prefetched


class SlowSink(SmtpSink):
    async def handle_DATA(self, server, session, envelope):
        await asyncio.sleep(0.1)  # the batch takes seconds: the kill lands in its middle even on a busy machine
        return await super().handle_DATA(server, session, envelope)


@pytest.fixture
def smtp_server():
    sink, port = SlowSink(), free_port()
    controller = Controller(sink, hostname="127.0.0.1", port=port, ready_timeout=READY_TIMEOUT)
    controller.start()
    yield sink, port
    controller.stop()


def _queue_mails(app, count):
    with app.app_context():
        person = users.create_user("receiver", "收件人", PASSWORD, ["monitor"], must_change_password=False,
                                   check_strength=False)
        with transaction() as session:
            session.get(User, person.id).email = "receiver@bureau.example"
        with transaction() as session:
            person = session.get(User, person.id)
            for number in range(count):
                notice = deliveries.Notice(kind="test", subject=f"消息 {number}", body="正文", urgent=False, link="")
                deliveries.plan_deliveries(session, notice, [person.id], f"crash-test:{number}")


def test_killed_worker_loses_nothing(runner_app, smtp_server, tmp_path, monkeypatch):
    sink, port = smtp_server
    monkeypatch.setenv("YQ_SMTP_HOST", "127.0.0.1")
    monkeypatch.setenv("YQ_SMTP_PORT", str(port))
    runner_app.config["SMTP"] = {**runner_app.config["SMTP"], "host": "127.0.0.1", "port": port}
    runner = CeleryRunner(runner_app, tmp_path)
    runner.start()  # returns once a worker takes messages: its start-up is not part of the batch
    try:
        _queue_mails(runner_app, MAILS)
        assert wait_for(lambda: len(sink.messages) >= 10)
        runner.kill_worker()
        sent_before_kill = len(sink.messages)
        assert sent_before_kill < MAILS, "the batch finished before the kill; make the sink slower"
        with runner_app.app_context():
            clock_ops.advance_clock(timedelta(minutes=5))  # the dead worker's leases expire
        runner.start_worker_only()
        with runner_app.app_context():
            done = wait_for(lambda: db.session.scalar(select(func.count(Job.id)).where(
                Job.status == JobStatus.DONE)) == MAILS)
            assert done, f"{len(sink.messages)} mails received"
    finally:
        runner.stop()
    ids = [message["Message-ID"] for message in sink.messages]
    assert len(set(ids)) == MAILS  # every mail arrived
    assert len(ids) - MAILS <= IN_FLIGHT  # duplicates only from the jobs in flight at the kill
