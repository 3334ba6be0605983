"""Notifications leave the building: e-mail through a real SMTP server, webhooks to a real receiver,
retried through outages, each message delivered once per idempotency key, SSRF targets refused."""

from __future__ import annotations

import json

import pytest
from aiosmtpd.controller import Controller
from sqlalchemy import select

from app.db import transaction
from app.jobs import registry
from app.models import Job, JobStatus, Notification, NotificationDelivery, User
from app.operations import deliveries, instances, timer_firing
from app.operations.errors import Invalid
from tests.conftest import login
from tests.notify.loopback import READY_TIMEOUT, RecordingServer, Reply, SmtpSink, free_port

LOOPBACK = ("127.0.0.0/8",)


@pytest.fixture
def smtp(app):
    sink, port = SmtpSink(), free_port()
    original = app.config["SMTP"]
    app.config["SMTP"] = {**original, "host": "127.0.0.1", "port": port, "security": "none"}
    yield sink, port
    app.config["SMTP"] = original


def _people(user_factory):
    people = [user_factory(["monitor"]), user_factory(["office_director"])]
    with transaction() as session:
        for index, person in enumerate(people):
            row = session.get(User, person.id)
            row.email, row.phone = f"person{index}@bureau.example", f"1380000000{index}"
    return people


def _overdue_quick_report(user_factory, fake_clock):
    """Start an incident and let its 30-minute quick-report deadline pass: an urgent notification."""
    starter = user_factory(["monitor"])
    instances.start_incident(starter)
    fake_clock.advance(minutes=31)
    assert timer_firing.fire_due_timers() == 1


def _run_until_quiet(fake_clock, minutes, step_seconds=30, on_tick=None):
    for tick in range(int(minutes * 60 / step_seconds)):
        if on_tick:
            on_tick(tick * step_seconds)
        registry.run_due("test-worker", limit=100)
        fake_clock.advance(seconds=step_seconds)


def test_email_is_sent_through_smtp_with_a_stable_message_id(db, smtp, user_factory, fake_clock):
    sink, port = smtp
    controller = Controller(sink, hostname="127.0.0.1", port=port, ready_timeout=READY_TIMEOUT)
    controller.start()
    try:
        _people(user_factory)
        _overdue_quick_report(user_factory, fake_clock)
        _run_until_quiet(fake_clock, minutes=1)
    finally:
        controller.stop()
    emails = db.session.scalars(select(NotificationDelivery).where(NotificationDelivery.channel_kind == "email")).all()
    assert len(emails) == 2 and {d.status for d in emails} == {"sent"}
    assert sorted(m["To"] for m in sink.messages) == ["person0@bureau.example", "person1@bureau.example"]
    assert {m["Message-ID"] for m in sink.messages} == {f"<delivery-{d.id}@yuqing.local>" for d in emails}
    assert "快报超时" in sink.messages[0]["Subject"]


def test_ten_minutes_of_smtp_outage_delay_mail_but_lose_and_double_none(db, smtp, user_factory, fake_clock):
    sink, port = smtp
    _people(user_factory)
    _overdue_quick_report(user_factory, fake_clock)
    controller = Controller(sink, hostname="127.0.0.1", port=port, ready_timeout=READY_TIMEOUT)

    def server_back_after_ten_minutes(elapsed):
        if elapsed == 600:
            controller.start()

    try:
        _run_until_quiet(fake_clock, minutes=40, on_tick=server_back_after_ten_minutes)
    finally:
        controller.stop()
    emails = db.session.scalars(select(NotificationDelivery).where(NotificationDelivery.channel_kind == "email")).all()
    ids = [m["Message-ID"] for m in sink.messages]
    # the two overdue notices, and the notice of the task the timer opened for the office director
    assert sorted(d.kind for d in emails) == ["report_overdue", "report_overdue", "task"]
    assert len(ids) == len(set(ids)) == len(emails) == 3  # every mail once per dedup key
    assert all(d.status == "sent" and d.attempts > 3 for d in emails)
    jobs = db.session.scalars(select(Job).where(Job.kind == deliveries.JOB_KIND)).all()
    assert {j.status for j in jobs} == {JobStatus.DONE}


def test_webhook_and_robot_channels_receive_one_post_per_notification(db, user_factory, fake_clock):
    server = RecordingServer().start()
    try:
        deliveries.register_channel(deliveries.ChannelSpec(
            "值班群", "webhook", server.url("/hook"), secret="s3cret", allow_networks=LOOPBACK, allow_http=True), None)
        deliveries.register_channel(deliveries.ChannelSpec(
            "只收紧急", "webhook", server.url("/urgent"), kinds=("quick_report",), allow_networks=LOOPBACK,
            allow_http=True), None)
        _overdue_quick_report(user_factory, fake_clock)
        _run_until_quiet(fake_clock, minutes=1)
    finally:
        server.stop()
    assert [r.path for r in server.requests] == ["/hook"]  # the second channel wants quick reports only
    request = server.requests[0]
    body = json.loads(request.body)
    assert body["id"] == request.headers["Idempotency-Key"] and body["urgent"] is True
    assert request.headers["Authorization"] == "Bearer s3cret" and "快报超时" in body["subject"]


@pytest.mark.parametrize("address", ["http://127.0.0.1:8080/hook", "http://169.254.169.254/latest/meta-data",
                                     "http://[::ffff:127.0.0.1]:8080/x", "http://10.1.2.3/hook"])
def test_unregistered_networks_and_ssrf_targets_are_refused_at_registration(db, address):
    with pytest.raises(Invalid):
        deliveries.register_channel(deliveries.ChannelSpec("内网", "webhook", address), None)
    assert deliveries.list_channels() == []


def test_a_channel_that_becomes_unreachable_fails_visibly_after_retries(db, user_factory, fake_clock):
    server = RecordingServer().start()
    url = server.url("/hook")
    server.stop()  # registered while up, then gone
    deliveries.register_channel(deliveries.ChannelSpec("坏掉的群", "webhook", url, allow_networks=LOOPBACK,
                                                       allow_http=True), None)
    admin = user_factory(["admin"])
    _overdue_quick_report(user_factory, fake_clock)
    _run_until_quiet(fake_clock, minutes=120, step_seconds=120)
    job = db.session.scalars(select(Job).where(Job.kind == deliveries.JOB_KIND)).one()
    assert job.status == JobStatus.FAILED and job.attempts == deliveries.MAX_ATTEMPTS
    kinds = [n.kind for n in admin_inbox(db, admin)]
    assert "job_failed" in kinds


def admin_inbox(db, admin):
    return db.session.scalars(select(Notification).where(Notification.user_id == admin.id)).all()


def test_sms_goes_only_with_urgent_notifications_unless_the_person_chose_otherwise(db, user_factory, fake_clock):
    server = RecordingServer().start()
    try:
        deliveries.register_channel(deliveries.ChannelSpec("短信平台", "sms", server.url("/sms"),
                                                           allow_networks=LOOPBACK, allow_http=True), None)
        _monitor, office = _people(user_factory)
        deliveries.set_preference(office.id, "*", email=True, sms="never")
        _overdue_quick_report(user_factory, fake_clock)  # urgent
        _run_until_quiet(fake_clock, minutes=1)
    finally:
        server.stop()
    sent_to = [json.loads(r.body)["to"] for r in server.requests]
    assert sent_to == ["13800000000"]


def test_a_delivery_fails_with_its_job_and_is_pending_again_when_an_admin_retries_it(db, client, user_factory,
                                                                                    fake_clock):
    server = RecordingServer().start()
    server.replies["/hook"] = Reply(status=503, body=b'{"errmsg": "busy"}')
    try:
        deliveries.register_channel(deliveries.ChannelSpec("值班群", "webhook", server.url("/hook"),
                                                           allow_networks=LOOPBACK, allow_http=True), None)
        admin = user_factory(["admin"])
        _overdue_quick_report(user_factory, fake_clock)
        _run_until_quiet(fake_clock, minutes=120, step_seconds=120)
        job = db.session.scalars(select(Job).where(Job.kind == deliveries.JOB_KIND)).one()
        delivery = db.session.scalars(select(NotificationDelivery)).one()
        assert job.status == JobStatus.FAILED and job.attempts == deliveries.MAX_ATTEMPTS
        assert (delivery.status, delivery.attempts) == ("failed", deliveries.MAX_ATTEMPTS)
        assert "503" in delivery.last_error and delivery.last_error == job.last_error

        server.replies["/hook"] = Reply()  # the group robot is back
        login(client, admin)
        assert client.post(f"/admin/failures/{job.id}", data={"_action": "retry"}).status_code == 302
        db.session.expire_all()
        assert db.session.get(NotificationDelivery, delivery.id).status == "pending"
        _run_until_quiet(fake_clock, minutes=1)
    finally:
        server.stop()
    db.session.expire_all()
    delivery = db.session.get(NotificationDelivery, delivery.id)
    assert (delivery.status, delivery.last_error) == ("sent", None)
    assert len(server.requests) == deliveries.MAX_ATTEMPTS + 1
