"""What a new user found on the English pages (and in the Chinese punctuation), each kept fixed over HTTP: the
summary's timeline and timeliness worded in English, an accountability result's label, a superior's review
naming the body and then its result, a table row's cells with English punctuation, file messages with the
punctuation the rest of the Chinese uses."""

from __future__ import annotations

import html
import io
import json
import re
from datetime import UTC, datetime

import lxml.html
from sqlalchemy import select

from app.models import LedgerEntry, ProcessInstance, WorkspaceFile
from app.operations import schedules, timer_firing
from tests.web import staff_world
from tests.web.scenario import act_as, in_english, open_task, open_tasks, submit
from tests.web.staff_world import ok

people, incident = staff_world.people, staff_world.incident  # fixtures

CHINESE = re.compile(r"[\u3400-\u9fff，；：（）]")


def _text(html: str) -> str:
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", html))


def _context(page: str) -> dict[str, str]:
    section = page.split('<section class="context">')[1].split("</section>", maxsplit=1)[0]
    return {_text(dt).strip(): re.sub(r"<[^>]+>", "", dd).strip()
            for dt, dd in re.findall(r"<dt>(.*?)</dt>\s*<dd[^>]*>(.*?)</dd>", section, re.S)}


def _in_chinese(actor):
    with actor.client.session_transaction() as session:
        session["lang"] = "zh_CN"
    return actor


def _to_summary(app, people, incident, fake_clock, user_factory):
    publicity = act_as(app, user_factory(["team_publicity"], "publicity"))
    commentator = act_as(app, user_factory(["commentator"], "commentator"))
    ok(submit(people["own"], incident, "ut_investigate"))
    ok(submit(people["office"], incident, "ut_consult"))
    ok(submit(publicity, incident, "ut_draft_release"))
    ok(submit(people["leader"], incident, "ut_approve_release"))
    ok(submit(people["spokesperson"], incident, "ut_publish_response"))
    ok(submit(commentator, incident, "ut_follow_up_log", outcome="no_change"))
    fake_clock.advance(days=1, minutes=1)
    timer_firing.fire_due_timers()
    ok(submit(people["monitor"], incident, "ut_monitor_report"))
    ok(submit(commentator, incident, "ut_follow_up_log"))
    ok(submit(people["office"], incident, "ut_confirm_subsided"))
    while not any(t.spec_id == "ut_summary" for t in open_tasks(incident)):
        fake_clock.advance(days=1, minutes=1)
        timer_firing.fire_due_timers()
        if any(t.spec_id == "ut_aftermath_watch" for t in open_tasks(incident)):
            ok(submit(people["office"], incident, "ut_aftermath_watch"))


def test_the_summary_record_and_the_accountability_read_in_english(app, db, people, incident, fake_clock,
                                                                    user_factory):
    _to_summary(app, people, incident, fake_clock, user_factory)
    summary = open_task(incident, "ut_summary")
    chinese = _context(people["office"].page(f"/tasks/{summary.public_id}"))
    assert chinese["时效情况"].splitlines()[0].startswith("快报(发现后30分钟内):时限 11-25 09:30,11-25 ")
    assert "登记舆情(快报):某街道社保窗口服务态度问题引发网民关注" in chinese["处置时间线"]
    english = _context(in_english(people["office"]).page(f"/tasks/{summary.public_id}"))
    timeliness = english["Timeliness"].splitlines()
    assert re.fullmatch(r"Quick report \(within 30 minutes of discovery\): due 11-25 09:30, done 11-25 \d\d:\d\d, "
                        r"on time", timeliness[0]), timeliness
    assert not any(CHINESE.search(line) for line in timeliness), timeliness
    timeline = english["Response timeline"].splitlines()
    assert any(re.fullmatch(r"11-25 \d\d:\d\d .*: 某街道社保窗口服务态度问题引发网民关注", line) for line in timeline)
    assert not any(CHINESE.search(re.sub(r": .*", "", line)) for line in timeline), timeline  # labels in English

    ok(submit(people["office"], incident, "ut_summary"))
    approve = open_task(incident, "ut_approve_summary")
    english = _context(in_english(people["leader"]).page(f"/tasks/{approve.public_id}"))
    assert english["Timeliness"].splitlines()[0].startswith("Quick report (within 30 minutes of discovery): due")
    ok(submit(people["leader"], incident, "ut_approve_summary"))
    accountability = open_task(incident, "ut_accountability")
    ok(submit(people["leader"], incident, "ut_accountability", **{
        "accountability_rows.0.evaluation": "accountable", "accountability_rows.0.measure": "通报批评"}))

    ledger = _in_chinese(people["leader"]).page(f"/ledger/{incident.business_key}")
    assert '<td data-label="考评结果">追责</td>' in ledger
    ledger = in_english(people["office"]).page(f"/ledger/{incident.business_key}")
    rows = ledger.split('data-testid="accountability"')[1].split("</table>")[0]
    assert ">Accountability</td>" in rows and "追责" not in rows

    done_zh = people["leader"].page(f"/tasks/{accountability.public_id}")
    assert "单位或个人:社会保险科;考评结果:追责" in _text(done_zh)
    done = _text(people["office"].page(f"/tasks/{accountability.public_id}"))
    assert "：" not in done and "；" not in done
    assert re.search(r": 社会保险科; [A-Z][a-z ]+: Accountability", done), done[:3000]


def test_a_superiors_review_names_the_body_then_its_result(app, db, people, incident):
    number = incident.business_key
    head = db.session.get(LedgerEntry, db.session.query(LedgerEntry.id).filter(
        LedgerEntry.kind == "registered").scalar()).incident
    at = head.entries[-1].at
    # as a line written before the wording changed kept it, and a refusal with what it asked
    db.session.add(LedgerEntry(incident_id=head.id, kind="external_approval", at=at, summary="市委宣传部同意",
                               data={"approver_body": "市委宣传部", "external_result": "approve"}))
    db.session.add(LedgerEntry(incident_id=head.id, kind="external_approval", at=at,
                               summary="市委网信办不同意,退回修改:请核实数字",
                               data={"approver_body": "市委网信办", "external_result": "return",
                                     "external_comment": "请核实数字\n第二行"}))
    db.session.commit()
    for url in (f"/ledger/{number}", f"/incidents/{number}"):
        record = _text(people["office"].page(url).split('data-testid="entries"')[1].split("</ol>")[0])
        assert "上级审核意见 :市委宣传部 — 同意" in record
        assert "上级审核意见 :市委网信办 — 不同意,退回修改:请核实数字" in record
    english = _text(in_english(people["office"]).page(f"/ledger/{number}").split('data-testid="entries"')[1]
                    .split("</ol>")[0])
    # ": " after the label, the body by the profile's English name, the result as what was decided
    assert "Superiors&#39; review opinion : Municipal Party committee publicity department — Approved " in english
    assert "Municipal cyberspace affairs office — Not approved, returned for revision: 请核实数字" in english
    assert "市委" not in english


# -- the monthly analysis named in English on the admin list and in the worklist --------------------------


def test_the_monthly_analysis_is_named_in_english_in_the_lists(app, db, user_factory, fake_clock):
    assert schedules.ensure_scheduled() >= 1
    fake_clock.set(datetime(2026, 12, 1, 1, 0, 1, tzinfo=UTC))  # 09:00 in Shanghai: November's analysis starts
    assert timer_firing.fire_due_timers() >= 1
    schedules.ensure_scheduled()
    db.session.commit()
    admin = in_english(act_as(app, user_factory(["admin"])))
    titles = {}
    for instance in db.session.scalars(select(ProcessInstance).where(
            ProcessInstance.process_key == "yq_monthly_analysis")):
        row = lxml.html.fromstring(admin.page("/instances")).xpath(f'//tr[@data-instance="{instance.public_id}"]/td')
        titles[instance.title] = row[2].text_content().strip()
    assert titles == {"2026年11月舆情分析研判": "Monthly incident analysis, November 2026",
                      "2026年12月 月度舆情分析研判": "Monthly incident analysis, December 2026"}

    office = act_as(app, user_factory(["office_staff"]))
    cells = lxml.html.fromstring(office.page("/tasks")).xpath('//td[@data-label="事件"]')
    assert [cell.text_content().strip() for cell in cells] == ["2026年11月舆情分析研判"]
    cells = lxml.html.fromstring(in_english(office).page("/tasks")).xpath('//td[@data-label="Incident"]')
    assert [cell.text_content().strip() for cell in cells] == ["Monthly incident analysis, November 2026"]


# -- the studio's list names the processes using a file as the page's language lists them -----------------


def test_the_studio_lists_the_processes_using_a_file_with_commas_in_english(app, db, user_factory):
    owner = act_as(app, user_factory(["process_owner", "process_publisher"]))
    cells = lxml.html.fromstring(owner.page("/studio/")).xpath('//tr[@data-file="ut_investigate.schema.json"]/td')
    assert cells[2].text_content().strip() == ("舆情事件处置主流程、特别重大网络舆情响应(Ⅰ级)、"
                                              "重大或较大网络舆情响应(Ⅱ级) 等 5 个")
    cells = lxml.html.fromstring(in_english(owner).page("/studio/")).xpath(
        '//tr[@data-file="ut_investigate.schema.json"]/td')
    assert cells[2].text_content().strip() == (
        "Online incident response (main process), Response to an extremely serious online incident (Level I), "
        "Response to a serious or major online incident (Level II) and others (5)")


# -- the studio says what is wrong with a form file, in the page's language ----------------------------------


def _flash(page: str) -> str:
    return _text(page.split('class="flash', 1)[1].split(">", 1)[1].split("</", 1)[0]).strip()


def test_a_form_file_that_is_not_json_is_refused_at_upload_saying_where(app, db, user_factory):
    owner = act_as(app, user_factory(["process_owner", "process_publisher"]))
    refused = owner.client.post("/studio/upload", data={"file": (io.BytesIO(b"{not json"), "ut_x.schema.json")},
                                content_type="multipart/form-data", follow_redirects=True).get_data(as_text=True)
    assert _flash(refused).startswith("上传被拒绝:“ut_x.schema.json”不是格式正确的 JSON:第 1 行第 2 列,"
                                      "属性名须用英文双引号括起。")
    assert db.session.get(WorkspaceFile, "ut_x.schema.json") is None
    english = in_english(owner).client.post(
        "/studio/upload", data={"file": (io.BytesIO(b'{"a": 1,\n "b" 2}'), "ut_x.schema.json")},
        content_type="multipart/form-data", follow_redirects=True).get_data(as_text=True)
    assert "“ut_x.schema.json” is not well-formed JSON: line 2, column 6: a colon is missing here." in _flash(english)


def test_the_studio_validation_says_a_form_files_problems_in_the_pages_language(app, db, user_factory):
    owner = act_as(app, user_factory(["process_owner", "process_publisher"]))
    db.session.add(WorkspaceFile(name="ut_x.schema.json", kind="form", draft="{\n  bad}"))  # kept before uploads
    db.session.add(WorkspaceFile(name="ut_y.schema.json", kind="form", draft=json.dumps(  # were checked
        {"type": "object", "properties": {"a": {"type": "nonsense"}}})))
    db.session.commit()
    page = owner.post("/studio/validate", {}).get_data(as_text=True)
    problems = html.unescape(_text(page.split('data-testid="problems"')[1].split("</table>")[0]))
    assert "“ut_x.schema.json”不是格式正确的 JSON:第 2 行第 3 列,属性名须用英文双引号括起。" in problems
    assert "“ut_y.schema.json”的 $.properties.a.type 处取值 'nonsense' 无效。" in problems
    assert "Expecting" not in problems and "is not valid" not in problems
    english = html.unescape(_text(in_english(owner).post("/studio/validate", {}).get_data(as_text=True)
                                  .split('data-testid="problems"')[1].split("</table>")[0]))
    assert ("“ut_x.schema.json” is not well-formed JSON: line 2, column 3: property names must be enclosed in "
            "double quotes.") in english
    assert "“ut_y.schema.json”, at $.properties.a.type: the value 'nonsense' is not valid." in english
