"""What a new user's walk through the product found beyond issue 11's list, each kept fixed."""

from __future__ import annotations

import lxml.html
from sqlalchemy import select

from app.extensions import db as _db
from app.models import Notification
from tests.conftest import login
from tests.processes.answers import MONITOR
from tests.processes.levels import at_level
from tests.web.scenario import act_as, start_incident, submit


def test_exports_name_their_charset_once(client, db, user_factory):
    login(client, user_factory(["admin"]))
    for url in ("/ledger/export.csv", "/instances.csv"):
        response = client.get(url, buffered=True)
        assert response.headers["Content-Type"] == "text/csv; charset=utf-8", url


def test_a_ledger_page_past_the_end_shows_the_last_page(app, db, user_factory):
    monitor = act_as(app, user_factory(["monitor"]))
    instance = start_incident(monitor)
    assert submit(monitor, instance, "ut_register").status_code == 302
    office = act_as(app, user_factory(["office_director"]))
    page = office.get("/ledger/?page=99999999999999999999").get_data(as_text=True)
    assert instance.business_key in page and "没有符合条件的事件" not in page


def test_the_regrade_starts_at_the_current_level_and_the_worsening_notice_says_what_worsened(
        client, db, fake_clock, user_factory):
    flow = at_level(4)
    flow.do("ut_request_instruction", request_text="请示", proposed_measures="措施")
    flow.do("ut_instruction_decision", decision="approve")
    fake_clock.advance(days=1, minutes=1)
    flow.fire_timers()
    flow.do("ut_monitor_report", **{**MONITOR, "worsening": True, "worsening_desc": "话题登上本地热搜"})
    body = _db.session.scalar(select(Notification.body).where(Notification.kind == "worsening"))
    assert "话题登上本地热搜" in body and "舆情监测或跟踪引导中" in body
    login(client, user_factory(["group_leader"]))
    page = lxml.html.fromstring(client.get(f"/tasks/{flow.task('ut_regrade').public_id}").get_data(as_text=True))
    checked = page.xpath('//input[@name="confirmed_level"][@checked]/@value')
    assert checked == ["4"]  # as the hint says: prefilled with the current level
