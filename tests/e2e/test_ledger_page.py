"""The ledger page of an incident (/ledger/<number>) after whole incidents worked over HTTP: the record a
superior asks about — level history with reasons, reports to superiors, releases with their returns,
each dispatched unit's lateness and 催办/督办, follow-up rounds, accountability — in labels, never codes."""

from __future__ import annotations

from datetime import timedelta

from tests.e2e import answers
from tests.e2e.browser import Page
from tests.e2e.checks import page_problems
from tests.e2e.walk import Walk

REGISTER = ("monitor", "/tasks", "登记新舆情(快报)")


def ledger_page(walk: Walk) -> Page:
    """The incident's ledger page as the office reads it; nothing on it is a code or stray English."""
    page = walk.people["office"].get(f"/ledger/{walk.incident().number}")
    assert page.status == 200
    assert page_problems(page, walk.data, walk.allowed_deadlines()) == []
    return page


def section(page: Page, testid: str) -> str:
    element = page.testid(testid)
    assert element is not None, f"no section {testid!r} on the ledger page"
    return " ".join(element.text_content().split())


def test_level3_ledger_shows_each_unit_late_urged_and_supervised(walk_factory):
    walk = walk_factory(answers.LEVEL3, crawl=False)
    walk.start(*REGISTER)
    walk.hold.add("ut_unit_feedback")
    walk.run(until=lambda w: sum(t.spec_id == "ut_unit_feedback" for t in w.open_tasks()) == 2)
    late = next(t for t in walk.open_tasks() if t.spec_id == "ut_unit_feedback" and t.unit_code == "social_insurance")
    office = walk.people["office"]
    task_page = office.get(f"/tasks/{late.public_id}")
    form = task_page.form(button="催办").fill(urge_note="请今天下班前反馈参保核实情况。")
    assert office.submit(form, "催办").status == 200
    walk.pass_time(timedelta(hours=4, minutes=30))  # both units miss their 4-hour feedback time
    walk.hold.clear()
    walk.run()
    page = ledger_page(walk)

    rows = {cells[0]: cells for cells in page.table_rows("dispatch")}
    assert set(rows) == {"就业促进科", "社会保险科"}, rows
    unit = rows["社会保险科"]
    assert unit[1].startswith("核实当事人参保情况") and "已核实并整改。" in unit[1]  # the task and its feedback
    assert unit[2] != "—" and unit[3] != "尚未反馈"  # due and done
    assert unit[4] == "超时 30分钟 反馈", unit  # due four hours after the dispatch, answered half an hour late
    assert "催办" in unit[5] and "请今天下班前反馈参保核实情况。" in unit[5] and "督办" in unit[5], unit
    assert "催办" not in rows["就业促进科"][5] and "督办" in rows["就业促进科"][5]

    releases = section(page, "releases")
    assert "审批通稿" in releases and "退回修改" in releases and "请补充整改时限。" in releases  # returned, why
    assert "第 1 稿" in releases and "第 2 稿" in releases  # the draft written again after the return
    rounds = section(page, "follow-up")
    assert "第 1 轮" in rounds and "无法引导需上报" in rounds and "网民质疑整改不到位。" in rounds
    assert "第 2 轮" in rounds and "缓退/平息" in rounds
    assert "召开新闻发布会" in section(page, "press") and "通报调查进展。" in section(page, "press")
    aftermath = section(page, "aftermath")
    assert "处置及时。" in aftermath and "增加窗口高峰期应急预案。" in aftermath  # summary, plan revision
    assert ["就业促进科", "表彰", "处置及时。", "—"] in page.table_rows("accountability")
    assert ":承办反馈(就业促进科)已超时:" in rows["就业促进科"][5]  # the 督办 as the record says it

    english = office.get(f"/ledger/{walk.incident().number}?lang=en")  # the same table on the English page
    rows = {cells[0]: cells for cells in english.table_rows("dispatch")}
    assert rows["Social insurance section"][4] == "Answered 30 min late", rows
    supervised = rows["Employment promotion section"][5]
    assert supervised.startswith("Supervision ") and "已超时" not in supervised and "督办" not in supervised
    assert ": Unit feedback (Employment promotion section) missed: " in supervised, supervised  # then the task


def test_level2_ledger_shows_the_report_to_superiors_and_false_information(walk_factory):
    walk = walk_factory(answers.LEVEL2, crawl=False)
    walk.start(*REGISTER)
    walk.run()
    page = ledger_page(walk)
    reported = [cells for cells in page.table_rows("superior-reports") if cells[0] == "外部报告/请示上级"]
    assert len(reported) == 1, page.table_rows("superior-reports")
    _what, to, when, how, receipt, who, _link = reported[0]
    assert to == "市委宣传部、市委办" and when != "—"  # to whom (the report and the quick report), when
    assert how == "政务系统" and receipt == "市委网信办值班室已接收。" and who == "办公室主任(演示)"
    reports = section(page, "reports")  # every line with its fields, the superiors' answers among them
    assert "上级审核意见" in reports and "宣审〔2026〕1号" in reports and "统一口径,及时发布。" in reports
    leader = [cells for cells in page.table_rows("level-history") if cells[1] == "领导小组确认定级"]
    assert leader and leader[0][2] == "Ⅱ级 重大或较大网络舆情" and leader[0][4] == "领导小组组长(演示)", leader
    false_info = section(page, "false-info")
    assert "网传窗口停办业务,与事实不符。" in false_info and "论坛已删除不实帖文。" in false_info
    assert "组长签发" in section(page, "releases") or "审批通稿" in section(page, "releases")


def test_upgraded_incident_ledger_shows_proposed_confirmed_and_regraded_levels(walk_factory):
    walk = walk_factory(answers.UPGRADE, crawl=False)
    walk.start(*REGISTER)
    walk.run()
    page = ledger_page(walk)
    steps = page.table_rows("level-history")
    what = [cells[1] for cells in steps]
    assert what[0] == "系统建议定级" and steps[0][2].startswith("Ⅳ级") and steps[0][3] != "—"  # with its basis
    confirmed = next(cells for cells in steps if cells[1] == "办公室确认定级")
    assert confirmed[2].startswith("Ⅳ级") and confirmed[3] == "同意系统建议的等级" and confirmed[4] != "系统"
    regrade = next(cells for cells in steps if cells[1] == "复核定级")
    assert regrade[2] == "Ⅱ级 重大或较大网络舆情" and regrade[3] == "转发量激增,影响扩散到很大范围。"
    assert regrade[4] not in ("", "系统")  # who re-graded it
    changed = next(cells for cells in steps if cells[1].startswith("等级调整"))
    assert "Ⅳ级" in changed[1] and changed[2].startswith("Ⅱ级")  # from which level to which
