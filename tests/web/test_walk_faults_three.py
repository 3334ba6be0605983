"""What a third walk of the product found, each kept fixed over HTTP: the consultation's related information
read when the page shows it, a returned draft's notice saying it was returned, a 转办 reason in the incident's
record, names listed with ", " in English messages and the monthly analysis named in English."""

from __future__ import annotations

import re

from app.jobs import registry
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
    assert ("Task transferred :“Investigation and verification” transferred to 社保副科长. Reason for the transfer: "
            "本人出差,请副科长核实。") in english


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
