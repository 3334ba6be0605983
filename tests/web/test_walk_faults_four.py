"""What a fourth walk of the product found, each kept fixed over HTTP: a registration left unsubmitted can be
withdrawn by its registrant and then appears nowhere an incident is counted."""

from __future__ import annotations

import re

from sqlalchemy import select

from app.extensions import db as _db
from app.models import AuditEvent
from tests.web.scenario import act_as, open_task, start_incident, submit


def _text(html: str) -> str:
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", html))


def _ok(response):
    assert response.status_code == 302, response.get_data(as_text=True)[-2000:]
    return response


# -- 撤销登记: a registration never submitted can be withdrawn ----------------------------------------------


def test_the_registrant_withdraws_an_unsubmitted_registration_and_it_is_counted_nowhere(
        app, db, user_factory, fake_clock):
    monitor = act_as(app, user_factory(["monitor"], "monitor"))
    office = act_as(app, user_factory(["office_director", "office_staff"], "office"))
    admin = act_as(app, user_factory(["admin"], "root"))
    kept = start_incident(monitor)
    _ok(submit(monitor, kept, "ut_register"))
    left = start_incident(monitor)
    number = left.business_key
    task = open_task(left, "ut_register")
    page = monitor.page(f"/tasks/{task.public_id}")
    assert 'data-testid="withdraw"' in page and "撤销登记" in page
    assert "确定撤销这次登记吗" in page  # asks before it withdraws
    assert number in _text(office.page("/ledger/"))  # before: the unsubmitted incident is listed

    response = _ok(monitor.post(f"/tasks/{task.public_id}", {"_action": "withdraw"}))
    assert response.headers["Location"].endswith("/tasks")
    assert f"已撤销登记 {number}。该编号不再使用" in monitor.page("/tasks")

    fake_clock.advance(hours=1)  # its quick report would have been missed by now
    ledger = _text(office.page("/ledger/"))
    assert number not in ledger and kept.business_key in ledger and "共 1 起" in ledger
    statistics = _text(office.page("/ledger/statistics"))
    assert "未定级 1 " in statistics  # the kept one only
    assert "快报(发现后30分钟内) 1 1 0 0 100%" in statistics  # the withdrawn one is no missed quick report
    assert office.get(f"/ledger/{number}").status_code == 404
    instance_page = _text(admin.page(f"/instances/{left.public_id}"))
    assert "已撤销" in instance_page
    assert _db.session.scalar(select(AuditEvent.action).where(
        AuditEvent.instance_id == left.id, AuditEvent.action == "registration_withdrawn")) is not None
    again = start_incident(monitor)
    assert again.business_key != number and again.business_key > number  # a withdrawn number is not reused


def test_a_submitted_quick_report_cannot_be_withdrawn_and_others_are_not_offered_it(
        app, db, user_factory, fake_clock):
    monitor = act_as(app, user_factory(["monitor"], "monitor"))
    office = act_as(app, user_factory(["office_director", "office_staff"], "office"))
    instance = start_incident(monitor)
    task = open_task(instance, "ut_register")
    assert 'data-testid="withdraw"' not in office.page(f"/tasks/{task.public_id}")
    assert office.post(f"/tasks/{task.public_id}", {"_action": "withdraw"}).status_code in (404, 409)
    _ok(submit(monitor, instance, "ut_register"))
    confirm = open_task(instance, "ut_confirm_level")
    _ok(office.post(f"/tasks/{confirm.public_id}", {"_action": "claim"}))
    assert 'data-testid="withdraw"' not in office.page(f"/tasks/{confirm.public_id}")
    assert office.post(f"/tasks/{confirm.public_id}", {"_action": "withdraw"}).status_code == 409
    assert instance.business_key in _text(office.page("/ledger/"))
