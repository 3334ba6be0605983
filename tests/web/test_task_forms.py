"""Bad form values are shown next to their fields with what was typed kept, and change nothing."""

from __future__ import annotations

import re

from sqlalchemy import select

from app.models import AuditEvent, HumanTask, TaskStatus
from tests.web.scenario import FORMS, act_as, field_errors, open_task, start_incident, submit


def test_invalid_register_form_shows_errors_next_to_fields_and_keeps_input(app, db, user_factory):
    monitor = act_as(app, user_factory(["monitor"]))
    instance = start_incident(monitor)
    response = submit(monitor, instance, "ut_register", title="", views="十二万", url="ftp://x.example/1",
                      spread_speed="warp", summary="保留这段摘要<script>alert(1)</script>")
    assert response.status_code == 422
    page = response.get_data(as_text=True)
    errors = field_errors(page)
    assert "此项为必填项" in " ".join(errors["title"])
    assert errors["views"] and errors["url"] and errors["spread_speed"]
    assert "保留这段摘要&lt;script&gt;" in page and "<script>alert(1)" not in page
    assert 'value="十二万"' in page
    task = open_task(instance, "ut_register")
    assert task.status == TaskStatus.OPEN and task.submitted is None
    assert db.session.scalars(select(AuditEvent.action).where(
        AuditEvent.instance_id == instance.id, AuditEvent.action == "task_completed")).all() == []


def test_conditional_rule_requires_a_reason_when_the_level_differs(app, db, user_factory):
    monitor = act_as(app, user_factory(["monitor"]))
    office = act_as(app, user_factory(["office_director"]))
    instance = start_incident(monitor)
    assert submit(monitor, instance, "ut_register").status_code == 302
    response = submit(office, instance, "ut_confirm_level", confirmed_level="3")  # proposal was 4
    assert response.status_code == 422
    assert field_errors(response.get_data(as_text=True))["level_change_reason"]
    assert open_task(instance, "ut_confirm_level").status == TaskStatus.OPEN


def test_discovery_time_may_be_corrected_backwards_only(app, db, user_factory):
    monitor = act_as(app, user_factory(["monitor"]))
    instance = start_incident(monitor)
    later = submit(monitor, instance, "ut_register", discovered_at="2026-11-25T09:20")
    assert later.status_code == 422
    assert "不能晚于登记开始时间" in " ".join(field_errors(later.get_data(as_text=True))["discovered_at"])
    earlier = submit(monitor, instance, "ut_register", discovered_at="2026-11-25T08:40")
    assert earlier.status_code == 302


def test_a_draft_keeps_what_was_typed_without_validating(app, db, user_factory):
    monitor = act_as(app, user_factory(["monitor"]))
    instance = start_incident(monitor)
    task = open_task(instance, "ut_register")
    response = monitor.post(f"/tasks/{task.public_id}", {"title": "半截标题", "views": "abc", "_action": "draft"})
    assert response.status_code == 302
    page = monitor.get(f"/tasks/{task.public_id}").get_data(as_text=True)
    assert 'value="半截标题"' in page and 'value="abc"' in page


def test_a_level_other_than_proposed_needs_a_reason_next_to_the_field(app, db, user_factory):
    monitor = act_as(app, user_factory(["monitor"]))
    office = act_as(app, user_factory(["office_director"]))
    instance = start_incident(monitor)
    assert submit(monitor, instance, "ut_register").status_code == 302
    response = submit(office, instance, "ut_confirm_level", confirmed_level="3")
    assert response.status_code == 422
    page = response.get_data(as_text=True)
    assert "确认等级与系统建议等级不一致,请填写调整理由" in page
    assert re.search(r'name="confirmed_level" value="3"[^>]*checked', page)  # what was chosen is kept
    task = open_task(instance, "ut_confirm_level")  # still open: nothing was changed
    assert task.status == TaskStatus.OPEN
    assert submit(office, instance, "ut_confirm_level", confirmed_level="3",
                  level_change_reason="影响范围比初判更大").status_code == 302


def test_someone_outside_the_lane_cannot_complete_the_task(app, db, user_factory):
    monitor = act_as(app, user_factory(["monitor"]))
    outsider = act_as(app, user_factory(["spokesperson"]))
    instance = start_incident(monitor)
    task = open_task(instance, "ut_register")
    assert outsider.get(f"/tasks/{task.public_id}").status_code == 404
    response = outsider.post(f"/tasks/{task.public_id}", {**FORMS["ut_register"], "_action": "complete"})
    assert response.status_code == 404
    assert db.session.get(HumanTask, task.id).status == TaskStatus.OPEN


def test_claimed_task_is_worked_only_by_its_claimant(app, db, user_factory):
    starter = act_as(app, user_factory(["monitor"]))
    other = act_as(app, user_factory(["monitor"]))
    instance = start_incident(starter)
    task = open_task(instance, "ut_register")
    assert starter.post(f"/tasks/{task.public_id}", {"_action": "claim"}).status_code == 302
    assert db.session.get(HumanTask, task.id).assignee_id == starter.user.id
    response = other.post(f"/tasks/{task.public_id}", {**FORMS["ut_register"], "_action": "complete"})
    assert response.status_code == 409 and "签收" in response.get_data(as_text=True)
    assert starter.post(f"/tasks/{task.public_id}", {"_action": "unclaim"}).status_code == 302
    assert submit(other, instance, "ut_register").status_code == 302
