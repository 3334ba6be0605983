"""The monthly analysis report (月度分析研判报告) as a document: the ledger's statistics of the month with
labels, deadline compliance per kind (late quick reports included) and the list of the month's incidents."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from app import clock
from app.models import Incident
from app.operations import deadlines, labels
from app.operations.document_texts import MissingField
from app.operations.docx_layout import Letter, OfficialDocument
from app.operations.vocabulary import level_name


def _incident_row(incident: Incident, names: dict[str, str]) -> tuple[str, ...]:
    late = "、".join(row.label for row in deadlines.deadline_rows(incident, names) if row.state in ("late", "overdue"))
    level = (level_name(incident.level) or "未定级").split(" ")[0]
    return incident.number, incident.title, level, labels.incident_status(incident.status), late


def monthly_report(session: Session, start: datetime, end: datetime, stats: dict[str, Any],
                   profile: dict[str, Any]) -> bytes:
    """The report of [start, end) from `stats` (statistics.period_stats: the figures the monthly analysis
    process reads too) and the month's incidents."""
    issuer = str(profile.get("org_name") or "")
    if not issuer:
        raise MissingField("单位名称(机构配置)")
    names = labels.unit_names()
    incidents = list(session.scalars(select(Incident).where(Incident.discovered_at >= start,
                                                            Incident.discovered_at < end)
                                     .order_by(Incident.discovered_at, Incident.id)))
    last_day = clock.local(end - timedelta(seconds=1))
    letter = Letter(issuer=issuer, masthead=f"{issuer}舆情分析", reference=f"舆析〔{start.year}〕{start.month}号",
                    title=f"{start.year}年{start.month}月网络舆情分析研判报告", addressee="领导小组",
                    signed=clock.now(), copies=tuple(profile.get("monthly_report_recipients") or ()),
                    printer=f"{issuer}办公室")
    doc = OfficialDocument(letter)
    doc.line(f"现将{start.year}年{start.month}月1日至{last_day.month}月{last_day.day}日网络舆情监测处置情况分析如下:")
    doc.heading("一、总体情况")
    if not incidents:
        doc.line("本月未发现需要处置的网络舆情事件。")
    for line in stats["lines"][1:]:
        doc.line(line)
    doc.heading("二、时效情况")
    rows = [(row["label"], row["applicable"], row["met"], row["missed"], row["rate"])
            for row in stats["compliance"] if row["applicable"]]
    doc.line(f"快报超时:{stats['late_reports']} 起。")
    if rows:
        doc.table(("时限", "应办(起)", "按时(起)", "超时(起)", "按时率"), rows, (62, 24, 24, 24, 22))
    doc.heading("三、事件清单")
    if incidents:
        doc.table(("编号", "标题", "等级", "状态", "超时环节"), [_incident_row(i, names) for i in incidents],
                  (30, 56, 18, 18, 34))
    else:
        doc.line("无。")
    doc.heading("四、研判与建议")
    if stats["overdue"]:
        doc.line(f"本月有 {stats['overdue']} 起事件存在超时环节,应对照时限要求查找原因,压实快报和首次发布责任。")
    else:
        doc.line("本月各项处置时限均按时完成,应保持7×24小时监测值守,做到快报事实、慎报原因。")
    return doc.save()
