"""The record of an incident in English on English pages: deadline names, the tasks' instructions (办理说明),
the basis of a proposed level, the names of the progress strip's lines, the drawn diagram's names, and the
inbox's own words — while the Chinese pages, the ledger data and the inbox messages keep their Chinese."""

from __future__ import annotations

import html
import json

from sqlalchemy import select

from app.db import transaction
from app.models import LedgerEntry, Notification
from app.operations import ledger_reading
from tests.web.scenario import act_as, in_english, open_task, start_incident, submit

REPORT_DEADLINE = ("快报(发现后30分钟内)", "Quick report (within 30 minutes of discovery)")
RELEASE_DEADLINE = ("首次权威发布", "First authoritative release")
SET_LINE = ("快报 11-25 09:30;首次权威发布", "Quick report 11-25 09:30; First release")
REGISTERED = ("登记舆情(快报)", "Incident registered (quick report)")
PROPOSED = ("系统建议定级", "Level proposed by the system")
BASIS = ("网民关注度低、传播速度慢、影响局限在较小范围内",
         "low attention from internet users; spreading slowly; impact limited to a small scope")
CONFIRM_HELP = ("办公室主任核对系统建议等级和定级依据", "The office director checks the level the system proposed")
REGISTER_HELP = ("登记提交即为快报,须在发现后半小时内完成", "submitting the registration is the quick report")


def _part(page: str, start: str, end: str) -> str:
    begin = page.index(start)
    return page[begin:page.index(end, begin)]


def _registered(app, user_factory):
    monitor = act_as(app, user_factory(["monitor"]))
    office = act_as(app, user_factory(["office_director", "office_staff"]))
    instance = start_incident(monitor)
    assert submit(monitor, instance, "ut_register").status_code == 302
    return monitor, office, instance


def test_deadlines_are_named_in_english_on_the_incident_task_and_ledger_pages(app, db, user_factory, fake_clock):
    _monitor, office, instance = _registered(app, user_factory)
    task = open_task(instance, "ut_confirm_level")
    chinese = _part(office.page(f"/incidents/{instance.business_key}"), 'data-testid="deadlines"', "</table>")
    assert REPORT_DEADLINE[0] in chinese and REPORT_DEADLINE[1] not in chinese

    in_english(office)
    for url, testid in ((f"/incidents/{instance.business_key}", "deadlines"),
                        (f"/tasks/{task.public_id}", "panel-deadlines"),
                        (f"/ledger/{instance.business_key}", "deadlines")):
        table = _part(office.page(url), f'data-testid="{testid}"', "</table>")
        assert f">{REPORT_DEADLINE[1]}</td>" in table and f">{RELEASE_DEADLINE[1]}</td>" in table, url
        assert REPORT_DEADLINE[0] not in table and RELEASE_DEADLINE[0] not in table, url


def test_a_tasks_instructions_are_in_english_on_english_pages(app, db, user_factory, fake_clock):
    monitor = act_as(app, user_factory(["monitor"]))
    instance = start_incident(monitor)
    register = open_task(instance, "ut_register")
    section = _part(monitor.page(f"/tasks/{register.public_id}"), 'class="instructions"', "</section>")
    assert REGISTER_HELP[0] in section and REGISTER_HELP[1] not in section
    assert REGISTER_HELP[0] in register.documentation  # the task row keeps the diagram's text

    section = _part(in_english(monitor).page(f"/tasks/{register.public_id}"), 'class="instructions"', "</section>")
    assert "<h2>Instructions</h2>" in section
    assert REGISTER_HELP[1] in section and REGISTER_HELP[0] not in section
    submit(monitor, instance, "ut_register")
    office = in_english(act_as(app, user_factory(["office_director", "office_staff"])))
    page = office.page(f"/tasks/{open_task(instance, 'ut_confirm_level').public_id}")
    section = _part(page, 'class="instructions"', "</section>")
    assert CONFIRM_HELP[1] in section and CONFIRM_HELP[0] not in section


def test_the_grading_basis_is_in_english_where_pages_show_it(app, db, user_factory, fake_clock):
    _monitor, office, instance = _registered(app, user_factory)
    task = open_task(instance, "ut_confirm_level")
    chinese = office.page(f"/incidents/{instance.business_key}")
    assert BASIS[0] in _part(chinese, 'data-testid="levels"', "</ol>")

    in_english(office)
    levels = _part(office.page(f"/incidents/{instance.business_key}"), 'data-testid="levels"', "</ol>")
    assert f"({BASIS[1]})" in levels and BASIS[0] not in levels and "Level Ⅳ – minor" in levels
    page = office.page(f"/tasks/{task.public_id}")
    assert BASIS[0] not in page  # the lead card, the form's context and the latest lines
    assert f"<dd>{BASIS[1]}</dd>" in page and f"Grading basis: {BASIS[1]}" in page
    record = office.page(f"/ledger/{instance.business_key}")
    assert BASIS[1] in record and BASIS[0] not in record
    proposed = db.session.scalar(select(LedgerEntry).where(LedgerEntry.kind == "level_proposed"))
    assert proposed.data["grade_basis"] == BASIS[0] and proposed.summary == BASIS[0]  # the record keeps Chinese


def test_the_progress_strip_names_its_lines_inin_english(app, db, user_factory, fake_clock):
    _monitor, office, instance = _registered(app, user_factory)
    strip = _part(office.page(f"/incidents/{instance.business_key}"), 'data-testid="stages"', "</ol>")
    assert f"<strong>{REGISTERED[0]}</strong>" in strip and f"<strong>{PROPOSED[0]}</strong>" in strip
    assert SET_LINE[0] in office.page(f"/incidents/{instance.business_key}")

    in_english(office)
    for url in (f"/incidents/{instance.business_key}", f"/ledger/{instance.business_key}"):
        page = office.page(url)
        strip = _part(page, 'data-testid="stages"', "</section>")
        assert f"<strong>{REGISTERED[1]}</strong>" in strip and f"<strong>{PROPOSED[1]}</strong>" in strip, url
        assert REGISTERED[0] not in strip and PROPOSED[0] not in strip, url
        assert SET_LINE[1] in page and SET_LINE[0] not in page, url  # the line's summary, in every list
    panel = _part(office.page(f"/tasks/{open_task(instance, 'ut_confirm_level').public_id}"),
                  'data-testid="incident-panel"', "</ol>")
    assert f"<strong>{PROPOSED[1]}</strong>" in panel and PROPOSED[0] not in panel


def test_a_missed_deadline_and_a_confirmed_level_read_inin_english(app, db, user_factory, fake_clock):
    _monitor, office, instance = _registered(app, user_factory)
    assert submit(office, instance, "ut_confirm_level", confirmed_level="3",
                  level_change_reason="影响范围比初判更大").status_code == 302
    entry = db.session.scalar(select(LedgerEntry).where(LedgerEntry.kind == "level_confirmed"))
    assert entry.summary.startswith("Ⅲ级 一般网络舆情")
    assert ledger_reading.summary_text(entry, "en") == "Level Ⅲ – general: 影响范围比初判更大"  # the reason as typed
    assert ledger_reading.summary_text(entry, "zh_CN") == entry.summary
    with transaction():
        missed = LedgerEntry(incident_id=entry.incident_id, kind="deadline_missed", at=fake_clock.current,
                             summary="首次权威发布已超时", data={"deadline": "first_release"})
        db.session.add(missed)
    assert ledger_reading.summary_text(missed, "en") == "First authoritative release"  # after "Deadline missed"
    entries = _part(in_english(office).page(f"/incidents/{instance.business_key}"), 'data-testid="entries"', "</ol>")
    assert "Deadline missed</strong>: First authoritative release" in entries and "已超时" not in entries
    assert "Level confirmed</strong>: Level Ⅲ – general: 影响范围比初判更大" in entries


def test_the_drawn_diagram_gets_the_english_names_and_the_bpmn_stays_as_deployed(app, db, user_factory,
                                                                                   fake_clock):
    monitor = act_as(app, user_factory(["monitor"]))
    instance = start_incident(monitor)
    admin = act_as(app, user_factory(["admin"]))

    def diagram():
        page = admin.page(f"/instances/{instance.public_id}")
        return json.loads(html.unescape(page.split('data-diagram="', 1)[1].split('"', 1)[0]))

    assert diagram()["labels"] == {}  # the Chinese page draws the diagram's own names
    assert '<tr data-element="tb_report_overdue"><td>快报超时<' in admin.page(f"/instances/{instance.public_id}")
    in_english(admin)
    timers = _part(admin.page(f"/instances/{instance.public_id}"), '<tr data-element="tb_report_overdue">', "</tr>")
    assert "<td>Quick report overdue<" in timers and "快报超时" not in timers  # the waiting timers' names
    labels = diagram()["labels"]
    assert labels["登记舆情(快报)"] == "Register incident (quick report)"
    assert labels["舆情监控员"] == "Monitor" and labels["舆情事件处置主流程"].startswith("Online incident response")
    source = admin.get(f"/instances/{instance.public_id}/diagram/yq_incident.bpmn").get_data(as_text=True)
    assert 'name="登记舆情(快报)"' in source  # relabelled by the viewer for display only
    response = app.test_client().get("/static/js/instance-diagram.js")
    assert "importXML(relabel(xml))" in response.get_data(as_text=True)
    response.close()


def test_the_inbox_speaks_english_around_messages_that_keep_the_language_they_were_sent_in(app, db, user_factory,
                                                                                          fake_clock):
    _monitor, office, _instance = _registered(app, user_factory)
    rows = db.session.scalars(select(Notification).where(Notification.user_id == office.user.id)).all()
    assert rows and all("快报" in row.title for row in rows)
    chinese = office.page("/inbox")
    assert "<h1>消息</h1>" in chinese and 'data-testid="inbox-language"' not in chinese
    page = in_english(office).page("/inbox")
    assert "<h1>Messages</h1>" in page and "Mark all as read" in page
    assert "Messages are kept as they were sent, in Chinese." in page
    assert rows[0].title in html.unescape(page)  # the message itself as it was sent


def test_a_test_run_in_the_studio_draws_english_names_and_instructions(app, db, user_factory, fake_clock):
    owner = in_english(act_as(app, user_factory(["process_owner"])))
    started = owner.client.post("/studio/sandbox", data={"process": "yq_risk_assessment", "data": "{}"})
    assert started.status_code == 302, started.get_data(as_text=True)[:500]
    page = owner.page(started.headers["Location"])
    labels = json.loads(html.unescape(page.split('data-diagram="', 1)[1].split('"', 1)[0]))["labels"]
    assert labels["① 确定评估项目"] == "① Determine assessment item" and labels["是否需要评估?"] == "Assessment needed?"
    assert "identifies major decisions that need an online-opinion risk assessment" in page
    assert "确定需要组织舆情风险评估的重大决策事项" not in page
