"""The level-4 (影响较小) path end to end over HTTP, each step by the person whose lane it is."""

from __future__ import annotations

import re

from sqlalchemy import func, select

from app.models import AuditEvent, HumanTask, InstanceStatus, Notification, TaskStatus
from app.operations import timer_firing
from tests.web.scenario import incident_people, open_task, open_tasks, start_incident, submit


def _ok(response):
    assert response.status_code == 302, _errors(response.get_data(as_text=True))
    return response


def _errors(page):
    return re.findall(r'class="field__error[^"]*"[^>]*>([^<]*)<', page) or page[-3000:]


def test_level4_incident_is_worked_to_the_end_in_the_browser(app, db, user_factory, fake_clock):
    people = incident_people(app, user_factory)
    instance = start_incident(people["monitor"])
    assert instance.business_key == "YQ-2026-0001"
    register = open_task(instance, "ut_register")
    page = people["monitor"].get(f"/tasks/{register.public_id}").get_data(as_text=True)
    assert "登记舆情(快报)" in page and "2026-11-25 09:30" in page  # the 30-minute report deadline

    _ok(submit(people["monitor"], instance, "ut_register"))
    confirm = open_task(instance, "ut_confirm_level")
    page = people["office"].get(f"/tasks/{confirm.public_id}").get_data(as_text=True)
    assert "Ⅳ级 影响较小的网络舆情" in page and "网民关注度低" in page  # proposal and its basis
    assert instance.title.startswith("某街道社保窗口")

    _ok(submit(people["office"], instance, "ut_confirm_level"))
    _ok(submit(people["office"], instance, "ut_request_instruction"))
    _ok(submit(people["leader"], instance, "ut_instruction_decision"))
    fake_clock.advance(hours=3)  # 12:00 Shanghai: the meeting, release and follow-up times are past
    _ok(submit(people["section"], instance, "ut_investigate"))
    _ok(submit(people["section"], instance, "ut_consult"))
    _ok(submit(people["publicity"], instance, "ut_draft_release"))
    _ok(submit(people["leader"], instance, "ut_approve_release", release_decision="return",
               release_comment="请补充整改时限。"))
    redraft = open_task(instance, "ut_draft_release")
    page = people["publicity"].get(f"/tasks/{redraft.public_id}").get_data(as_text=True)
    assert "请补充整改时限。" in page and "关于社保窗口服务问题的情况说明" in page  # comment and old draft
    _ok(submit(people["publicity"], instance, "ut_draft_release", release_body="经核实,已于当日整改。"))
    _ok(submit(people["leader"], instance, "ut_approve_release"))
    _ok(submit(people["spokesperson"], instance, "ut_publish_response"))
    _ok(submit(people["commentator"], instance, "ut_follow_up_log", outcome="no_change"))
    assert open_tasks(instance) == []
    assert instance.next_timer_at is not None  # waiting for the next monitoring and follow-up rounds (P1D)
    assert instance.status == InstanceStatus.WAITING

    fake_clock.advance(days=1, minutes=1)  # 12:01 the next day: both daily rounds are due
    assert timer_firing.fire_due_timers() == 1
    assert sorted(t.spec_id for t in open_tasks(instance)) == ["ut_follow_up_log", "ut_monitor_report"]
    _ok(submit(people["monitor"], instance, "ut_monitor_report"))
    _ok(submit(people["commentator"], instance, "ut_follow_up_log"))
    _ok(submit(people["office"], instance, "ut_confirm_subsided"))
    watches = 0
    while not any(t.spec_id == "ut_summary" for t in open_tasks(instance)):  # a watch a day for seven days
        fake_clock.advance(days=1, minutes=1)
        timer_firing.fire_due_timers()
        if any(t.spec_id == "ut_aftermath_watch" for t in open_tasks(instance)):
            _ok(submit(people["office"], instance, "ut_aftermath_watch"))
            watches += 1
    assert watches == 6  # subsided at 12:00 the day before: seven days after that the watch ends
    _ok(submit(people["office"], instance, "ut_summary"))
    _ok(submit(people["leader"], instance, "ut_approve_summary"))
    # The review reads the record as it is now: the summary it follows was approved, so it is done.
    review = people["leader"].page(f"/tasks/{open_task(instance, 'ut_accountability').public_id}")
    line = re.search(r"总结评估:[^<]*", review)
    assert line and "尚未完成" not in line.group(0) and "完成,按时" in line.group(0), line
    _ok(submit(people["leader"], instance, "ut_accountability"))

    assert instance.status == InstanceStatus.COMPLETED
    done = db.session.scalars(select(HumanTask.spec_id).where(
        HumanTask.instance_id == instance.id, HumanTask.status == TaskStatus.COMPLETED)).all()
    assert done.count("ut_draft_release") == 2 and done.count("ut_follow_up_log") == 2
    detail = people["office"].get(f"/instances/{instance.public_id}").get_data(as_text=True)
    assert "已完成" in detail and "办理人" in detail and "请补充整改时限。" in detail
    assert "审批结论" in detail and "退回修改" in detail  # submitted data shown with labels, not codes
    kinds = set(db.session.scalars(select(Notification.kind).where(Notification.instance_id == instance.id)))
    assert {"quick_report", "archive"} <= kinds
    completions = db.session.scalar(select(func.count(AuditEvent.id)).where(
        AuditEvent.instance_id == instance.id, AuditEvent.action == "task_completed"))
    assert completions == len(done)
