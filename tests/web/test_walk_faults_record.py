"""What a fourth walk of the product found, each kept fixed over HTTP: a registration left unsubmitted can be
withdrawn by its registrant and then appears nowhere an incident is counted; an upgrade after the first release
imposes no met deadline on the new level's tasks and notices; the admin's data view says `record` is a ledger
snapshot and shows the ledger now."""

from __future__ import annotations

import io
import re

import docx
import lxml.html
from sqlalchemy import select

from app.extensions import db as _db
from app.models import AuditEvent, Notification
from app.operations import options
from tests.web.scenario import act_as, incident_people, open_task, start_incident, started_at_level, submit


def _text(html: str) -> str:
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", html))


def _ok(response):
    page = response.get_data(as_text=True)
    assert response.status_code == 302, re.findall(r'(?:field__error|flash)[^>]*>([^<]*)<', page) or page[-2000:]
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
    choices = dict(options.options_for(["open_incidents"])["open_incidents"])  # 线索初筛's 所属事件
    assert kept.business_key in choices and number not in choices
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


# -- an upgrade after the first release: the met deadline is not imposed again ----------------------------


def _released_level4(app, user_factory, fake_clock):
    people = incident_people(app, user_factory)
    instance = start_incident(people["monitor"])
    for who, step in (("monitor", "ut_register"), ("office", "ut_confirm_level"),
                      ("office", "ut_request_instruction"), ("leader", "ut_instruction_decision")):
        _ok(submit(people[who], instance, step))
    fake_clock.advance(hours=3)
    for who, step in (("section", "ut_investigate"), ("section", "ut_consult"), ("publicity", "ut_draft_release"),
                      ("leader", "ut_approve_release"), ("spokesperson", "ut_publish_response")):
        _ok(submit(people[who], instance, step))
    return people, instance


def test_an_upgrade_after_the_first_release_gives_the_new_tasks_no_deadline_already_met(
        app, db, user_factory, fake_clock):
    people, instance = _released_level4(app, user_factory, fake_clock)
    fake_clock.advance(days=1)  # the next day: the first-release deadline (by either level) is long past
    _ok(submit(people["commentator"], instance, "ut_follow_up_log", outcome="worsening", worsening_desc="大V转发"))
    _ok(submit(people["leader"], instance, "ut_regrade", confirmed_level="3", reason="传播加快"))
    _ok(submit(people["office"], instance, "ut_file_record", filed_with=["市委网信办"], filed_at="2026-11-26T11:30"))
    investigate = open_task(instance, "ut_investigate")
    assert investigate.due_at is None
    page = _text(people["section"].page(f"/tasks/{investigate.public_id}"))
    heading = page.split("办理说明")[0]
    assert "调查核实" in heading and "时限" not in heading and "已超时" not in heading
    assert "首次权威发布 2026-11-25 21:00 2026-11-25 11:00 按时完成" in page  # the panel: met, at level 4
    notices = _db.session.scalars(select(Notification).where(Notification.instance_id == instance.id,
                                                             Notification.kind == "response_started")).all()
    assert notices and all("首次回应时限:" not in n.body for n in notices)
    assert "首次回应已发布,首次回应时限已满足。" in notices[-1].body


# -- the admin's 当前流程数据: the ledger snapshot is labelled, with the ledger as it is now ------------------


def test_the_admin_data_view_says_record_is_a_snapshot_and_shows_the_ledger_now(app, db, user_factory, fake_clock):
    _people, instance = _released_level4(app, user_factory, fake_clock)
    admin = act_as(app, user_factory(["admin"], "root"))
    page = admin.page(f"/instances/{instance.public_id}")
    tree = lxml.html.fromstring(page)
    snapshot = tree.xpath('//*[@data-testid="instance-data"]')[0].text_content()
    assert '"first_release_done": false' in snapshot  # what the level's start read, before the release
    note = tree.xpath('//*[@data-testid="snapshot-note"]')[0].text_content()
    assert "数据项 record 是流程在该环节运行时查询台账所得的快照,之后不随办理更新" in note
    assert [code.text for code in tree.xpath('//*[@data-testid="snapshot-note"]/code')] == ["record"]
    now = tree.xpath('//*[@data-testid="snapshot-now"]')[0].text_content()
    assert '"first_release_done": true' in now and "首次权威发布:时限 11-25 21:00,11-25 11:00 完成,按时" in now


# -- the external report's 二、等级研判: one paragraph, each step named ---------------------------------------


def test_the_external_reports_grading_names_the_office_and_the_leading_group(app, db, user_factory, fake_clock):
    people, instance = started_at_level(app, user_factory, "1", "境外媒体已转载", "同意按Ⅰ级处置")
    office = people["office"]
    number = instance.business_key
    _ok(office.post(f"/ledger/{number}/documents", {"kind": "external_report"}))
    [link] = re.findall(r'href="(/documents/[0-9a-f-]+)"', office.page(f"/ledger/{number}"))
    paragraphs = [p.text for p in docx.Document(io.BytesIO(office.get(link).data)).paragraphs]
    grading = paragraphs[paragraphs.index("二、等级研判") + 1:paragraphs.index("三、已采取的处置措施")]
    assert grading == ["经研判,领导小组办公室研判为Ⅰ级 特别重大网络舆情(理由:境外媒体已转载),领导小组确认为Ⅰ级 "
                       "特别重大网络舆情(理由:同意按Ⅰ级处置),按Ⅰ级 特别重大网络舆情响应处置。"]


# -- 催办 is not offered to a candidate of the unsigned task ----------------------------------------------


def test_a_candidate_of_an_unsigned_task_is_not_offered_to_urge_it_but_the_office_may_urge_others(
        app, db, user_factory, fake_clock):
    monitor = act_as(app, user_factory(["monitor"], "monitor"))
    director = act_as(app, user_factory(["office_director"], "director", display_name="王主任"))
    instance = start_incident(monitor)
    _ok(submit(monitor, instance, "ut_register", confirmed_level="1", netizen_attention="extremely_high"))
    confirm = open_task(instance, "ut_confirm_level")
    page = director.page(f"/tasks/{confirm.public_id}")
    assert confirm.assignee_id is None and 'data-testid="urge"' not in page and "催办" not in _text(page)
    _ok(submit(director, instance, "ut_confirm_level", confirmed_level="1", level_change_reason="境外媒体已转载"))
    leader_task = open_task(instance, "ut_leader_confirm")  # the leading group's, not the director's
    page = director.page(f"/tasks/{leader_task.public_id}")
    assert 'data-testid="urge"' in page and "领导小组组长" in page
