"""Generated documents (公文) from incidents walked through the real engine: each kind rendered, reopened with
python-docx and read for its key fields; versions, refusals that name the missing fact, the monthly report,
and a conversion to PDF by LibreOffice to be sure Word-compatible software opens them."""

from __future__ import annotations

import io
import re
import shutil
import subprocess
from pathlib import Path

import docx
import pytest
from flask_babel import force_locale
from sqlalchemy import select

from app import clock
from app.models import AuditEvent, GeneratedDocument
from app.operations import documents
from app.operations.errors import Invalid, NotFound
from tests.conftest import make_user
from tests.processes.answers import (
    ACCOUNTABILITY,
    CONFIRM,
    EXTERNAL_REPORT,
    LOG,
    REGISTER,
    SUBSIDED,
    SUMMARY,
    TASK_FORCE,
    WATCH,
)
from tests.processes.flow import Flow
from tests.processes.levels import at_level

CODES = ("social_insurance", "self_monitoring", "weibo", "qualified", "good", "gov_system", "None", "employment")
TITLE = "某街道社保窗口服务态度问题"


def _walked(fake_clock) -> Flow:
    """A level-Ⅳ incident from the quick report to the archive: released, subsided, summarised, assessed."""
    flow = summary_approved(fake_clock)
    flow.do("ut_accountability", **ACCOUNTABILITY)
    return flow


def summary_approved(fake_clock) -> Flow:
    """A level-Ⅳ incident from the quick report to its approved summary (accountability next)."""
    flow = Flow("yq_incident", incident=True, unit="social_insurance")
    flow.do("ut_register", **{**REGISTER, "title": TITLE, "summary": "网民发帖反映窗口办事拖延。",
                              "author": "@某网民", "views": 12000})
    flow.do("ut_confirm_level", **CONFIRM)
    flow.respond_and_publish()
    flow.do("ut_follow_up_log", **LOG, outcome="subsiding")
    flow.do("ut_confirm_subsided", **SUBSIDED)
    for _day in range(7):
        fake_clock.advance(days=1, minutes=1)
        flow.fire_timers()
        flow.do("ut_aftermath_watch", **WATCH)
    flow.do("ut_summary", **SUMMARY)
    flow.do("ut_approve_summary", summary_decision="approve")
    return flow


def _read(row: GeneratedDocument) -> tuple[str, docx.document.Document]:
    document = docx.Document(io.BytesIO(documents.open_document(row.public_id, make_user(["office_director"]))
                                        .content))
    cells = [cell.text for table in document.tables for line in table.rows for cell in line.cells]
    return "\n".join([p.text for p in document.paragraphs] + cells), document


def _no_codes(text: str) -> None:
    for code in CODES:  # a code standing alone, not part of a link such as weibo.com
        assert not re.search(rf"(?<![\w./]){code}(?![\w.])", text), code


def test_the_quick_report_release_and_case_file_of_a_walked_incident(db, fake_clock):
    flow = _walked(fake_clock)
    number = flow.instance.business_key
    quick = documents.generate_document("quick_report", number, flow.user)
    text, document = _read(quick)
    assert f"关于“{TITLE}”的舆情快报" in text and "市人力资源和社会保障局舆情快报" in text
    assert "舆快〔2026〕1号" in text and f"事件编号:{number}" in text
    assert "发现时间:2026年11月25日 09:00" in text and "发布平台:微博" in text and "线索来源:自行监测" in text
    assert "阅读量12000" in text and "国内网民关注度:低" in text and "Ⅳ级 影响较小的网络舆情" in text
    assert "涉及科室/单位:社会保险科" in text and "抄送:" in text and "印发" in text
    _no_codes(text)
    assert document.sections[0].footer.paragraphs[0].text == "— 1 —"  # the page number field
    fonts = document.paragraphs[2].runs[0]._element.rPr.rFonts
    assert fonts.get("{http://schemas.openxmlformats.org/wordprocessingml/2006/main}eastAsia") == "仿宋_GB2312"
    assert round(document.sections[0].top_margin.mm) == 37 and round(document.sections[0].left_margin.mm) == 28

    release = documents.generate_document("release", number, flow.user)
    text, _ = _read(release)
    assert "舆稿〔2026〕1号" in text and "正文" in text and "市人力资源和社会保障局新闻通稿" in text

    case = documents.generate_document("case_file", number, flow.user)
    text, _ = _read(case)
    assert f"“{TITLE}”网络舆情处置工作总结" in text and "舆档〔2026〕1号" in text
    assert "处置工作总结:总结" in text and "处置效果评价:好" in text
    assert "快报(发现后30分钟内)" in text and "按时" in text  # the timeliness table
    assert "社会保险科" in text and "合格" in text and "处置及时" in text  # accountability with labels
    assert "正面回应发布" in text and "结案归档" in text  # the timeline
    _no_codes(text)

    # The case file holds every unit's tasks and deadlines: the unit's own head reads the quick report and the
    # release of the incident, not the whole record (decision 150)
    head = make_user(["section_head"], unit="social_insurance")
    assert documents.open_document(quick.public_id, head).content == quick.content
    with pytest.raises(NotFound):
        documents.open_document(case.public_id, head)
    assert documents.readable_kinds(head) == ("quick_report", "external_report", "release")
    assert "case_file" in documents.readable_kinds(flow.user)

    again = documents.generate_document("quick_report", number, flow.user)
    assert (again.version, quick.version) == (2, 1) and again.filename == f"{number}-快报-v2.docx"
    audited = db.session.scalars(select(AuditEvent.action).where(AuditEvent.action.like("document_%"))).all()
    assert audited.count("document_generated") == 4 and "document_downloaded" in audited


def test_the_external_report_is_for_levels_one_and_two_and_names_the_superiors(db, fake_clock):
    flow = at_level(2, netizen_attention="high", title=TITLE)
    flow.do("ut_external_report", **EXTERNAL_REPORT)
    flow.do("ut_task_force", **TASK_FORCE)
    row = documents.generate_document("external_report", flow.instance.business_key, flow.user)
    text, _ = _read(row)
    assert f"关于“{TITLE}”网络舆情有关情况的报告" in text and "市委宣传部、市委网信办:" in text
    assert "Ⅱ级 重大或较大网络舆情" in text and "成立工作专班" in text and "特此报告。" in text
    _no_codes(text)
    flow.investigate_and_publish()  # at Ⅱ级 the superior approves the 通稿 and the group leader signs it
    text, _ = _read(documents.generate_document("release", flow.instance.business_key, flow.user))
    assert "通稿" in text and "正文" in text and "舆稿〔2026〕1号" in text


def test_a_document_that_lacks_a_fact_says_which(db, fake_clock):
    flow = Flow("yq_incident", incident=True, unit="social_insurance")
    number = flow.instance.business_key
    with pytest.raises(Invalid, match="无法生成快报:缺少“登记舆情\\(快报\\)记录”"):
        documents.generate_document("quick_report", number, flow.user)
    flow.do("ut_register", **REGISTER)
    flow.do("ut_confirm_level", **CONFIRM)
    with pytest.raises(Invalid, match="Ⅰ级或Ⅱ级"):
        documents.generate_document("external_report", number, flow.user)
    with pytest.raises(Invalid, match="审批通过的通稿"):
        documents.generate_document("release", number, flow.user)
    with pytest.raises(Invalid, match="总结评估"):
        documents.generate_document("case_file", number, flow.user)
    assert db.session.scalar(select(GeneratedDocument.id)) is None


def test_only_people_who_may_see_the_incident_get_its_documents(db, fake_clock):
    flow = Flow("yq_incident", incident=True, unit="social_insurance")
    flow.do("ut_register", **{**REGISTER, "title": "标题=cmd|' /C calc'!A0\x01"})
    number = flow.instance.business_key
    row = documents.generate_document("quick_report", number, flow.user)
    text, _ = _read(row)
    assert "标题=cmd" in text  # text with a control character still makes a valid document
    outsider = make_user(["section_head"], unit="employment")
    with pytest.raises(NotFound):
        documents.open_document(row.public_id, outsider)
    with pytest.raises(NotFound):
        documents.generate_document("quick_report", number, outsider)
    with pytest.raises(NotFound):
        documents.generate_monthly("2026-11", outsider)


def test_the_monthly_report_reads_the_statistics_and_an_empty_month_is_a_valid_file(db, fake_clock):
    _walked(fake_clock)
    office = make_user(["office_director"])
    row = documents.generate_monthly("2026-11", office)
    text, _ = _read(row)
    assert "2026年11月网络舆情分析研判报告" in text and "舆析〔2026〕11号" in text
    assert "舆情事件:1 起(" in text and "Ⅳ级 1 起" in text and "快报超时:0 起。" in text and TITLE in text
    assert "抄送:市委网信办、省人力资源和社会保障厅。" in text
    _no_codes(text)
    empty = documents.generate_monthly("2026-01", office)
    text, _ = _read(empty)
    assert "本月未发现需要处置的网络舆情事件。" in text and empty.subject == "2026-01"
    with force_locale("en"):  # generated by someone reading the English interface: still a Chinese document
        again = documents.generate_monthly("2026-01", office)
    assert again.filename == "2026-01-月度分析研判报告-v2.docx"
    with pytest.raises(Invalid, match="2026-11"):
        documents.generate_monthly("11/2026", office)
    now = clock.local(clock.now())
    this_month = f"{now.year}-{now.month:02d}"
    following = f"{now.year + now.month // 12}-{now.month % 12 + 1:02d}"
    for out_of_reach in ("1999-01", "1999-12", following, "2999-01"):  # no ledger then, nothing yet after
        with pytest.raises(Invalid, match=f"只能生成 2000年1月 至 {now.year}年{now.month}月"):
            documents.generate_monthly(out_of_reach, office)
    assert documents.generate_monthly("2000-01", office).subject == "2000-01"
    assert documents.generate_monthly(this_month, office).subject == this_month


@pytest.mark.skipif(shutil.which("soffice") is None,
                    reason="LibreOffice is not installed: run scripts/ensure_libreoffice.sh (make test does)")
def test_every_kind_converts_to_pdf_and_libreoffice_reads_the_first_page(db, fake_clock, tmp_path: Path):
    flow = _walked(fake_clock)
    number = flow.instance.business_key
    rows = [documents.generate_document(kind, number, flow.user) for kind in ("quick_report", "release", "case_file")]
    rows.append(documents.generate_monthly("2026-11", make_user(["office_director"])))
    for row in rows:
        (tmp_path / f"{row.kind}.docx").write_bytes(documents.open_document(row.public_id, flow.user).content)
    result = subprocess.run(
        ["soffice", f"-env:UserInstallation=file://{tmp_path}/profile", "--headless", "--convert-to", "pdf",
         "--outdir", str(tmp_path), *sorted(str(p) for p in tmp_path.glob("*.docx"))],
        capture_output=True, text=True, timeout=300, check=False)
    assert result.returncode == 0, result.stderr
    for row in rows:
        pdf = (tmp_path / f"{row.kind}.pdf").read_bytes()
        assert pdf.startswith(b"%PDF")
        pages = len(re.findall(rb"/Type\s*/Page[^s]", pdf))
        assert 1 <= pages <= 6, (row.kind, pages)  # A4 pages of a short document, not one page per line
    text = subprocess.run(
        ["soffice", f"-env:UserInstallation=file://{tmp_path}/profile", "--headless", "--cat",
         str(tmp_path / "quick_report.docx")], capture_output=True, text=True, timeout=300, check=True).stdout
    first = [line.strip("\ufeff ") for line in text.splitlines() if line.strip("\ufeff ")][:4]
    assert first == ["市人力资源和社会保障局舆情快报", "舆快〔2026〕1号", f"关于“{TITLE}”的舆情快报", "领导小组:"]
