"""Documents and the XLSX export as people use them over HTTP: the 文书 block of an incident's ledger page and
of the task that sends the 快报 on, downloads only for those who may see the incident, and the workbook."""

from __future__ import annotations

import io
import re
from datetime import datetime

import docx
import openpyxl
from sqlalchemy import select

from app import clock
from app.models import AuditEvent, GeneratedDocument, HumanTask
from app.operations import schedules, timer_firing
from tests.web.scenario import act_as, open_task, start_incident, submit


def _ok(response):
    assert response.status_code == 302, response.get_data(as_text=True)[-2000:]
    return response


def _people(app, user_factory):
    return {
        "monitor": act_as(app, user_factory(["monitor"], "monitor")),
        "office": act_as(app, user_factory(["office_director", "office_staff"], "office")),
        "section": act_as(app, user_factory(["section_head", "consultation_member"], "section",
                                            unit="social_insurance")),
        "other": act_as(app, user_factory(["section_head"], "other", unit="employment")),
    }


def _download_links(page: str) -> list[str]:
    return re.findall(r'href="(/documents/[0-9a-f-]+)"', page)


def _text(content: bytes) -> str:
    document = docx.Document(io.BytesIO(content))
    return "\n".join(p.text for p in document.paragraphs)


def test_the_quick_report_is_generated_and_downloaded_from_the_task_and_the_ledger(app, db, user_factory,
                                                                                  fake_clock):
    people = _people(app, user_factory)
    instance = start_incident(people["monitor"])
    _ok(submit(people["monitor"], instance, "ut_register", title="某街道社保窗口服务态度问题"))
    number = instance.business_key
    confirm = open_task(instance, "ut_confirm_level")
    page = people["office"].get(f"/tasks/{confirm.public_id}").get_data(as_text=True)
    assert 'data-testid="documents"' in page and "快报" in page and "尚未生成" in page
    assert "事后总结" not in page  # the task offers the documents it needs, not every kind

    back = _ok(people["office"].post(f"/ledger/{number}/documents",
                                     {"kind": "quick_report", "task": confirm.public_id}))
    assert back.headers["Location"].endswith(f"/tasks/{confirm.public_id}#documents")
    page = people["office"].get(f"/tasks/{confirm.public_id}").get_data(as_text=True)
    assert "已生成快报(第 1 版)" in page and "第 1 版" in page and "重新生成" in page
    documents = page.split('data-testid="documents"', 1)[1].split("</section>", 1)[0]
    assert documents.count("<td>快报</td>") == 1 and "尚未生成" not in documents  # one row per version, no spare row
    [link] = _download_links(page)
    download = people["office"].get(link)
    assert download.status_code == 200 and "attachment" in download.headers["Content-Disposition"]
    assert f'filename="{number}-quick_report-v1.docx"' in download.headers["Content-Disposition"]
    assert download.mimetype.endswith("wordprocessingml.document")
    text = _text(download.data)
    assert "关于“某街道社保窗口服务态度问题”的舆情快报" in text and f"事件编号:{number}" in text
    assert "发布平台:微博" in text and "social_insurance" not in text

    _ok(people["office"].post(f"/ledger/{number}/documents", {"kind": "quick_report"}))
    ledger_page = people["office"].get(f"/ledger/{number}").get_data(as_text=True)
    assert "第 2 版" in ledger_page and "(最新)" in ledger_page and len(_download_links(ledger_page)) == 2
    refused = _ok(people["office"].post(f"/ledger/{number}/documents", {"kind": "release"}))
    assert refused.headers["Location"].endswith(f"/incidents/{number}#documents")
    page = people["office"].get(f"/incidents/{number}").get_data(as_text=True)
    assert "无法生成通稿:缺少“审批通过的通稿”。" in page

    # the section of the unit concerned may read the incident, and so its documents; another unit may not
    assert people["section"].get(link).status_code == 200
    # reading is not writing: the section sees the versions but is offered no 生成, and a forged press
    # comes back to the incident page refused, with no new version
    page = people["section"].get(f"/incidents/{number}").get_data(as_text=True)
    assert 'data-testid="documents"' in page and "第 2 版" in page and "重新生成" not in page
    forged = _ok(people["section"].post(f"/ledger/{number}/documents", {"kind": "quick_report"}))
    assert forged.headers["Location"].endswith(f"/incidents/{number}#documents")
    assert "生成由办公室或办理相关任务的同事进行" in people["section"].get(forged.headers["Location"]).get_data(
        as_text=True)
    assert people["other"].get(link).status_code == 404
    assert people["other"].post(f"/ledger/{number}/documents", {"kind": "quick_report"}).status_code == 404
    assert db.session.query(GeneratedDocument).count() == 2
    actions = db.session.scalars(select(AuditEvent.action).where(AuditEvent.action.like("document_%"))).all()
    assert actions.count("document_generated") == 2 and actions.count("document_downloaded") == 2


def test_the_monthly_report_is_generated_from_the_ledger_list(app, db, user_factory, fake_clock):
    people = _people(app, user_factory)
    instance = start_incident(people["monitor"])
    _ok(submit(people["monitor"], instance, "ut_register"))
    _ok(people["office"].post("/ledger/monthly-report", {"month": "2026-11"}))
    page = people["office"].get("/ledger/").get_data(as_text=True)
    assert "已生成 2026年11月 月度分析研判报告(第 1 版)" in page and 'data-testid="monthly-documents"' in page
    [link] = _download_links(page)
    assert "2026年11月网络舆情分析研判报告" in _text(people["office"].get(link).data)
    _ok(people["office"].post("/ledger/monthly-report", {"month": "不是月份"}))
    assert "请选择月份,格式如 2026-11。" in people["office"].get("/ledger/").get_data(as_text=True)
    _ok(people["office"].post("/ledger/monthly-report", {"month": "1999-01"}))
    page = people["office"].get("/ledger/").get_data(as_text=True)
    assert "只能生成 2000年1月 至" in page and "1999" not in page and len(_download_links(page)) == 1
    assert people["other"].post("/ledger/monthly-report", {"month": "2026-11"}).status_code == 404
    assert people["other"].get(link).status_code == 404


def test_the_ledger_exports_a_workbook_with_labels_dates_and_a_frozen_header(app, db, user_factory, fake_clock):
    people = _people(app, user_factory)
    instance = start_incident(people["monitor"])
    _ok(submit(people["monitor"], instance, "ut_register", title="=1+1 标题\x01"))
    page = people["office"].get("/ledger/?platform=weibo").get_data(as_text=True)
    assert 'href="/ledger/export.xlsx?platform=weibo"' in page and "导出 Excel(XLSX)" in page
    response = people["office"].get("/ledger/export.xlsx?platform=weibo")
    assert response.status_code == 200 and response.mimetype.endswith("spreadsheetml.sheet")
    assert "filename*=UTF-8''%E8%88%86%E6%83%85%E5%8F%B0%E8%B4%A6" in response.headers["Content-Disposition"]
    sheet = openpyxl.load_workbook(io.BytesIO(response.data)).active
    header = [cell.value for cell in sheet[1]]
    assert header[:5] == ["编号", "标题", "状态", "结束时间", "等级"] and "发现时间" in header
    row = {title: cell for title, cell in zip(header, sheet[2], strict=True)}
    assert row["编号"].value == instance.business_key
    assert row["标题"].value == "=1+1 标题" and row["标题"].data_type == "s"  # text, never a formula
    assert row["发布平台"].value == "微博" and row["线索来源"].value == "自行监测" and row["状态"].value == "处置中"
    assert row["承办科室"].value in (None, "")
    assert row["发现时间"].value == datetime(2026, 11, 25, 9, 0)  # a real date cell in Shanghai time
    assert row["发现时间"].number_format == "yyyy-mm-dd hh:mm"
    assert sheet.freeze_panes == "A2" and sheet.column_dimensions["B"].width == 40
    empty = openpyxl.load_workbook(io.BytesIO(people["office"].get("/ledger/export.xlsx?level=1").data)).active
    assert empty.max_row == 1 and empty["A1"].value == "编号"  # an empty period is a valid file
    assert people["other"].get("/ledger/export.xlsx").status_code == 404
    exported = db.session.scalars(select(AuditEvent.detail).where(AuditEvent.action == "ledger_exported")).all()
    assert {"format": "xlsx", "platform": "weibo"} in exported


def test_the_monthly_tasks_offer_the_report_of_their_month(app, db, user_factory, fake_clock):
    people = _people(app, user_factory)
    assert schedules.ensure_scheduled() >= 1
    fake_clock.set(datetime(2026, 12, 1, 9, 0, 1, tzinfo=clock.SHANGHAI))  # the analysis of November starts
    assert timer_firing.fire_due_timers() >= 1
    draft = db.session.scalars(select(HumanTask).where(HumanTask.spec_id == "ut_draft_monthly")).one()
    page = people["office"].get(f"/tasks/{draft.public_id}").get_data(as_text=True)
    assert 'data-testid="monthly-documents"' in page and 'name="month" value="2026-11"' in page
    back = _ok(people["office"].post("/ledger/monthly-report", {"month": "2026-11", "task": draft.public_id}))
    assert back.headers["Location"].endswith(f"/tasks/{draft.public_id}#monthly")
    page = people["office"].get(f"/tasks/{draft.public_id}").get_data(as_text=True)
    assert "已生成 2026年11月 月度分析研判报告(第 1 版)" in page and len(_download_links(page)) == 1
    monitor_page = people["monitor"].get(f"/tasks/{draft.public_id}").get_data(as_text=True)
    assert "编写月度分析研判报告" in monitor_page and 'data-testid="monthly-documents"' not in monitor_page


def test_the_external_report_task_attaches_the_quick_report_to_its_materials(app, db, user_factory, fake_clock):
    people = _people(app, user_factory)
    leader = act_as(app, user_factory(["group_leader"], "leader"))
    instance = start_incident(people["monitor"])
    _ok(submit(people["monitor"], instance, "ut_register"))
    _ok(submit(people["office"], instance, "ut_confirm_level", confirmed_level="2",
               level_change_reason="境外媒体已转载"))
    _ok(submit(leader, instance, "ut_leader_confirm", confirmed_level="2", level_change_reason="同意",
               start_plan="true"))
    report = open_task(instance, "ut_external_report")
    page = people["office"].get(f"/tasks/{report.public_id}").get_data(as_text=True)
    assert "外部报告" in page and ">附到本任务</button>" not in page  # nothing generated yet
    _ok(people["office"].post(f"/ledger/{instance.business_key}/documents",
                              {"kind": "quick_report", "task": report.public_id}))
    page = people["office"].get(f"/tasks/{report.public_id}").get_data(as_text=True)
    [link] = _download_links(page)
    assert ">附到本任务</button>" in page
    back = _ok(people["office"].post(f"{link}/attach", {"task": report.public_id}))
    assert back.headers["Location"].endswith(f"/tasks/{report.public_id}#documents")
    page = people["office"].get(f"/tasks/{report.public_id}").get_data(as_text=True)
    name = f"{instance.business_key}-快报-v1.docx"
    assert f"已将{name}附到本任务的报送材料。" in page
    assert re.search(r'<ul class="attachments" id="field-report_doc-list">.*?' + re.escape(name), page, re.S)
    uploaded = db.session.scalars(select(AuditEvent.detail).where(AuditEvent.action == "attachment_uploaded")).one()
    assert uploaded["field"] == "report_doc" and uploaded["name"] == name
    # a task that sends nothing on cannot receive it, nor can someone who may not see the incident
    confirm = db.session.scalars(select(HumanTask).where(HumanTask.spec_id == "ut_confirm_level")).one()
    assert people["office"].post(f"{link}/attach", {"task": confirm.public_id}).status_code == 404
    assert people["other"].post(f"{link}/attach", {"task": report.public_id}).status_code == 404
