"""What each generated document says, written from the ledger (facts, entries, deadlines) with labels.

One function per kind returns the finished .docx bytes. A fact a document cannot do without raises
`MissingField` naming it, so nobody signs a document with a blank where a fact belongs.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import select

from app.extensions import db
from app.models import Attachment, Incident, LedgerEntry, User
from app.operations import deadlines, labels
from app.operations.docx_layout import Letter, OfficialDocument, date_cn, time_cn
from app.operations.ledger_kinds import kind_label
from app.operations.vocabulary import level_name

SPREAD_FIELDS = ("netizen_attention", "foreign_media", "spread_speed", "impact_scope", "offline_risk")
METRICS = (("views", "阅读量"), ("reposts", "转发量"), ("comments", "评论量"), ("likes", "点赞量"))


class MissingField(Exception):
    """The incident lacks a fact the document needs; `field` names it in words."""

    def __init__(self, field: str):
        super().__init__(field)
        self.field = field


@dataclass
class Record:
    """An incident with what its documents read: entries (with who wrote them), labels, the profile."""

    incident: Incident
    entries: list[tuple[LedgerEntry, str | None]]
    facts: dict[str, str]
    profile: dict[str, Any]
    definition_id: int | None

    def last(self, kind: str) -> LedgerEntry | None:
        found = [entry for entry, _ in self.entries if entry.kind == kind]
        return found[-1] if found else None

    def registered(self) -> dict[str, Any]:
        entry = self.last("registered")
        if entry is None:
            raise MissingField("登记舆情(快报)记录")
        return entry.data or {}

    def label(self, field: str, value: Any) -> str:
        if value in (None, ""):
            return ""
        if isinstance(value, bool):
            return "是" if value else "否"
        names = labels.field_labels(field, self.definition_id)
        if isinstance(value, list):
            return "、".join(names.get(str(v), str(v)) for v in value)
        return names.get(str(value), str(value))


def load_record(incident: Incident, profile: dict[str, Any]) -> Record:
    """Everything the documents of `incident` read, loaded once."""
    rows = db.session.execute(select(LedgerEntry, User.display_name).outerjoin(User, User.id == LedgerEntry.actor_id)
                              .where(LedgerEntry.incident_id == incident.id)
                              .order_by(LedgerEntry.at, LedgerEntry.id)).all()
    return Record(incident, [(entry, name) for entry, name in rows], labels.incident_facts(incident), profile,
                  labels.incident_definition(incident))


def _year_number(incident: Incident) -> tuple[str, int]:
    _, year, serial = [*incident.number.split("-"), "", ""][:3]
    return year, int(serial) if serial.isdigit() else incident.id


def _letter(record: Record, masthead: str, prefix: str, title: str, signed: datetime | None, **more: Any) -> Letter:
    issuer = str(record.profile.get("org_name") or "")
    if not issuer:
        raise MissingField("单位名称(机构配置)")
    year, serial = _year_number(record.incident)
    return Letter(issuer=issuer, masthead=masthead or issuer, reference=f"{prefix}〔{year}〕{serial}号",
                  title=title, signed=signed, printer=f"{issuer}办公室", **more)


def _require(value: Any, name: str) -> Any:
    if value in (None, "", []):
        raise MissingField(name)
    return value


def _facts_section(doc: OfficialDocument, record: Record, data: dict[str, Any]) -> None:
    incident = record.incident
    doc.line(f"事件编号:{incident.number}")
    doc.line(f"发现时间:{time_cn(_require(incident.discovered_at, '发现时间'))}")
    if incident.occurred_at:
        doc.line(f"首发时间:{time_cn(incident.occurred_at)}")
    doc.line(f"线索来源:{_require(record.facts['source_type'], '线索来源')}")
    platform = labels.with_other_platform(record.facts["platform"] or "", data)
    if platform:
        doc.line(f"发布平台:{platform}")
    if data.get("author"):
        doc.line(f"发布账号:{data['author']}")
    if incident.url:
        doc.line(f"原文链接:{incident.url}")
    doc.line(f"内容摘要:{_require(data.get('summary'), '内容摘要')}")


def quick_report(record: Record) -> bytes:
    """快报: the facts as registered, how it spreads, the proposed level, the first suggestion."""
    incident, data = record.incident, record.registered()
    title = f"关于“{_require(incident.title, '舆情标题')}”的舆情快报"
    body = record.profile.get("quick_report_to") if incident.level in (1, 2) else None
    letter = _letter(record, f"{record.profile.get('org_name', '')}舆情快报", "舆快", title,
                     incident.reported_at or incident.discovered_at, addressee="领导小组",
                     copies=tuple(body or ()) or ("领导小组办公室",))
    doc = OfficialDocument(letter)
    doc.heading("一、基本情况")
    _facts_section(doc, record, data)
    doc.heading("二、传播情况")
    metrics = [f"{name}{data[key]}" for key, name in METRICS if data.get(key) not in (None, "")]
    if metrics:
        doc.line("截至快报时," + ",".join(metrics) + "。")
    for key in SPREAD_FIELDS:
        if data.get(key):
            doc.line(f"{_field_title(key)}:{record.label(key, data[key])}")
    doc.heading("三、等级研判")
    proposed = record.last("level_proposed")
    level = level_name(incident.proposed_level) or "待定级"
    doc.line(f"系统建议等级:{level}" + (f"(依据:{proposed.data.get('grade_basis')})"
                                      if proposed and proposed.data.get("grade_basis") else ""))
    if incident.level:
        doc.line(f"确认等级:{level_name(incident.level)}")
    doc.heading("四、涉及单位及处置建议")
    doc.line(f"涉及科室/单位:{record.facts['related_units'] or '暂未确定'}")
    if data.get("suggestion"):
        doc.line(f"初步处置建议:{data['suggestion']}")
    return doc.save()


def _field_title(key: str) -> str:
    return {"netizen_attention": "国内网民关注度", "foreign_media": "境外媒体关注情况", "spread_speed": "传播速度",
            "impact_scope": "影响范围", "offline_risk": "转化为行为舆论的可能性"}[key]


def external_report(record: Record) -> bytes:
    """报告 to superiors (levels Ⅰ and Ⅱ): what happened, the level and why, what was done, what is next."""
    incident, data = record.incident, record.registered()
    level = incident.level or incident.proposed_level
    if level not in (1, 2):
        raise MissingField("Ⅰ级或Ⅱ级响应等级(外部报告只报Ⅰ、Ⅱ级事件)")
    sent = record.last("external_report")
    to = (sent.data.get("report_to") if sent else None) or record.profile.get(
        "superiors_l1" if level == 1 else "external_report_to") or []
    title = f"关于“{_require(incident.title, '舆情标题')}”网络舆情有关情况的报告"
    letter = _letter(record, f"{record.profile.get('org_name', '')}文件", "舆报", title,
                     incident.confirmed_at or incident.reported_at, addressee="、".join(_require(to, "报送单位")))
    doc = OfficialDocument(letter)
    doc.line(f"{date_cn(incident.discovered_at)},我局发现{record.facts['platform'] or '网络'}上出现"
             f"“{incident.title}”相关舆情。现将有关情况报告如下:")
    doc.heading("一、舆情概况")
    _facts_section(doc, record, data)
    doc.heading("二、等级研判")
    doc.line(_grading(record, level))
    doc.heading("三、已采取的处置措施")
    done = [(entry, who) for entry, who in record.entries
            if entry.kind in ("task_force", "investigation", "consultation", "release_published", "dispatch",
                              "press_conference", "follow_up") and entry.summary]
    for entry, _ in done or []:
        doc.line(f"{time_cn(entry.at)},{kind_label(entry.kind)}:{entry.summary}")
    if not done:
        doc.line("正在按预案组织核实和处置。")
    doc.heading("四、下一步工作")
    doc.line("继续加强监测研判,及时回应社会关切,有关情况及时续报。")
    doc.line("特此报告。")
    return doc.save()


def _grading(record: Record, level: int) -> str:
    """二、等级研判 in one paragraph, each step named: the office's grading, the leading group's confirmation, a
    later change of level, each with its reason, then the level the incident is handled at."""
    steps = []
    for kind, who in (("level_confirmed", "领导小组办公室研判为"), ("leader_confirmed", "领导小组确认为")):
        entry = record.last(kind)
        if entry is not None and level_name((entry.data or {}).get("confirmed_level")):
            reason = str((entry.data or {}).get("level_change_reason") or "").strip().rstrip("。")
            steps.append(who + level_name(entry.data["confirmed_level"]) + (f"(理由:{reason})" if reason else ""))
    changed = record.last("level_changed")
    if changed is not None and level_name((changed.data or {}).get("confirmed_level")):
        data = changed.data
        before = level_name(data.get("upgraded_from"))
        reason = str(data.get("upgrade_reason") or "").strip().rstrip("。")
        steps.append((f"后由{before}调整为" if before else "后调整为") + level_name(data["confirmed_level"])
                     + (f"(理由:{reason})" if reason else ""))
    return "经研判," + "".join(f"{step}," for step in steps) + f"按{level_name(level)}响应处置。"


def approved_release(record: Record) -> tuple[LedgerEntry, LedgerEntry]:
    """The last drafted 通稿 that an approval followed, and that approval."""
    draft = approved = None
    for entry, _ in record.entries:
        if entry.kind == "release_drafted":
            draft = (entry, None)
        elif entry.kind in ("release_review", "external_approval") and draft is not None:
            decision = (entry.data or {}).get("release_decision") or (entry.data or {}).get("approval_decision")
            if decision == "approve":
                approved = (draft[0], entry)
    if approved is None:
        raise MissingField("审批通过的通稿")
    return approved


def release(record: Record) -> bytes:
    """通稿 as approved: its title and body, signed by the organisation on the day of approval."""
    draft, approval = approved_release(record)
    title = _require(draft.data.get("release_title"), "通稿标题")
    letter = _letter(record, f"{record.profile.get('org_name', '')}新闻通稿", "舆稿", title, approval.at)
    doc = OfficialDocument(letter)
    doc.text(_require(draft.data.get("release_body"), "通稿正文"))
    return doc.save()


def case_file(record: Record) -> bytes:
    """事后总结 case file: facts, timeline, timeliness with overruns, summary, accountability, attachments."""
    incident, data = record.incident, record.registered()
    summary = record.last("summary")
    if summary is None:
        raise MissingField("总结评估")
    title = f"“{_require(incident.title, '舆情标题')}”网络舆情处置工作总结"
    letter = _letter(record, f"{record.profile.get('org_name', '')}文件", "舆档", title, summary.at,
                     addressee="领导小组", copies=("领导小组办公室",))
    doc = OfficialDocument(letter)
    doc.heading("一、基本情况")
    _facts_section(doc, record, data)
    doc.line(f"响应等级:{level_name(incident.level) or '未定级'};状态:{record.facts['status']};"
             f"承办科室:{record.facts['lead_unit'] or '未定'}")
    doc.heading("二、处置经过")
    doc.table(("时间", "环节", "内容", "办理人"),
              [(clock_short(e.at), kind_label(e.kind), e.summary, who or "系统") for e, who in record.entries],
              (30, 30, 70, 26))
    doc.heading("三、时效情况")
    doc.table(("时限", "截止时间", "完成时间", "结果"), _timeliness(incident), (44, 32, 32, 48))
    doc.heading("四、总结评估")
    said = summary.data or {}
    doc.line(f"处置工作总结:{_require(said.get('work_summary'), '处置工作总结')}")
    if said.get("effectiveness"):
        doc.line(f"处置效果评价:{record.label('effectiveness', said['effectiveness'])}")
    for key, name in (("internal_causes", "原因分析"), ("lessons", "经验与问题"), ("expert_opinion", "专家意见")):
        if said.get(key):
            doc.line(f"{name}:{said[key]}")
    doc.heading("五、责任考评")
    _accountability(doc, record)
    doc.heading("六、附件清单")
    files = _attachments(incident)
    for index, name in enumerate(files, 1):
        doc.line(f"{index}. {name}")
    if not files:
        doc.line("无。")
    return doc.save()


def clock_short(value: datetime | None) -> str:
    return time_cn(value)[5:] if value else ""


def _timeliness(incident: Incident) -> list[tuple[str, str, str, str]]:
    rows = []
    for row in deadlines.deadline_rows(incident, labels.unit_names()):
        late = deadlines.span_text(row.late_by) if row.late_by else ""
        result = {"met": "按时", "late": f"超时 {late}", "overdue": f"尚未完成,已超时 {late}",
                  "open": "尚未完成,未到期"}[row.state]
        rows.append((row.label, clock_short(row.due_at), clock_short(row.done_at), result))
    return rows


def _accountability(doc: OfficialDocument, record: Record) -> None:
    entry = record.last("accountability")
    rows = (entry.data or {}).get("accountability_rows") if entry else None
    if not rows:
        doc.line("尚未进行责任考评。")
        return
    names = labels.column_labels("accountability_rows", "evaluation", record.definition_id)
    doc.table(("单位或个人", "考评结果", "理由", "措施"),
              [(row.get("subject"), names.get(str(row.get("evaluation")), row.get("evaluation")), row.get("reason"),
                row.get("measure")) for row in rows if isinstance(row, dict)], (36, 24, 56, 40))
    if entry.data.get("decided_at"):
        doc.line(f"考评时间:{entry.data['decided_at'].replace('T', ' ')[:16]}")


def _attachments(incident: Incident) -> list[str]:
    if incident.instance_id is None:
        return []
    return list(db.session.scalars(select(Attachment.filename).where(Attachment.instance_id == incident.instance_id)
                                   .order_by(Attachment.id)))
