"""What a third walk of the product found, each kept fixed over HTTP: the consultation's related information
read when the page shows it, a returned draft's notice saying it was returned, a 转办 reason in the incident's
record, names listed with ", " in English messages and the monthly analysis named in English."""

from __future__ import annotations

import re
from datetime import UTC, datetime

import lxml.html
from sqlalchemy import select

from app.jobs import registry
from app.models import ProcessInstance
from app.operations import schedules, timer_firing
from tests.web import staff_world
from tests.web.scenario import act_as, in_english, open_task, submit
from tests.web.staff_world import ok

people, incident = staff_world.people, staff_world.incident  # fixtures


def _text(html: str) -> str:
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", html))


# -- 转办: the reason is in the incident's record ------------------------------------------------------


def _pass_investigation(db, people, incident, user_factory, app):
    colleague = act_as(app, user_factory(["section_head", "section_staff"], "own_deputy", unit="social_insurance",
                                         display_name="社保副科长"))
    task = open_task(incident, "ut_investigate")
    ok(people["own"].post(f"/tasks/{task.public_id}", {"_action": "claim"}))
    ok(people["own"].post(f"/tasks/{task.public_id}", {"_action": "pass", "pass_to": colleague.user.username,
                                                       "pass_reason": "本人出差,请副科长核实。"}))
    return colleague


def test_a_transfer_and_its_reason_are_in_the_incidents_record(app, db, people, incident, user_factory):
    _pass_investigation(db, people, incident, user_factory, app)
    number = incident.business_key
    for page in (people["office"].page(f"/ledger/{number}"), people["office"].page(f"/incidents/{number}")):
        record = _text(page.split('data-testid="entries"')[1].split("</ol>")[0])
        assert "转办 :“调查核实”转给社保副科长,转办理由:本人出差,请副科长核实。 社保科长" in record
    english = _text(in_english(people["office"]).page(f"/ledger/{number}").split('data-testid="entries"')[1]
                    .split("</ol>")[0])
    assert ("Task passed on : “Investigation and verification” passed on to 社保副科长. Reason: "
            "本人出差,请副科长核实。") in english


def test_an_admins_reassignment_and_its_reason_are_in_the_record_too(app, db, people, incident, user_factory):
    colleague = user_factory(["section_head", "section_staff"], "own_deputy", unit="social_insurance",
                             display_name="社保副科长")
    task = open_task(incident, "ut_investigate")
    db.session.refresh(incident)
    ok(people["admin"].post(f"/instances/{incident.public_id}/tasks/{task.public_id}",
                            {"action": "reassign", "assignee": colleague.username, "reason": "科长住院",
                             "version": incident.version}))
    record = _text(people["office"].page(f"/ledger/{incident.business_key}").split('data-testid="entries"')[1]
                   .split("</ol>")[0])
    assert "转办 :“调查核实”转给社保副科长,转办理由:科长住院" in record


# -- names listed in messages built in Python ---------------------------------------------------------


def test_the_people_told_of_a_comment_are_listed_with_commas_on_an_english_page(db, people, incident):
    number = incident.business_key
    office = in_english(people["office"])
    ok(office.post(f"/incidents/{number}/comments", {"body": "@社保科长 @李组长 @张发言 @nobody_here 请阅",
                                                     "notify_reachable_only": "1"}))
    page = office.page(f"/incidents/{number}")
    assert "Told: 社保科长, 李组长." in page and "、" not in page.split("Told:")[1].split("<")[0]
    assert "As you chose, @张发言, @nobody_here were not notified." in page
    chinese = people["office"]
    with chinese.client.session_transaction() as session:
        session["lang"] = "zh_CN"
    ok(chinese.post(f"/incidents/{number}/comments", {"body": "@社保科长 @李组长 再阅"}))
    assert "已通知:社保科长、李组长。" in chinese.page(f"/incidents/{number}")


# -- the consultation shows the investigation's result once it is in ---------------------------------------


def _context(page: str) -> dict[str, str]:
    section = page.split('<section class="context">')[1].split("</section>", maxsplit=1)[0]
    return {_text(dt).strip(): _text(dd).strip()
            for dt, dd in re.findall(r"<dt>(.*?)</dt>\s*<dd>(.*?)</dd>", section, re.S)}


def test_the_consultation_shows_the_findings_the_section_submitted_after_it_opened(db, people, incident,
                                                                                     fake_clock):
    consult = open_task(incident, "ut_consult")
    assert _context(people["office"].page(f"/tasks/{consult.public_id}"))["核实情况"] == "—"
    fake_clock.advance(minutes=20)
    ok(submit(people["own"], incident, "ut_investigate", findings="窗口高峰期排队约两小时,属实。"))
    page = people["office"].page(f"/tasks/{consult.public_id}")
    assert _context(page)["核实情况"] == "窗口高峰期排队约两小时,属实。"
    assert _context(page)["确认等级"] == "Ⅳ级 影响较小的网络舆情"  # what it had stays
    english = in_english(people["office"]).page(f"/tasks/{consult.public_id}")
    assert _context(english)["Verification"] == "窗口高峰期排队约两小时,属实。"
    ok(submit(people["office"], incident, "ut_consult"))
    done = people["office"].page(f"/tasks/{consult.public_id}")  # the completed task reads as it was done
    assert _context(done)["Verification"] == "窗口高峰期排队约两小时,属实。"


# -- a returned draft: its drafter is told it was returned, by whom and why --------------------------------


def _inbox_items(actor) -> list[str]:
    inbox = actor.page("/inbox").split('data-testid="inbox"')[1].split("</ul>", maxsplit=1)[0]
    return [_text(item).strip() for item in re.findall(r"<li[^>]*>(.*?)</li>", inbox, re.S)]


def test_the_drafter_of_a_returned_release_is_told_it_was_returned_and_why(app, db, people, incident, user_factory):
    publicity = act_as(app, user_factory(["team_publicity"], "publicity", display_name="宣传干事"))
    ok(submit(people["own"], incident, "ut_investigate"))
    ok(submit(people["office"], incident, "ut_consult"))
    draft = open_task(incident, "ut_draft_release")
    ok(publicity.post(f"/tasks/{draft.public_id}", {"_action": "claim"}))
    ok(submit(publicity, incident, "ut_draft_release"))
    registry.run_due("test-worker", limit=100)
    ok(submit(people["leader"], incident, "ut_approve_release", release_decision="return",
              release_comment="请补充整改时限。"))
    registry.run_due("test-worker", limit=100)
    redraft = open_task(incident, "ut_draft_release")
    assert redraft.assignee_id == publicity.user.id
    returned = [item for item in _inbox_items(publicity) if "起草通稿" in item]
    assert returned and returned[0].startswith("【退回修改】起草通稿 —— YQ-2026-0001")
    assert "李组长退回了“起草通稿”,请修改后重新提交。退回意见:请补充整改时限。" in returned[0]
    assert not any(item.startswith("【新任务】起草通稿") for item in _inbox_items(publicity))
    page = publicity.page(f"/tasks/{redraft.public_id}")
    assert "【退回修改】李组长退回了本任务,请修改后重新提交。退回意见:请补充整改时限。" in page
    english = in_english(publicity).page(f"/tasks/{redraft.public_id}")
    assert ("[Returned for revision] 李组长 returned this task; please revise it and submit it again. "
            "Comment: 请补充整改时限。") in english
    first = people["office"].page(f"/tasks/{open_task(incident, 'ut_draft_release').public_id}")
    assert 'data-testid="returned"' in first  # anyone who opens it sees it came back


# -- the monthly analysis is named in English on English pages ------------------------------------------


def test_the_monthly_analysis_is_named_in_english_on_english_pages(app, db, user_factory, fake_clock):
    assert schedules.ensure_scheduled() >= 1
    instance = db.session.scalars(select(ProcessInstance).where(
        ProcessInstance.process_key == "yq_monthly_analysis")).one()
    admin = in_english(act_as(app, user_factory(["admin"])))
    row = lxml.html.fromstring(admin.page("/instances")).xpath(f'//tr[@data-instance="{instance.public_id}"]/td')
    assert row[2].text_content().strip() == "Monthly incident analysis, November 2026"
    assert "<h1> Monthly incident analysis, November 2026</h1>" in admin.page(f"/instances/{instance.public_id}")

    fake_clock.set(datetime(2026, 12, 1, 1, 0, 1, tzinfo=UTC))  # 09:00 in Shanghai: the analysis starts
    assert timer_firing.fire_due_timers() >= 1
    assert instance.title == "2026年11月舆情分析研判"  # the diagram's own words, stored in Chinese
    office = act_as(app, user_factory(["office_staff"]))
    draft = open_task(instance, "ut_draft_monthly")
    header = '//div[@class="page-head"]/p[@class="meta"]/a'
    chinese = lxml.html.fromstring(office.page(f"/tasks/{draft.public_id}")).xpath(header)[0].text_content()
    assert chinese.strip() == "2026年11月舆情分析研判"
    english = lxml.html.fromstring(in_english(office).page(f"/tasks/{draft.public_id}")).xpath(header)[0]
    assert english.text_content().strip() == "Monthly incident analysis, November 2026"
