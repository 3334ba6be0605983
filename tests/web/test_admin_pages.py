"""Admins retry or dismiss failed jobs and register channels in the browser; people set their contacts."""

from __future__ import annotations

import re

from sqlalchemy import select

from app.db import transaction
from app.jobs import registry
from app.models import Job, JobStatus, NotificationChannel, User
from app.operations import deliveries, instances, jobs
from tests.conftest import login


def _failed_job():
    with transaction() as session:
        job = jobs.enqueue(session, "no_such_kind", {})
    registry.run_due("test")
    return job.id


def test_failures_page_lists_and_retries_and_dismisses(client, db, user_factory):
    login(client, user_factory(["admin"]))
    job_id = _failed_job()
    page = client.get("/admin/failures").get_data(as_text=True)
    assert "no_such_kind" in page and "unknown job kind" in page
    assert client.post(f"/admin/failures/{job_id}", data={"_action": "retry"}).status_code == 302
    assert db.session.get(Job, job_id).status == JobStatus.PENDING
    registry.run_due("test")
    refused = client.post(f"/admin/failures/{job_id}", data={"_action": "dismiss", "reason": ""})
    assert refused.status_code == 302 and db.session.get(Job, job_id).status == JobStatus.FAILED
    client.post(f"/admin/failures/{job_id}", data={"_action": "dismiss", "reason": "测试任务,不再需要"})
    assert db.session.get(Job, job_id).status == JobStatus.DISMISSED


def test_admin_pages_do_not_exist_for_others(client, user_factory):
    login(client, user_factory(["office_director"]))
    assert client.get("/admin/failures").status_code == 404
    assert client.get("/admin/channels").status_code == 404


def test_channel_registration_refuses_ssrf_targets_next_to_the_field(client, db, user_factory):
    login(client, user_factory(["admin"]))
    form = {"name": "本机", "kind": "webhook", "address": "http://127.0.0.1:8080/hook", "kinds": "*"}
    response = client.post("/admin/channels", data=form)
    assert response.status_code == 422
    page = response.get_data(as_text=True)
    assert "field--error" in page and 'value="http://127.0.0.1:8080/hook"' in page
    allowed = client.post("/admin/channels", data={**form, "allow_networks": "127.0.0.0/8", "allow_http": "on"})
    assert allowed.status_code == 302
    channel = db.session.scalars(select(NotificationChannel)).one()
    assert channel.allow_networks == ["127.0.0.0/8"] and channel.allow_http
    client.post(f"/admin/channels/{channel.id}/deactivate")
    assert not db.session.get(NotificationChannel, channel.id).active


def test_people_set_their_own_contacts_and_sms_choice(client, db, user_factory):
    person = user_factory(["monitor"])
    login(client, person)
    bad = client.post("/account/notifications", data={"email": "not an address", "phone": "12", "sms": "urgent"})
    assert bad.status_code == 422 and 'value="not an address"' in bad.get_data(as_text=True)
    ok = client.post("/account/notifications", data={"email": "me@bureau.example", "phone": "13800000000",
                                                      "use_email": "on", "sms": "always"})
    assert ok.status_code == 302
    row = db.session.get(User, person.id)
    assert (row.email, row.phone) == ("me@bureau.example", "13800000000")
    assert 'value="always" selected' in client.get("/account/notifications").get_data(as_text=True)


def _failure_row(page: str, job_id: int) -> str:
    return re.search(rf'<tr data-job="{job_id}">.*?</tr>', page, re.DOTALL).group(0)


def test_each_failed_job_links_its_instance_and_its_channel(client, db, user_factory, fake_clock):
    channel = deliveries.register_channel(deliveries.ChannelSpec(
        "值班群", "webhook", "http://127.0.0.1:8080/hook", allow_networks=("127.0.0.0/8",), allow_http=True), None)
    incident = instances.start_incident(user_factory(["monitor"]))
    fake_clock.advance(minutes=31)  # the quick report is overdue: an urgent notice for the duty group
    instances.fire_due_timers()
    deliveries.deactivate_channel(channel.id, None)  # so its delivery fails for good at once
    with transaction() as session:
        call = jobs.enqueue(session, "call_system", {"instance_id": incident.id, "task_guid": "g", "element": "st",
                                                     "channel": "上级报送系统", "payload": {}})
    other = _failed_job()
    registry.run_due("test")
    delivery_job = db.session.scalar(select(Job.id).where(Job.kind == deliveries.JOB_KIND))

    login(client, user_factory(["admin"]))
    page = client.get("/admin/failures").get_data(as_text=True)
    row = _failure_row(page, delivery_job)
    assert "通知发送" in row and f'<a href="/instances/{incident.public_id}">{incident.business_key}</a>' in row
    assert '<a href="/admin/channels">值班群</a>' in row
    row = _failure_row(page, call.id)
    assert "外部系统调用" in row and f'<a href="/instances/{incident.public_id}">{incident.business_key}</a>' in row
    assert '<a href="/admin/channels">上级报送系统</a>' in row  # named by the diagram, not registered yet
    assert "/instances/" not in _failure_row(page, other) and "/admin/channels" not in _failure_row(page, other)
