"""The ledger's entry kinds: what each is called, which task data a service task's entry keeps, and
how it updates the incident's head row (level, key times, deadlines) when it is written.

A new kind is added here (and to `LEDGER_KINDS` in app/engine/services.py, which the deploy checks use);
writing an entry is app/operations/ledger.py's job.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from app import clock
from app.models import Incident
from app.operations import deadlines, ledger_filter

View = dict[str, Any]
Head = Callable[[Incident, View, datetime], None]

_parse = clock.parse_aware


# -- head updates ------------------------------------------------------------------------------------


def valid_level(value: Any) -> int | None:
    """A level 1 to 4 as written in task data, else None."""
    return value if isinstance(value, int) and not isinstance(value, bool) and 1 <= value <= 4 else None


def _registered(incident: Incident, view: View, at: datetime) -> None:
    for key in ("title", "source_type", "platform", "url"):
        if isinstance(view.get(key), str):
            setattr(incident, key, view[key][:2000] if key == "url" else view[key][:300])
    if isinstance(view.get("related_units"), list):
        incident.related_units = [str(u) for u in view["related_units"]][:50]
    incident.occurred_at = _parse(view.get("occurred_at")) or incident.occurred_at
    incident.discovered_at = _parse(view.get("discovered_at")) or incident.discovered_at
    incident.is_false_info = bool(view.get("is_false_info")) or incident.is_false_info
    incident.reported_at = incident.reported_at or at
    deadlines.set_deadline(incident, "report", due=view.get("report_due_at"), done=at)
    incident.search_text = ledger_filter.searchable(incident, view)


def _proposed(incident: Incident, view: View, at: datetime) -> None:
    incident.proposed_level = valid_level(view.get("proposed_level")) or incident.proposed_level


def _confirmed(incident: Incident, view: View, at: datetime) -> None:
    incident.level = valid_level(view.get("confirmed_level")) or incident.level
    if isinstance(view.get("lead_unit"), str):
        incident.lead_unit = view["lead_unit"][:64]
    incident.confirmed_at = incident.confirmed_at or at


def _deadlines_set(incident: Incident, view: View, at: datetime) -> None:
    deadlines.deadlines_set(incident, view)


def _consulted(incident: Incident, view: View, at: datetime) -> None:
    deadlines.press_conference_decided(incident, view, view.get("need_press_conference"))


def _dispatched(incident: Incident, view: View, at: datetime) -> None:
    deadlines.dispatched(incident, view.get("dispatch_tasks"))


def _unit_answered(incident: Incident, view: View, at: datetime) -> None:
    if view.get("dispatch_unit") and view.get("dispatch_due_at"):
        key = deadlines.dispatch_key(view["dispatch_unit"], view["dispatch_due_at"])
        deadlines.set_deadline(incident, key, due=view["dispatch_due_at"], done=at)


def _reported_up(incident: Incident, view: View, at: datetime) -> None:
    when = _parse(view.get("reported_at")) or at  # when it was reported, as the office recorded it
    deadlines.set_deadline(incident, "external_report", due=view.get("report_due_at"), done=when)


def _level_changed(incident: Incident, view: View, at: datetime) -> None:
    new = valid_level(view.get("confirmed_level"))
    if new is None:
        return
    if incident.level is not None and new < incident.level:
        incident.upgrades += 1
    incident.level = new


def _published(incident: Incident, view: View, at: datetime) -> None:
    when = _parse(view.get("published_at")) or at
    incident.first_release_at = incident.first_release_at or when
    deadlines.set_deadline(incident, "first_release", done=when)
    if "national" in (incident.deadlines or {}):
        deadlines.set_deadline(incident, "national", done=when)


def _press_conference(incident: Incident, view: View, at: datetime) -> None:
    when = _parse(view.get("conference_at")) or at
    incident.press_conf_at = incident.press_conf_at or when
    deadlines.set_deadline(incident, "press_conference", done=when)


def _false_info(incident: Incident, view: View, at: datetime) -> None:
    incident.is_false_info = True


def _subsided(incident: Incident, view: View, at: datetime) -> None:
    if view.get("subsided_decision", "confirm") == "confirm":
        incident.subsided_at = _parse(view.get("subsided_at")) or at


def _summary_review(incident: Incident, view: View, at: datetime) -> None:
    if view.get("summary_decision") == "approve":
        deadlines.set_deadline(incident, "summary", done=at)


def _rejected(incident: Incident, view: View, at: datetime) -> None:
    incident.status = "rejected"


def _closed(incident: Incident, view: View, at: datetime) -> None:
    incident.status = "rejected" if incident.status == "rejected" else "closed"
    incident.closed_at = at


def _terminated(incident: Incident, view: View, at: datetime) -> None:
    if incident.status == "open":  # an incident already closed or not started keeps that status
        incident.status = "terminated"
        incident.closed_at = at


# -- the kinds --------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Kind:
    """What one entry kind is called, which task data a service task's entry keeps, what it updates."""

    label: str
    fields: tuple[str, ...] = ()
    head: Head | None = None
    summary: tuple[str, ...] = ()  # data keys whose first present value follows the label


KINDS: dict[str, Kind] = {
    "registered": Kind("登记舆情(快报)", ("title", "discovered_at", "url"), _registered, ("title",)),
    "level_proposed": Kind("系统建议定级", ("proposed_level", "grade_basis"), _proposed, ("grade_basis",)),
    "level_confirmed": Kind("确认定级", ("confirmed_level", "level_change_reason", "lead_unit"), _confirmed),
    "leader_confirmed": Kind("领导小组确认定级", ("confirmed_level", "level_change_reason"), _confirmed),
    "deadlines_set": Kind("处置时限", tuple(dict.fromkeys(deadlines.DEADLINE_SOURCES.values())), _deadlines_set),
    "level_changed": Kind("等级调整", ("confirmed_level", "upgraded_from", "upgrade_reason"), _level_changed,
                          ("upgrade_reason",)),
    "instruction_requested": Kind("请示", summary=("request_text",)),
    "instruction_decided": Kind("领导批示", summary=("leader_comment",)),
    "response_rejected": Kind("不予启动响应", ("leader_comment",), _rejected, ("leader_comment",)),
    "external_report": Kind("外部报告/请示上级", head=_reported_up, summary=("receipt",)),
    "file_record": Kind("备案登记"),
    "task_force": Kind("成立工作专班", summary=("leader_person",)),
    "investigation": Kind("调查核实", summary=("findings",)),
    "consultation": Kind("会商研判", head=_consulted, summary=("talking_points",)),
    "superior_measures": Kind("上级会商意见", summary=("superior_measures",)),
    "dispatch": Kind("下达处置任务", head=_dispatched),
    "unit_feedback": Kind("承办反馈", head=_unit_answered, summary=("unit_feedback_text",)),
    "release_drafted": Kind("起草通稿", summary=("release_title",)),
    "release_review": Kind("审批通稿", summary=("release_comment",)),
    "external_approval": Kind("上级审核意见", summary=("approver_body",)),
    "release_published": Kind("正面回应发布", ("published_at",), _published, ("published_text",)),
    "press_conference_requested": Kind("申请指定发布人"),
    "spokesperson_designated": Kind("上级指定发布人", summary=("designated_person",)),
    "press_conference_prepared": Kind("发布会筹备"),
    "press_conference": Kind("召开新闻发布会", ("conference_at",), _press_conference, ("conference_summary",)),
    "false_info": Kind("虚假不实信息处置", ("false_content",), _false_info, ("false_content",)),
    "clarification_review": Kind("澄清稿审批", summary=("clarification_comment",)),
    "false_info_result": Kind("虚假信息处置结果", summary=("false_info_outcome",)),
    "commentary": Kind("网评文章", summary=("article_title",)),
    "monitor_report": Kind("舆情动态报告", summary=("worsening_desc",)),
    "regrade": Kind("复核定级", summary=("reason",)),
    "update_received": Kind("收到新情况", ("update",), summary=("note",)),
    "follow_up": Kind("跟踪引导", summary=("guidance_given",)),
    "reply_plan": Kind("会商回复方案", summary=("reply_plan",)),
    "reply": Kind("按方案回复"),
    "subsided": Kind("确认平息", ("subsided_at",), _subsided, ("basis",)),
    "aftermath_watch": Kind("善后跟踪", summary=("aftermath_note",)),
    "summary": Kind("总结评估"),
    "summary_review": Kind("审定总结", ("summary_decision",), _summary_review, ("summary_comment",)),
    "accountability": Kind("责任考评"),
    "plan_revision": Kind("预案修订任务", summary=("revision_items",)),
    "deadline_missed": Kind("时限超时"),
    "notice": Kind("记录"),
    "task_passed": Kind("转办"),  # written by 转办 (handover.pass_task), not by a diagram
    "closed": Kind("结案归档", head=_closed),
    "terminated": Kind("流程终止", head=_terminated, summary=("reason",)),
}


# The kinds on English pages; the record (summary, documents, exports, the API's lines) keeps the Chinese.
KIND_LABELS_EN = {
    "registered": "Incident registered (quick report)",
    "level_proposed": "Level proposed by the system",
    "level_confirmed": "Level confirmed",
    "leader_confirmed": "Level confirmed by the leading group",
    "deadlines_set": "Response deadlines",
    "level_changed": "Level changed",
    "instruction_requested": "Request for instructions",
    "instruction_decided": "Leader's instructions",
    "response_rejected": "Response not started",
    "external_report": "External report / request to superiors",
    "file_record": "Filing with superiors",
    "task_force": "Task force set up",
    "investigation": "Investigation and verification",
    "consultation": "Consultation and assessment",
    "superior_measures": "Superiors' consultation opinion",
    "dispatch": "Response tasks assigned",
    "unit_feedback": "Unit feedback",
    "release_drafted": "Press release drafted",
    "release_review": "Press release reviewed",
    "external_approval": "Superiors' review opinion",
    "release_published": "Positive response published",
    "press_conference_requested": "Spokesperson requested",
    "spokesperson_designated": "Spokesperson designated by superiors",
    "press_conference_prepared": "Press conference prepared",
    "press_conference": "Press conference held",
    "false_info": "False information handled",
    "clarification_review": "Clarification reviewed",
    "false_info_result": "Result of handling false information",
    "commentary": "Online commentary article",
    "monitor_report": "Incident monitoring report",
    "regrade": "Level reviewed",
    "update_received": "New information received",
    "follow_up": "Tracking and guidance",
    "reply_plan": "Reply plan agreed",
    "reply": "Replied as planned",
    "subsided": "Subsiding confirmed",
    "aftermath_watch": "Aftermath watch",
    "summary": "Summary and evaluation",
    "summary_review": "Summary approved",
    "accountability": "Accountability review",
    "plan_revision": "Contingency plan revision task",
    "deadline_missed": "Deadline missed",
    "notice": "Note",
    "task_passed": "Task passed on",
    "closed": "Closed and archived",
    "terminated": "Process terminated",
}


def kind_label(kind: str, locale: str | None = None) -> str:
    """The label of an entry kind, in English when `locale` is English (the code itself for a kind no longer
    known)."""
    if (locale or "").lower().startswith("en") and kind in KIND_LABELS_EN:
        return KIND_LABELS_EN[kind]
    return KINDS[kind].label if kind in KINDS else kind
