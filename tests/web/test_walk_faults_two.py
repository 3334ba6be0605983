"""What a second walk of the product as real users found, each kept fixed over HTTP: a report time in the
future, 其他 without the platform typed, a Ⅰ级 notice claiming a step not yet done, 催办 offered to the holder,
the deadlines said twice, a body listed twice and a proposed level shown as if confirmed."""

from __future__ import annotations

import re

from sqlalchemy import select

from app.extensions import db as _db
from app.models import Notification
from tests.web.scenario import act_as, in_english, open_task, start_incident, submit


def _errors(response) -> list[str]:
    return re.findall(r'class="field__error[^"]*"[^>]*>([^<]*)<', response.get_data(as_text=True))


def _ok(response):
    assert response.status_code == 302, _errors(response)
    return response


def _people(app, user_factory):
    return (act_as(app, user_factory(["monitor"], "monitor")),
            act_as(app, user_factory(["office_director", "office_staff"], "office")),
            act_as(app, user_factory(["group_leader"], "leader")))


def _registered(monitor, **changes):
    instance = start_incident(monitor)
    _ok(submit(monitor, instance, "ut_register", **changes))
    return instance


def _panel_heading(page: str) -> str:
    return re.sub(r"<[^>]+>", "", re.search(r"<h2>(事件|Incident) .*?</h2>", page).group(0))


def test_the_task_header_marks_the_proposed_level_and_the_incident_names_the_other_platform(
        app, db, user_factory, fake_clock):
    monitor, office, _leader = _people(app, user_factory)
    instance = _registered(monitor, netizen_attention="extremely_high", platform="other", platform_other="B站")
    task = open_task(instance, "ut_confirm_level")
    heading = _panel_heading(office.page(f"/tasks/{task.public_id}"))
    assert heading == "事件 YQ-2026-0001 · Ⅰ级 特别重大网络舆情 (系统建议,待确认)"
    page = monitor.page(f"/incidents/{instance.business_key}")
    assert "<dt>发布平台</dt><dd>其他(B站)</dd>" in page
    ledger = office.page(f"/ledger/{instance.business_key}")
    assert "<dt>发布平台</dt><dd>其他(B站)</dd>" in ledger
    assert "(system's suggestion, to be confirmed)" in _panel_heading(
        in_english(office).page(f"/tasks/{task.public_id}"))


def test_a_confirmed_level_is_shown_without_the_mark(app, db, user_factory, fake_clock):
    monitor, office, leader = _people(app, user_factory)
    instance = _registered(monitor)
    _ok(submit(office, instance, "ut_confirm_level", confirmed_level="2", level_change_reason="核实后调整"))
    task = open_task(instance, "ut_leader_confirm")
    assert _panel_heading(leader.page(f"/tasks/{task.public_id}")) == "事件 YQ-2026-0001 · Ⅱ级 重大或较大网络舆情"


def test_the_holder_is_not_offered_to_urge_their_own_task(app, db, user_factory, fake_clock):
    monitor, office, _leader = _people(app, user_factory)
    instance = _registered(monitor)
    task = open_task(instance, "ut_confirm_level")
    # unsigned, but the office may sign for it: urging the group would urge themselves (decision 140)
    assert 'data-testid="urge"' not in office.page(f"/tasks/{task.public_id}")
    _ok(office.post(f"/tasks/{task.public_id}", {"_action": "claim"}))
    page = office.page(f"/tasks/{task.public_id}")
    assert "签收人" in page and 'data-testid="urge"' not in page
    colleague = act_as(app, user_factory(["office_staff"], "colleague"))
    assert 'data-testid="urge"' in colleague.page(f"/tasks/{task.public_id}")


def _at_level2_report(app, user_factory):
    monitor, office, leader = _people(app, user_factory)
    instance = _registered(monitor)
    _ok(submit(office, instance, "ut_confirm_level", confirmed_level="2", level_change_reason="核实后调整"))
    _ok(submit(leader, instance, "ut_leader_confirm", confirmed_level="2", level_change_reason="同意",
               start_plan="true"))
    return office, instance


REPORT = {"report_to": ["市委宣传部", "市委网信办"], "quick_report_to_bodies": ["市委网信办"],
          "report_method": "document"}


def test_the_external_report_refuses_a_time_still_to_come_and_names_each_body_once(
        app, db, user_factory, fake_clock):
    office, instance = _at_level2_report(app, user_factory)
    response = submit(office, instance, "ut_external_report", **REPORT, reported_at="2026-11-25T09:08")
    assert response.status_code == 422 and "报送时间不能晚于当前时间" in _errors(response)
    _ok(submit(office, instance, "ut_external_report", **REPORT, reported_at="2026-11-25T09:00"))
    ledger = office.page(f"/ledger/{instance.business_key}")
    assert '<td data-label="报送单位">市委宣传部、市委网信办</td>' in ledger  # 市委网信办 once, not twice


def test_the_leader_keeping_the_deadlines_does_not_repeat_them(app, db, user_factory, fake_clock):
    office, instance = _at_level2_report(app, user_factory)
    page = office.page(f"/incidents/{instance.business_key}")
    assert page.count("<strong>处置时限</strong>:快报") == 1


def test_the_level1_notice_does_not_claim_the_request_to_superiors_was_made(app, db, user_factory, fake_clock):
    monitor, office, leader = _people(app, user_factory)
    instance = _registered(monitor)
    _ok(submit(office, instance, "ut_confirm_level", confirmed_level="1", level_change_reason="核实后调整"))
    _ok(submit(leader, instance, "ut_leader_confirm", confirmed_level="1", level_change_reason="同意",
               start_plan="true"))
    open_task(instance, "ut_request_superior")  # still to do
    body = _db.session.scalar(select(Notification.body).where(Notification.kind == "level1_reported").limit(1))
    assert "已向上级请示" not in body and "领导小组组长须立即向上级请示" in body
    assert "领导小组组长须立即向上级请示" in leader.page("/inbox")
