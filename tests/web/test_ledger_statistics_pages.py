"""The ledger's statistics page (charts with their data tables), its filters shared with the list and the
exports, searches, and bad filter input answered with a sentence rather than an error."""

from __future__ import annotations

import csv
import io
import json
import re
from html import unescape

import openpyxl

from app import clock
from app.db import transaction
from app.models import ProcessInstance
from app.operations import ledger
from tests.conftest import login
from tests.operations.ledger_month import november

PERIOD = "since=2026-11-01&until=2026-11-30"


def _rows(page: str, testid: str) -> list[list[str]]:
    """The body rows of a table of the page, cell texts without tags."""
    table = re.search(rf'<table[^>]*data-testid="{testid}".*?</table>', page, re.S)
    assert table, testid
    body = re.search(r"<tbody>(.*?)</tbody>", table.group(0), re.S).group(1)
    cells = r"<t[hd][^>]*>(.*?)</t[hd]>"
    return [[unescape(re.sub(r"<[^>]+>", "", cell)).strip() for cell in re.findall(cells, row, re.S)]
            for row in re.findall(r"<tr[^>]*>(.*?)</tr>", body, re.S)]


def _charts(page: str) -> dict:
    found = re.search(r'data-charts="([^"]*)"', page)
    return json.loads(unescape(found.group(1)))


def test_the_statistics_page_shows_charts_and_their_tables_with_labels(client, db, fake_clock, user_factory):
    november(fake_clock)
    login(client, user_factory(["office_director"]))
    page = client.get(f"/ledger/statistics?{PERIOD}").get_data(as_text=True)
    assert "vendor/chart.js/chart.umd.js" in page and "js/ledger-charts.js" in page  # served here, no CDN
    assert _rows(page, "table-level") == [["Ⅰ级", "0"], ["Ⅱ级", "0"], ["Ⅲ级", "1"], ["Ⅳ级", "2"]]
    assert _rows(page, "table-platform") == [["微博", "2"], ["抖音", "1"]]
    assert _rows(page, "table-unit") == [["政策法规科", "2"], ["就业促进科", "1"]]
    assert _rows(page, "table-source") == [["自行监测", "3"]]
    assert ["30分钟–1小时", "1"] in _rows(page, "table-report")
    compliance = _rows(page, "table-compliance")
    assert compliance[:4] == [["快报(发现后30分钟内)", "3", "2", "1", "0", "67%"],
                              ["首次权威发布", "3", "1", "1", "1", "50%"],
                              ["国家规定48小时回应", "3", "2", "0", "1", "100%"],
                              ["新闻发布会(24小时内)", "0", "0", "0", "0", "—"]]
    assert ["11月23日起", "3", "2"] in _rows(page, "table-trend")
    charts = _charts(page)  # what Chart.js draws is what the tables say
    assert charts["platform"] == {"labels": ["微博", "抖音"], "counts": [2, 1]}
    assert charts["compliance"]["missed"][:4] == [1, 1, 0, 0]
    assert "weibo" not in json.dumps(charts) and "self_monitoring" not in json.dumps(charts)
    monthly = client.get(f"/ledger/statistics?{PERIOD}&trend=month").get_data(as_text=True)
    assert _rows(monthly, "table-trend") == [["2026年11月", "3", "2"]]
    yearly = client.get(f"/ledger/statistics?{PERIOD}&trend=year").get_data(as_text=True)
    assert _rows(yearly, "table-trend") == [["2026年", "3", "2"]] and "趋势(按年)" in yearly
    assert 'data-testid="trend-week"' in yearly and 'data-testid="trend-month"' in yearly


def test_filters_apply_to_the_statistics_the_list_and_both_exports(client, db, fake_clock, user_factory):
    late_report, late_release, on_time = november(fake_clock)
    login(client, user_factory(["office_director"]))
    query = f"{PERIOD}&overdue=yes&platform=weibo"
    page = client.get(f"/ledger/statistics?{query}").get_data(as_text=True)
    assert "共 1 起" in page and _rows(page, "table-platform") == [["微博", "1"]]
    assert _rows(page, "table-compliance")[0] == ["快报(发现后30分钟内)", "1", "0", "1", "0", "0%"]
    listed = client.get(f"/ledger/?{query}").get_data(as_text=True)
    assert late_report.business_key in listed and on_time.business_key not in listed
    assert late_release.business_key not in listed  # overdue, but on 抖音
    assert f'href="/ledger/statistics?{query.replace("&", "&amp;")}"' in listed
    lines = list(csv.reader(io.StringIO(client.get(f"/ledger/export.csv?{query}").get_data(as_text=True)[1:])))
    assert [line[0] for line in lines[1:]] == [late_report.business_key]
    sheet = openpyxl.load_workbook(io.BytesIO(client.get(f"/ledger/export.xlsx?{query}").data)).active
    assert [row[0].value for row in sheet.iter_rows(min_row=2)] == [late_report.business_key]
    searched = client.get("/ledger/?q=办事拖延").get_data(as_text=True)  # words of the description, not the title
    assert late_report.business_key in searched and late_release.business_key not in searched
    found = client.get("/ledger/statistics?q=补贴").get_data(as_text=True)
    assert "共 1 起" in found and _rows(found, "table-platform") == [["抖音", "1"]]


def test_an_empty_period_gives_an_empty_valid_page_and_files(client, db, fake_clock, user_factory):
    november(fake_clock)
    login(client, user_factory(["office_director"]))
    empty = "since=2020-01-01&until=2020-01-31"
    page = client.get(f"/ledger/statistics?{empty}")
    text = page.get_data(as_text=True)
    assert page.status_code == 200 and "所选期间和条件下没有事件" in text and "共 0 起" in text
    assert _rows(text, "table-platform") == [["无"]] and _rows(text, "table-trend")[0] == ["2019年12月30日起", "0", "0"]
    assert _rows(text, "table-compliance")[0] == ["快报(发现后30分钟内)", "0", "0", "0", "0", "—"]
    assert "没有符合条件的事件" in client.get(f"/ledger/?{empty}").get_data(as_text=True)
    body = client.get(f"/ledger/export.csv?{empty}").get_data(as_text=True)
    assert len(list(csv.reader(io.StringIO(body[1:])))) == 1  # the header alone
    sheet = openpyxl.load_workbook(io.BytesIO(client.get(f"/ledger/export.xlsx?{empty}").data)).active
    assert sheet.max_row == 1


def test_unknown_filter_values_are_ignored_with_a_sentence_never_an_error(client, db, fake_clock, user_factory):
    november(fake_clock)
    login(client, user_factory(["office_director"]))
    bad = "level=9&platform=myspace&unit=%3Cscript%3E&source=x&status=gone&overdue=1&trend=day"
    for url in (f"/ledger/?{bad}", f"/ledger/statistics?{bad}", f"/ledger/export.csv?{bad}",
                f"/ledger/export.xlsx?{bad}"):
        assert client.get(url).status_code == 200, url
    page = client.get(f"/ledger/statistics?{bad}").get_data(as_text=True)
    assert "未知的发布平台“myspace”,已忽略该条件。" in page and "未知的等级“9”,已忽略该条件。" in page
    assert "<script>" not in page
    assert "共 3 起" in page  # every condition dropped: the whole ledger
    reversed_period = client.get("/ledger/statistics?since=2026-11-30&until=2026-11-01").get_data(as_text=True)
    assert "起始日期晚于截止日期" in reversed_period and "共 0 起" in reversed_period


def test_a_terminated_incident_reads_as_terminated_never_on_time(client, db, fake_clock, user_factory):
    _, _, on_time = november(fake_clock)  # reported on time; its first release due in 12 hours
    with transaction() as session:
        ledger.record_termination(session, session.get(ProcessInstance, on_time.id), None, "误报")
    fake_clock.advance(hours=20)  # past the release's due time, but it was terminated before that
    login(client, user_factory(["office_director"]))
    number = on_time.business_key
    listing = client.get(f"/ledger/?{PERIOD}").get_data(as_text=True)
    row = next(r for r in re.findall(r"<tr>(.*?)</tr>", listing, re.S) if number in r)
    assert "已终止" in row and "按时" not in row
    for url in (f"/ledger/{number}", f"/incidents/{number}"):
        page = client.get(url).get_data(as_text=True)
        assert "终止时间" in page and "结案时间" not in page, url
        table = re.search(r'<table[^>]*data-testid="deadlines".*?</table>', page, re.S).group(0)
        assert "未完成(事件已终止)" in table and "已超时" not in table and "剩余" not in table, url
    stats = client.get(f"/ledger/statistics?{PERIOD}").get_data(as_text=True)
    assert _rows(stats, "table-compliance")[1][:5] == ["首次权威发布", "2", "1", "1", "0"]  # its release not counted


def test_both_exports_say_when_and_how_an_incident_ended_in_chinese_and_english_mode(client, db, fake_clock,
                                                                                     user_factory):
    late_report, _, on_time = november(fake_clock)
    with transaction() as session:
        ledger.record_termination(session, session.get(ProcessInstance, on_time.id), None, "误报")
    ended = clock.local(fake_clock.current).replace(tzinfo=None, second=0, microsecond=0)
    login(client, user_factory(["office_director"]))
    for lang in ("zh_CN", "en"):
        with client.session_transaction() as session:
            session["lang"] = lang
        lines = list(csv.reader(io.StringIO(client.get(f"/ledger/export.csv?{PERIOD}").get_data(as_text=True)[1:])))
        sheet = openpyxl.load_workbook(io.BytesIO(client.get(f"/ledger/export.xlsx?{PERIOD}").data)).active
        cells = [[cell.value for cell in row] for row in sheet.iter_rows()]
        for table in (lines, cells):
            assert table[0][2:4] == ["状态", "结束时间"] and "结案时间" not in table[0], lang
            rows = {row[0]: row for row in table[1:]}
            assert rows[on_time.business_key][2] == "已终止", lang  # the file is Chinese whoever exports it
            assert rows[on_time.business_key][3] in (ended, ended.strftime("%Y-%m-%d %H:%M")), lang
            assert rows[late_report.business_key][2:4] in (["处置中", ""], ["处置中", None]), lang


def test_the_statistics_page_in_english_names_levels_deadlines_and_periods_in_english(client, db, fake_clock,
                                                                                       user_factory):
    november(fake_clock)
    login(client, user_factory(["office_director"]))
    with client.session_transaction() as session:
        session["lang"] = "en"
    page = client.get(f"/ledger/statistics?{PERIOD}").get_data(as_text=True)
    assert _rows(page, "table-level") == [["Level Ⅰ", "0"], ["Level Ⅱ", "0"], ["Level Ⅲ", "1"], ["Level Ⅳ", "2"]]
    compliance = _rows(page, "table-compliance")
    assert [row[0] for row in compliance[:4]] == ["Quick report (within 30 minutes of discovery)",
                                                  "First authoritative release",
                                                  "Nationally required response within 48 hours",
                                                  "Press conference (within 24 hours)"]
    assert compliance[0][1:] == ["3", "2", "1", "0", "67%"]
    assert ["from 23 Nov", "3", "2"] in _rows(page, "table-trend")
    for chinese in ("Ⅲ级", "快报(发现后30分钟内)", "首次权威发布", "国家规定48小时回应", "新闻发布会", "月", "日起"):
        assert chinese not in page.split('id="ledger-charts"')[1], chinese
    monthly = client.get(f"/ledger/statistics?{PERIOD}&trend=month").get_data(as_text=True)
    assert _rows(monthly, "table-trend") == [["Nov 2026", "3", "2"]]
