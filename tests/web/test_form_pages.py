"""Task pages offer only what they accept, carry what they need, and show every error at its field.

Each test walks the real pages: log in through the login form, open the task page, read the
fields and options it renders, post them as the page names them, and read what the page says.
"""

from __future__ import annotations

import io
import json
import re
from pathlib import Path

from sqlalchemy import select
from werkzeug.datastructures import FileStorage, MultiDict
from werkzeug.test import encode_multipart

from app.extensions import db
from app.models import Alert, HumanTask, LedgerEntry, ProcessInstance
from app.operations import intake, profiles, timer_firing
from tests.forms import uploads
from tests.web.scenario import FORMS, act_as, field_errors, open_task, open_tasks, start_incident, submit

FORMS_DIR = Path(__file__).resolve().parents[2] / "forms"


def _options(page: str, name: str) -> list[str]:
    """The values a page offers for field `name` (radios, checkboxes and select options)."""
    inputs = re.findall(rf'<input type="(?:radio|checkbox)"[^>]*name="{re.escape(name)}" value="([^"]*)"', page)
    select = re.search(rf'<select[^>]*name="{re.escape(name)}"[^>]*>(.*?)</select>', page, re.S)
    options = re.findall(r'<option value="([^"]*)"', select.group(1)) if select else []
    return inputs + [value for value in options if value]


def test_an_unknown_checkbox_value_is_shown_at_its_field_with_the_rest_kept(app, db, user_factory):
    monitor = act_as(app, user_factory(["monitor"]))
    instance = start_incident(monitor)
    page = monitor.get(f"/tasks/{open_task(instance, 'ut_register').public_id}").get_data(as_text=True)
    assert "social_insurance" in _options(page, "related_units") and "nosuchunit" not in page
    response = submit(monitor, instance, "ut_register", related_units=["social_insurance", "nosuchunit"])
    assert response.status_code == 422
    page = response.get_data(as_text=True)
    assert field_errors(page)["related_units"] == ["请选择有效的选项"]
    assert re.search(r'name="related_units" value="social_insurance"[^>]*checked', page)
    assert 'value="某街道社保窗口服务态度问题引发网民关注"' in page  # what was typed elsewhere is kept too


def _post(actor, instance, spec_id: str, data: dict) -> object:
    return actor.post(f"/tasks/{open_task(instance, spec_id).public_id}", {**data, "_action": "complete"})


def _risk_assessment_at_decision(app, user_factory, level: str):
    """A simplified risk assessment worked through its pages up to the leadership's decision."""
    owner = act_as(app, user_factory(["risk_owner"], unit="social_insurance"))
    started = owner.post("/risk-assessments/new", {})
    public_id = started.headers["Location"].rsplit("/", 1)[-1]
    instance = db.session.scalars(select(HumanTask).where(HumanTask.public_id == public_id)).one().instance
    item = {"decision_title": "调整城乡居民医保个人缴费标准", "risk_owner_unit": "social_insurance",
            "risk_description": "拟提高个人缴费标准", "affects_interests": "true", "risk_scope": "全市参保居民",
            "needs_assessment": "true", "simplified": "true", "simplified_reason": "幅度小"}
    assert _post(owner, instance, "ut_risk_item", item).status_code == 302
    assert _post(owner, instance, "ut_risk_report", {"risk_level": level, "risk_report": "评估报告"}).status_code == 302
    measures = {"risk_measures.0.measure": "提前发布政策解读", "risk_measures.0.owner": "社会保险科",
                "risk_measures.0.due": "2026-12-10"}
    assert _post(owner, instance, "ut_risk_measures", measures).status_code == 302
    return instance


def test_a_risk_decision_offers_only_what_the_risk_level_allows(app, db, user_factory):
    instance = _risk_assessment_at_decision(app, user_factory, "medium")
    leader = act_as(app, user_factory(["group_leader"]))
    page = leader.get(f"/tasks/{open_task(instance, 'ut_risk_decision').public_id}").get_data(as_text=True)
    assert _options(page, "risk_decision") == ["postpone"]
    assert "暂缓实施" in page and "调整决策方案、降低风险等级后再行决策" not in page.split("<form")[1]
    refused = _post(leader, instance, "ut_risk_decision", {"risk_decision": "implement", "explanation_plan": "x"})
    assert refused.status_code == 422  # a forged choice is still refused, at its field
    assert "该决策与评估结果不符" in field_errors(refused.get_data(as_text=True))["risk_decision"][0]
    assert _post(leader, instance, "ut_risk_decision", {"risk_decision": "postpone"}).status_code == 302


def test_a_superiors_notice_is_not_offered_as_irrelevant(app, db, user_factory):
    office = act_as(app, user_factory(["office_director"]))
    for source_type, offered in (("superior_notice", ["new", "duplicate"]),
                                 ("public_report", ["new", "duplicate", "irrelevant"])):
        created = office.post("/alerts/new", {"source_type": source_type, "title": f"{source_type} 线索"})
        page = office.get(created.headers["Location"]).get_data(as_text=True)
        assert _options(page, "relevance") == offered


def _level4_until_monitoring(app, user_factory, fake_clock):
    """A level-4 incident worked through its pages until its first monitoring report is due."""
    people = {"monitor": act_as(app, user_factory(["monitor"])),
              "office": act_as(app, user_factory(["office_director", "office_staff"])),
              "leader": act_as(app, user_factory(["group_leader"]))}
    instance = start_incident(people["monitor"])
    for who, spec_id in (("monitor", "ut_register"), ("office", "ut_confirm_level"),
                         ("office", "ut_request_instruction"), ("leader", "ut_instruction_decision")):
        response = submit(people[who], instance, spec_id)
        assert response.status_code == 302, field_errors(response.get_data(as_text=True))
    fake_clock.advance(days=1, minutes=1)
    timer_firing.fire_due_timers()
    return people, instance


def test_a_calm_monitoring_report_is_not_recorded_with_last_rounds_worsening(app, db, user_factory, fake_clock):
    people, instance = _level4_until_monitoring(app, user_factory, fake_clock)
    assert submit(people["monitor"], instance, "ut_monitor_report", worsening="true",
                  worsening_desc="多个大V转发,讨论量翻倍").status_code == 302
    assert submit(people["leader"], instance, "ut_regrade", confirmed_level="4", reason="仍属Ⅳ级").status_code == 302
    fake_clock.advance(days=1, minutes=1)
    timer_firing.fire_due_timers()
    task = open_task(instance, "ut_monitor_report")
    page = people["monitor"].get(f"/tasks/{task.public_id}").get_data(as_text=True)
    assert "多个大V转发" not in page.split("<form")[1]  # the field starts empty (decision 12)
    assert submit(people["monitor"], instance, "ut_monitor_report").status_code == 302  # worsening=false
    lines = db.session.execute(select(LedgerEntry.summary).where(LedgerEntry.kind == "monitor_report")
                               .order_by(LedgerEntry.id)).scalars().all()
    assert lines == ["多个大V转发,讨论量翻倍", ""]
    admin = act_as(app, user_factory(["admin"]))
    page = admin.get(f"/tasks/{open_task(instance, 'ut_investigate').public_id}").get_data(as_text=True)
    recent = page.split("最近处置记录")[1].split("</ol>")[0]  # the incident panel's latest ledger lines
    assert recent.count("<strong>舆情动态报告</strong>") == 2 and recent.count("多个大V转发") == 1


def _register_with_a_screenshot(monitor, instance):
    """Post the registration page as a browser does, with a screenshot in 截图及附件."""
    task = open_task(instance, "ut_register")
    items = [("_action", "complete"), ("attachments", FileStorage(io.BytesIO(uploads.PNG), filename="原帖截图.png"))]
    for name, value in FORMS["ut_register"].items():
        items += [(name, item) for item in (value if isinstance(value, list) else [value])]
    boundary, body = encode_multipart(MultiDict(items))
    response = monitor.client.post(f"/tasks/{task.public_id}", data=body,
                                   content_type=f"multipart/form-data; boundary={boundary}")
    assert response.status_code == 302, field_errors(response.get_data(as_text=True))


def _context(page: str) -> dict[str, str]:
    """The read-only facts above the form: label → what is shown (text, or the inner HTML of links)."""
    block = page.split('<dl class="task-context">')[1].split("</dl>", maxsplit=1)[0]
    return {label: value.strip() for label, value in re.findall(r"<dt>(.*?)</dt>\s*<dd>(.*?)</dd>", block, re.S)}


def test_the_confirmation_pages_show_what_was_registered(app, db, user_factory):
    monitor = act_as(app, user_factory(["monitor"]))
    office = act_as(app, user_factory(["office_director"]))
    instance = start_incident(monitor)
    _register_with_a_screenshot(monitor, instance)
    page = office.get(f"/tasks/{open_task(instance, 'ut_confirm_level').public_id}").get_data(as_text=True)
    facts = _context(page)
    assert (facts["线索来源"], facts["发布平台"], facts["发布账号"]) == ("自行监测", "微博", "@某网民")
    assert facts["原文链接"].startswith('<a href="https://weibo.com/1234567/abc" rel="noopener noreferrer nofollow"')
    assert facts["内容摘要"] == "网民发帖反映社保窗口办事拖延,评论数百条。"
    assert (facts["阅读量"], facts["转发量"], facts["评论量"], facts["点赞量"]) == ("12000", "85", "230", "410")
    assert (facts["国内网民关注度"], facts["传播速度"], facts["涉及科室/单位"]) == ("低", "慢", "社会保险科")
    screenshot = re.search(r'<a href="(/attachments/[^"]+)">原帖截图.png</a>', facts["截图及附件"])
    assert office.get(screenshot.group(1)).get_data() == uploads.PNG
    assert "其他平台名称" not in facts and "初步处置建议" not in facts  # blank facts are left out


def test_the_leaders_reason_starts_from_the_offices_reason(app, db, user_factory):
    monitor = act_as(app, user_factory(["monitor"]))
    office = act_as(app, user_factory(["office_director"]))
    leader = act_as(app, user_factory(["group_leader"]))
    instance = start_incident(monitor)
    assert submit(monitor, instance, "ut_register").status_code == 302
    assert submit(office, instance, "ut_confirm_level", confirmed_level="2", level_change_reason="境外媒体已转载",
                  instructions="请宣传组准备口径").status_code == 302
    page = leader.get(f"/tasks/{open_task(instance, 'ut_leader_confirm').public_id}").get_data(as_text=True)
    facts = _context(page)
    assert (facts["办公室确认等级"], facts["办公室调整理由"]) == ("Ⅱ级 重大或较大网络舆情", "境外媒体已转载")
    assert facts["办公室批示意见"] == "请宣传组准备口径" and facts["原文链接"].startswith('<a href="https://weibo.com')
    # the office's reason is the leader's to confirm or edit, not to type again; the instructions are their own
    reason = re.search(r'<textarea id="field-level_change_reason" name="level_change_reason"[^>]*>([^<]*)</textarea>',
                       page)
    assert reason and reason.group(1).strip() == "境外媒体已转载"
    assert re.search(r'<textarea id="field-instructions" name="instructions"[^>]*></textarea>', page)
    assert re.search(r'name="confirmed_level" value="2"[^>]*checked', page)  # the level to confirm is proposed
    refused = submit(leader, instance, "ut_leader_confirm", confirmed_level="2", start_plan="true",
                     level_change_reason="")
    assert "请填写调整理由" in " ".join(field_errors(refused.get_data(as_text=True))["level_change_reason"])
    kept = submit(leader, instance, "ut_leader_confirm", confirmed_level="2", start_plan="true",
                  level_change_reason=reason.group(1).strip())
    assert kept.status_code == 302


def _selected(page: str, name: str) -> list[str]:
    select = re.search(rf'<select[^>]*name="{re.escape(name)}"[^>]*>(.*?)</select>', page, re.S)
    return re.findall(r'<option value="([^"]*)" selected', select.group(1))


def _lead_to_registration(app, client, db, user_factory, lead: dict) -> str:
    """Post a lead through the API, triage it as new on its page, open the new incident's registration page."""
    office = act_as(app, user_factory(["office_director", "monitor"]))
    _row, token = intake.issue_token(f"平台{lead['external_ref']}", user_factory(["admin"]))
    created = client.post("/api/v1/alerts", json=lead, headers={"Authorization": f"Bearer {token}"})
    assert created.status_code == 201, created.get_json()
    alert = db.session.scalars(select(Alert).where(Alert.external_ref == lead["external_ref"])).one()
    triage = open_task(db.session.get(ProcessInstance, alert.instance_id), "ut_triage")
    assert office.post(f"/tasks/{triage.public_id}", {"relevance": "new", "_action": "complete"}).status_code == 302
    db.session.refresh(alert)
    incident = db.session.scalars(select(ProcessInstance).where(ProcessInstance.process_key == "yq_incident")
                                  .order_by(ProcessInstance.id.desc())).first()
    assert alert.outcome == "new"
    return office.get(f"/tasks/{open_task(incident, 'ut_register').public_id}").get_data(as_text=True)


LEAD = {"source_type": "platform_alert", "title": "网传某窗口办事推诿", "url": "https://www.douyin.com/video/1",
        "snippet": "视频称窗口工作人员推诿", "published_at": "2026-11-25T08:10:00+08:00",
        "detected_at": "2026-11-25T08:40:00+08:00", "metrics": {"views": 52000, "reposts": 310, "likes": 2400}}


def test_a_leads_platform_and_facts_are_carried_into_the_registration_form(app, client, db, user_factory):
    page = _lead_to_registration(app, client, db, user_factory, {**LEAD, "platform": "抖音", "external_ref": "d-1"})
    assert _selected(page, "platform") == ["douyin"] and _selected(page, "source_type") == ["platform_alert"]
    for name, value in (("title", "网传某窗口办事推诿"), ("url", "https://www.douyin.com/video/1"),
                        ("occurred_at", "2026-11-25T08:10"), ("discovered_at", "2026-11-25T08:40"),
                        ("views", "52000"), ("reposts", "310"), ("likes", "2400"), ("comments", "")):
        assert re.search(rf'name="{name}" value="{re.escape(value)}"', page), name
    assert re.search(r'name="summary"[^>]*>视频称窗口工作人员推诿</textarea>', page)


def test_a_lead_platform_named_by_code_by_a_longer_name_or_unknown_is_mapped(app, client, db, user_factory):
    for ref, platform, selected, other in (("c-1", "tieba", "tieba", ""), ("c-2", "百度贴吧", "tieba", ""),
                                           ("c-3", "Weibo", "weibo", ""), ("c-4", "B站", "other", "B站")):
        page = _lead_to_registration(app, client, db, user_factory, {**LEAD, "platform": platform, "external_ref": ref})
        assert _selected(page, "platform") == [selected], platform
        assert re.search(rf'name="platform_other" value="{other}"', page), platform


BODY_FIELDS = {"report_to", "quick_report_to_bodies", "filed_with", "approver_body", "requested_from",
               "superior_body", "superior_dept", "external_consulted"}


def test_every_field_that_names_a_body_takes_its_options_from_the_profile():
    for path in sorted(FORMS_DIR.glob("*.schema.json")):
        for name, prop in json.loads(path.read_text())["properties"].items():
            if name in BODY_FIELDS:
                source = prop.get("x-source") or prop.get("items", {}).get("x-source", "")
                assert source.startswith("profile:"), f"{path.name} {name}"
                key = source.split(":", 1)[1]
                assert profiles.CITY[key], key
                assert profiles.COUNTY[key] or (key == "file_record_with" and not profiles.COUNTY["file_record_l3"])


def _consult_page(app, user_factory):
    people = {"monitor": act_as(app, user_factory(["monitor"])),
              "office": act_as(app, user_factory(["office_director", "office_staff"])),
              "leader": act_as(app, user_factory(["group_leader"])),
              "section": act_as(app, user_factory(["section_head", "consultation_member"], unit="social_insurance"))}
    instance = start_incident(people["monitor"])
    for who, spec_id in (("monitor", "ut_register"), ("office", "ut_confirm_level"),
                         ("office", "ut_request_instruction"), ("leader", "ut_instruction_decision")):
        assert submit(people[who], instance, spec_id).status_code == 302
    task = open_task(instance, "ut_consult")
    return people["section"], instance, people["section"].get(f"/tasks/{task.public_id}").get_data(as_text=True)


def test_body_choices_follow_the_active_profile_city_and_county(app, db, user_factory):
    section, instance, page = _consult_page(app, user_factory)
    assert _options(page, "external_consulted") == profiles.CITY["consultation_partners"]
    refused = submit(section, instance, "ut_consult", external_consulted=["县委网信办"])
    assert field_errors(refused.get_data(as_text=True))["external_consulted"] == ["请选择有效的选项"]
    profiles.activate("county", user_factory(["admin"]))
    _section, _instance, page = _consult_page(app, user_factory)
    assert _options(page, "external_consulted") == profiles.COUNTY["consultation_partners"]
    assert "市公安局网安支队" not in page


def test_the_risk_filing_department_is_chosen_from_the_profile(app, db, user_factory):
    instance = _risk_assessment_at_decision(app, user_factory, "low")
    leader = act_as(app, user_factory(["group_leader"]))
    decided = _post(leader, instance, "ut_risk_decision", {"risk_decision": "implement", "explanation_plan": "解读"})
    assert decided.status_code == 302
    owner = act_as(app, user_factory(["risk_owner"], unit="social_insurance"))
    page = owner.get(f"/tasks/{open_task(instance, 'ut_risk_filing').public_id}").get_data(as_text=True)
    assert _options(page, "superior_dept") == profiles.CITY["risk_filing_depts"]
    assert _selected(page, "superior_dept") == [profiles.CITY["risk_filing_depts"][0]]


def _dispatch_page(app, user_factory):
    """A level-4 incident worked through its pages until the office lists the units' tasks."""
    section, instance, _page = _consult_page(app, user_factory)
    assert submit(section, instance, "ut_investigate").status_code == 302
    assert submit(section, instance, "ut_consult", dispatch_needed="true").status_code == 302
    office = act_as(app, user_factory(["office_director"]))
    task = open_task(instance, "ut_dispatch")
    return office, instance, task


def _row_texts(page: str, name: str) -> list[tuple[int, str]]:
    """(row index, value) of the text inputs a page shows for `name.<i>.task`, in page order."""
    form = page.split("<template", 1)[0]  # the blank row to copy is not a row of the form
    return [(int(i), value) for i, value in re.findall(rf'name="{name}\.(\d+)\.task" value="([^"]*)"', form)]


def _dispatch_rows(rows: dict[int, tuple[str, str, str]]) -> dict[str, str]:
    data = {}
    for index, (unit, task, due) in rows.items():
        data |= {f"dispatch_tasks.{index}.unit": unit, f"dispatch_tasks.{index}.task": task,
                 f"dispatch_tasks.{index}.due_at": due}
    return data


DUE = "2026-11-27T17:00"


def test_a_row_table_adds_rows_without_javascript_and_accepts_any_number_up_to_its_cap(app, db, user_factory):
    office, instance, task = _dispatch_page(app, user_factory)
    page = office.get(f"/tasks/{task.public_id}").get_data(as_text=True)
    assert [i for i, _value in _row_texts(page, "dispatch_tasks")] == [0, 1, 2]
    assert 'name="dispatch_tasks.__i__.task"' in page.split("<template", 1)[1]  # the row the script copies
    assert 'value="add_row:dispatch_tasks"' in page and "添加一行" in page and "删除本行" in page
    assert '<script src="/static/js/form-rows.js" defer></script>' in page
    script = office.get("/static/js/form-rows.js")
    assert script.status_code == 200 and "data-rows-add" in script.get_data(as_text=True)
    script.close()

    # The three rows filled, the page shows three blank ones as well; 添加一行 then gives a seventh.
    three = _dispatch_rows({0: ("policy", "核实政策口径", DUE), 1: ("employment", "走访当事人", "明天"),
                            2: ("office", "汇总材料", DUE)})
    blank = _dispatch_rows({index: ("", "", "") for index in (3, 4, 5)})
    more = office.post(f"/tasks/{task.public_id}", {**three, **blank, "_action": "add_row:dispatch_tasks"})
    page = more.get_data(as_text=True)
    assert more.status_code == 200 and "field__error" not in page  # nothing is checked yet
    assert _row_texts(page, "dispatch_tasks") == [(0, "核实政策口径"), (1, "走访当事人"), (2, "汇总材料"),
                                                  (3, ""), (4, ""), (5, ""), (6, "")]
    assert 'name="dispatch_tasks.1.due_at" value="明天"' in page

    # Rows the script added (indices 5 and 9, after a row was removed) arrive like any other.
    five = _dispatch_rows({0: ("policy", "核实政策口径", DUE), 1: ("employment", "走访当事人", DUE),
                           2: ("office", "汇总材料", DUE), 5: ("social_insurance", "答复网民", DUE),
                           9: ("supervision", "现场检查", "明天")})
    refused = office.post(f"/tasks/{task.public_id}", {**five, "_action": "complete"})
    assert refused.status_code == 422
    page = refused.get_data(as_text=True)
    assert [value for _i, value in _row_texts(page, "dispatch_tasks")][:5] == [
        "核实政策口径", "走访当事人", "汇总材料", "答复网民", "现场检查"]  # every typed row is kept, renumbered
    cell = re.search(r'<td class="field--error">(<input[^>]*name="dispatch_tasks\.4\.due_at"[^>]*>.*?)</td>', page,
                     re.S)
    assert 'value="明天"' in cell.group(1) and "请输入有效的日期时间" in cell.group(1)  # at its cell
    five["dispatch_tasks.9.due_at"] = DUE
    assert office.post(f"/tasks/{task.public_id}", {**five, "_action": "complete"}).status_code == 302
    db.session.refresh(task)
    assert [row["task"] for row in task.submitted["dispatch_tasks"]] == [
        "核实政策口径", "走访当事人", "汇总材料", "答复网民", "现场检查"]
    assert [t.spec_id for t in open_tasks(instance)].count("ut_unit_feedback") == 5  # one per row


def test_a_row_table_refuses_more_rows_than_its_cap_and_stops_offering_more(app, db, user_factory):
    office, _instance, task = _dispatch_page(app, user_factory)
    many = _dispatch_rows({index: ("policy", f"任务{index}", DUE) for index in range(21)})
    refused = office.post(f"/tasks/{task.public_id}", {**many, "_action": "complete"})
    assert refused.status_code == 422 and "最多 20 项" in refused.get_data(as_text=True)
    full = _dispatch_rows({index: ("policy", f"任务{index}", DUE) for index in range(19)})
    page = office.post(f"/tasks/{task.public_id}", {**full, "_action": "add_row:dispatch_tasks"}).get_data(as_text=True)
    assert len(_row_texts(page, "dispatch_tasks")) == 20
    assert re.search(r'value="add_row:dispatch_tasks" formnovalidate data-rows-add="[^"]+" disabled', page)
