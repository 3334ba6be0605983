"""Notices that reach people: a task landing on me or my group, a digest instead of a storm, a reminder
before the due time, links to the task page, and the inbox as the fallback of every channel."""

from __future__ import annotations

import json
import re
from datetime import timedelta

import pytest
from aiosmtpd.controller import Controller
from sqlalchemy import select

from app.db import transaction
from app.jobs import registry
from app.models import Notification, NotificationDelivery, User
from app.operations import deliveries
from tests.notify.loopback import READY_TIMEOUT, RecordingServer, SmtpSink, free_port
from tests.web.scenario import act_as, open_task, open_tasks, start_incident, submit


@pytest.fixture
def mail(app):
    sink, port = SmtpSink(), free_port()
    original = app.config["SMTP"]
    app.config["SMTP"] = {**original, "host": "127.0.0.1", "port": port, "security": "none"}
    controller = Controller(sink, hostname="127.0.0.1", port=port, ready_timeout=READY_TIMEOUT)
    controller.start()
    yield sink
    controller.stop()
    app.config["SMTP"] = original


def _with_email(user, address):
    with transaction() as session:
        session.get(User, user.id).email = address
    return user


def _work(fake_clock, seconds=150, step=30):
    """The worker's rounds over `seconds` of the controlled clock."""
    for _ in range(seconds // step):
        registry.run_due("test-worker", limit=100)
        fake_clock.advance(seconds=step)
    registry.run_due("test-worker", limit=100)


def _inbox(actor):
    return actor.get("/inbox").get_data(as_text=True)


def test_a_registered_incident_reaches_the_office_in_the_inbox_and_by_mail_with_the_task_link(
        app, db, user_factory, fake_clock, mail):
    monitor = act_as(app, user_factory(["monitor"]))
    office = act_as(app, _with_email(user_factory(["office_director"]), "office@bureau.example"))
    instance = start_incident(monitor)
    assert submit(monitor, instance, "ut_register").status_code == 302
    _work(fake_clock)
    task = next(t for t in open_tasks(instance) if "office_director" in t.candidate_roles)
    page = _inbox(office)
    assert "【组内新任务】" + task.name in page
    assert f'value="/tasks/{task.public_id}"' in page  # the inbox opens the task itself
    assert "/instances/" not in page
    mails = [m for m in mail.messages if "【组内新任务】" in str(m["Subject"])]
    assert len(mails) == 1 and "office@bureau.example" in str(mails[0]["To"])
    assert f"/tasks/{task.public_id}" in mails[0].get_content()
    # The level is only the system's proposal until the office grades it, and the notice says so.
    assert "系统建议等级:" in mails[0].get_content() and "(待确认)" in mails[0].get_content()
    assert "事件级别:" not in mails[0].get_content()
    # the monitor, who registered it from the page, is not told about a task of their own doing
    assert "【组内新任务】" not in _inbox(monitor)


def test_several_tasks_within_minutes_make_one_digest_mail(app, db, user_factory, fake_clock, mail):
    monitor = act_as(app, user_factory(["monitor"]))
    _with_email(user_factory(["office_director"]), "office@bureau.example")
    for _ in range(3):
        instance = start_incident(monitor)
        assert submit(monitor, instance, "ut_register").status_code == 302
        fake_clock.advance(seconds=20)
    _work(fake_clock)
    to_office = [m for m in mail.messages if "office@bureau.example" in m["To"]]
    digests = [m for m in to_office if "【待办汇总】您有 3 项新任务" in str(m["Subject"])]
    assert len(digests) == 1, [str(m["Subject"]) for m in to_office]
    assert len(re.findall(r"/tasks/[0-9a-f-]{36}", digests[0].get_content())) == 3
    assert not [m for m in to_office if "【组内新任务】" in str(m["Subject"])]


def test_a_reminder_comes_once_before_the_tasks_own_due_time(app, db, user_factory, fake_clock):
    monitor = act_as(app, user_factory(["monitor"]))
    instance = start_incident(monitor)
    task = open_task(instance, "ut_register")
    assert task.due_at is not None
    _work(fake_clock, seconds=60)
    assert "【即将到期】" not in _inbox(monitor)
    fake_clock.set(task.due_at - timedelta(minutes=5))  # a 30-minute task is reminded 7.5 minutes before
    _work(fake_clock, seconds=60)
    page = _inbox(monitor)
    assert page.count("【即将到期】" + task.name) == 1
    assert f'value="/tasks/{task.public_id}"' in page
    _work(fake_clock, seconds=300)
    assert _inbox(monitor).count("【即将到期】") == 1


def test_no_address_means_the_inbox_only_and_the_settings_page_says_so(app, db, user_factory, fake_clock, mail):
    office = act_as(app, user_factory(["office_director"]))
    page = office.get("/account/notifications").get_data(as_text=True)
    assert "您还没有填写电子邮箱" in page and "只会出现在站内消息中" in page
    monitor = act_as(app, user_factory(["monitor"]))
    instance = start_incident(monitor)
    submit(monitor, instance, "ut_register")
    _work(fake_clock)
    assert "【组内新任务】" in _inbox(office)
    assert not db.session.scalars(select(NotificationDelivery).where(
        NotificationDelivery.user_id == office.user.id)).all()
    office.post("/account/notifications", {"email": "office@bureau.example", "phone": "", "use_email": "on",
                                           "sms": "urgent"})
    page = office.get("/account/notifications").get_data(as_text=True)
    assert "您还没有填写电子邮箱" not in page


def test_process_notices_link_staff_to_their_task_or_the_ledger_never_the_admin_page(
        app, db, user_factory, fake_clock):
    monitor = act_as(app, user_factory(["monitor"]))
    leader = user_factory(["group_leader"])
    instance = start_incident(monitor)
    submit(monitor, instance, "ut_register")
    rows = db.session.scalars(select(Notification).where(Notification.user_id == leader.id)).all()
    assert rows, "the leader is told of a new quick report"
    assert all(row.link.startswith(("/tasks/", "/incidents/")) for row in rows), [r.link for r in rows]


def test_task_notices_follow_their_own_settings(app, db, user_factory, fake_clock, mail):
    office = act_as(app, user_factory(["office_director"]))
    page = office.get("/account/notifications").get_data(as_text=True)
    assert 'name="task_email" checked' in page  # e-mail on by default
    response = office.post("/account/notifications", {"email": "office@bureau.example", "phone": "",
                                                      "use_email": "on", "sms": "urgent", "task_sms": "never"})
    assert response.status_code == 302
    page = office.get("/account/notifications").get_data(as_text=True)
    assert 'name="task_email" checked' not in page and 'name="use_email" checked' in page
    monitor = act_as(app, user_factory(["monitor"]))
    instance = start_incident(monitor)
    submit(monitor, instance, "ut_register")
    _work(fake_clock)
    assert "【组内新任务】" in _inbox(office)  # the inbox always
    assert not [m for m in mail.messages if "office@bureau.example" in str(m["To"]) and "新任务" in str(m["Subject"])]


def test_group_robots_get_task_notices_only_when_they_subscribe_to_them(app, db, user_factory, fake_clock):
    server = RecordingServer().start()
    try:
        deliveries.register_channel(deliveries.ChannelSpec(
            "值班群(全部通知)", "webhook", server.url("/all"), allow_networks=("127.0.0.0/8",), allow_http=True), None)
        deliveries.register_channel(deliveries.ChannelSpec(
            "任务群", "webhook", server.url("/tasks"), kinds=("task",), allow_networks=("127.0.0.0/8",),
            allow_http=True), None)
        user_factory(["office_director"])
        monitor = act_as(app, user_factory(["monitor"]))
        instance = start_incident(monitor)
        submit(monitor, instance, "ut_register")
        _work(fake_clock)
    finally:
        server.stop()
    task_posts = [json.loads(r.body) for r in server.requests if r.path == "/tasks"]
    assert task_posts and all("新任务" in post["subject"] for post in task_posts)
    assert all("/tasks/" in (post["link"] or "") for post in task_posts)
    assert not [r for r in server.requests if r.path == "/all" and "新任务" in json.loads(r.body)["subject"]]


def test_only_a_units_own_task_carries_the_unit_in_its_notice(app, db, user_factory, fake_clock):
    """会商研判 is the office's with the lead unit: its notice names no 承办单位; 调查核实 is the unit's own."""
    people = {"monitor": act_as(app, user_factory(["monitor"])),
              "office": act_as(app, user_factory(["office_director", "office_staff"])),
              "leader": act_as(app, user_factory(["group_leader"])),
              "section": act_as(app, user_factory(["section_head", "section_staff"], unit="social_insurance"))}
    instance = start_incident(people["monitor"])
    for who, spec_id in (("monitor", "ut_register"), ("office", "ut_confirm_level"),
                         ("office", "ut_request_instruction"), ("leader", "ut_instruction_decision")):
        assert submit(people[who], instance, spec_id).status_code == 302
    assert {"ut_consult", "ut_investigate"} <= {t.spec_id for t in open_tasks(instance)}
    _work(fake_clock)
    page = _inbox(people["section"])
    assert "“调查核实”(承办单位:社会保险科)" in page
    assert "“会商研判”" in page and "“会商研判”(承办单位" not in page
    assert "“会商研判”(承办单位" not in _inbox(people["office"])
