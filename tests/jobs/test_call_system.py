"""Asynchronous service tasks (`call_system`): the instance waits at the task, the job calls the
registered system with no transaction open, and the answer resumes the instance exactly once; an
unreachable system is retried, a missing channel is a visible failure, nothing is lost."""

from __future__ import annotations

import json

import pytest
from sqlalchemy import select

from app.db import transaction
from app.extensions import db
from app.jobs import registry
from app.models import AuditEvent, HumanTask, Job, JobStatus, NotificationChannel, ProcessInstance, TaskStatus
from app.operations import deliveries, deploy, instance_views, instances, interventions, jobs
from tests.conftest import ROOT, make_user
from tests.notify.loopback import RecordingServer, Reply

CALL = (ROOT / "tests" / "jobs" / "data" / "t_call.bpmn").read_bytes()


@pytest.fixture
def system():
    server = RecordingServer().start()
    yield server
    server.stop()


@pytest.fixture
def setup(db, system):
    processes, forms = deploy.read_directory(ROOT / "processes", ROOT / "forms")
    deploy.deploy_processes({**processes, "t_call.bpmn": CALL}, forms)
    admin = make_user(["admin"])
    deliveries.register_channel(deliveries.ChannelSpec(
        name="superior_system", kind="webhook", address=system.url("/reports"), kinds=("system",),
        allow_networks=("127.0.0.0/8",), allow_http=True), admin)
    return admin, make_user(["office_staff"])


def _fresh(instance):
    db.session.expire_all()
    return db.session.get(ProcessInstance, instance.id)


def _open(instance, spec_id):
    return db.session.scalar(select(HumanTask).where(HumanTask.instance_id == instance.id,
                                                     HumanTask.spec_id == spec_id, HumanTask.status == TaskStatus.OPEN))


def _job(instance):
    db.session.expire_all()
    jobs_ = db.session.scalars(select(Job).where(Job.kind == "call_system")).all()
    return next(job for job in jobs_ if job.payload["instance_id"] == instance.id)


def test_the_answer_resumes_the_waiting_task(setup, system):
    _admin, staff = setup
    system.replies["/reports"] = Reply(200, json.dumps({"receipt": "SB-2026-0042"}).encode())
    instance = instances.start_instance("t_call", staff, {"title": "某舆情"})
    assert _fresh(instance).status == "waiting" and _open(instance, "ut_check_receipt") is None
    status = instance_views.instance_diagram(_fresh(instance))["processes"][0]["status"]
    assert status["st_report"]["status"] == "active"  # waiting for the answer
    registry.run_due("test")
    sent = json.loads(system.requests[0].body)
    assert sent == {"title": "某舆情", "level": 4}
    assert system.requests[0].headers["Idempotency-Key"] == f"call-system-{instance.id}-" + \
        _job(instance).payload["task_guid"]
    task = _open(instance, "ut_check_receipt")
    assert task is not None
    assert task.context["report_answer"] == {"status": 200, "body": {"receipt": "SB-2026-0042"}}
    registry.run_due("test")  # nothing left; a repeated job would find the task already resumed
    assert len(system.requests) == 1


def test_an_unreachable_system_is_retried_and_the_instance_waits(setup, system, fake_clock):
    _admin, staff = setup
    system.replies["/reports"] = Reply(503, b"{}")
    instance = instances.start_instance("t_call", staff, {"title": "某舆情"})
    registry.run_due("test")
    job = _job(instance)
    assert job.status == JobStatus.PENDING and job.attempts == 1 and "503" in job.last_error
    assert _open(instance, "ut_check_receipt") is None
    system.replies["/reports"] = Reply(200, b'{"receipt": "late"}')
    fake_clock.advance(minutes=5)
    registry.run_due("test")
    assert _open(instance, "ut_check_receipt").context["report_answer"]["body"] == {"receipt": "late"}
    assert len({r.headers["Idempotency-Key"] for r in system.requests}) == 1  # the same key on the retry


def test_a_missing_channel_is_a_visible_failure_that_can_be_retried(setup, system):
    admin, staff = setup
    channel = db.session.scalar(select(NotificationChannel).where(NotificationChannel.name == "superior_system"))
    with transaction():
        channel.name = "superior_system_old"  # as if the admin had not registered it yet
    instance = instances.start_instance("t_call", staff, {"title": "某舆情"})
    registry.run_due("test")
    job = _job(instance)
    assert job.status == JobStatus.FAILED and "superior_system" in job.last_error
    assert _fresh(instance).status == "waiting"  # nothing lost: it still waits at the call
    assert system.requests == []
    with transaction():
        db.session.get(NotificationChannel, channel.id).name = "superior_system"
    jobs.retry_job(job.id, admin)
    registry.run_due("test")
    assert _open(instance, "ut_check_receipt") is not None


def test_an_answer_for_a_terminated_instance_is_kept_not_applied(setup, system):
    admin, staff = setup
    instance = instances.start_instance("t_call", staff, {"title": "某舆情"})
    interventions.act(instance.public_id, "terminate", None, admin, "误登记")
    registry.run_due("test")
    assert _fresh(instance).status == "terminated"
    kept = db.session.scalars(select(AuditEvent.action).where(AuditEvent.instance_id == instance.id)).all()
    assert "system_answer_kept" in kept
