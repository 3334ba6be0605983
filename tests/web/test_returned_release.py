"""A draft the approver returns (a 通稿, a monthly report) goes back to the person who wrote it, over HTTP as
people work it."""

from __future__ import annotations

import re
from datetime import datetime

from sqlalchemy import select

from app import clock
from app.models import HumanTask
from app.operations import schedules, timer_firing
from tests.web.scenario import act_as, open_task, start_incident, submit


def _ok(response):
    assert response.status_code == 302, re.findall(r'class="field__error[^"]*"[^>]*>([^<]*)<',
                                                   response.get_data(as_text=True))
    return response


def _row(page: str, name: str) -> str:
    """The worklist row that names the task `name` ('' if none)."""
    rows = re.findall(r"<tr[^>]*>.*?</tr>", page, re.S)
    return next((row for row in rows if name in row), "")


def _to_the_release(app, user_factory):
    people = {
        "monitor": act_as(app, user_factory(["monitor"], "monitor")),
        "office": act_as(app, user_factory(["office_director", "office_staff"], "office")),
        "leader": act_as(app, user_factory(["group_leader"], "leader")),
        "section": act_as(app, user_factory(["section_head", "consultation_member"], "section",
                                            unit="social_insurance")),
        "drafter": act_as(app, user_factory(["team_publicity"], "drafter", "宣传组 甲")),
        "colleague": act_as(app, user_factory(["team_publicity"], "colleague", "宣传组 乙")),
    }
    user_factory(["spokesperson"], "spokesperson")  # the draft names them
    instance = start_incident(people["monitor"])
    for person, spec in (("monitor", "ut_register"), ("office", "ut_confirm_level"),
                         ("office", "ut_request_instruction"), ("leader", "ut_instruction_decision"),
                         ("section", "ut_investigate"), ("section", "ut_consult")):
        _ok(submit(people[person], instance, spec))
    return people, instance


def test_a_returned_release_goes_back_to_its_drafter(app, db, user_factory, fake_clock):
    people, instance = _to_the_release(app, user_factory)
    first = open_task(instance, "ut_draft_release")
    group = people["colleague"].get("/tasks?view=group").get_data(as_text=True)
    assert "未签收" in _row(group, "起草通稿")  # the first draft is the group's to take
    page = people["drafter"].get(f"/tasks/{first.public_id}").get_data(as_text=True)
    assert "审批意见(退回时)" not in page and "上级审核意见" not in page  # nothing returned, no superior here
    _ok(submit(people["drafter"], instance, "ut_draft_release"))
    approval = people["leader"].get(f"/tasks/{open_task(instance, 'ut_approve_release').public_id}").get_data(
        as_text=True)
    assert "通稿正文" in approval and "上级审核单位" not in approval  # a level Ⅳ release has no superior review
    assert first.public_id != open_task(instance, "ut_approve_release").public_id
    _ok(submit(people["leader"], instance, "ut_approve_release", release_decision="return",
               release_comment="请补充整改时限。"))

    mine = people["drafter"].get("/tasks?view=mine").get_data(as_text=True)
    assert 'data-testid="mine"' in _row(mine, "起草通稿")  # back in the drafter's own list
    seen = _row(people["colleague"].get("/tasks?view=group").get_data(as_text=True), "起草通稿")
    assert "由 宣传组 甲 办理中" in seen and "未签收" not in seen  # the group sees who has it
    redraft = open_task(instance, "ut_draft_release")
    page = people["drafter"].get(f"/tasks/{redraft.public_id}").get_data(as_text=True)
    assert "请补充整改时限。" in page and "审批意见(退回时)" in page
    refused = submit(people["colleague"], instance, "ut_draft_release")
    assert refused.status_code != 302
    _ok(submit(people["drafter"], instance, "ut_draft_release", release_body="经核实,已于当日整改。"))
    assert open_task(instance, "ut_approve_release").assignee_id is None  # the approval stays the group's



def test_a_returned_monthly_report_goes_back_to_its_author(app, db, user_factory, fake_clock):
    author = act_as(app, user_factory(["office_staff"], "author", "办公室 甲"))
    colleague = act_as(app, user_factory(["office_staff"], "colleague", "办公室 乙"))
    leader = act_as(app, user_factory(["group_leader"], "leader"))
    assert schedules.ensure_scheduled() >= 1
    fake_clock.set(datetime(2026, 12, 1, 9, 0, 1, tzinfo=clock.SHANGHAI))  # the analysis of November starts
    assert timer_firing.fire_due_timers() >= 1
    draft = db.session.scalars(select(HumanTask).where(HumanTask.spec_id == "ut_draft_monthly")).one()
    instance = draft.instance
    _ok(submit(author, instance, "ut_draft_monthly", overview="本月舆情总体平稳。", key_incidents="无。",
               risks="年末社保缴费集中。", suggestions="加强窗口服务。"))
    _ok(submit(leader, instance, "ut_approve_monthly", monthly_decision="return", monthly_comment="请补充风险研判。"))
    mine = author.get("/tasks?view=mine").get_data(as_text=True)
    assert 'data-testid="mine"' in _row(mine, "编写月度分析研判报告")
    seen = _row(colleague.get("/tasks?view=group").get_data(as_text=True), "编写月度分析研判报告")
    assert "由 办公室 甲 办理中" in seen
