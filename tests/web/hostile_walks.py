"""Walks that bring every form of forms/ to a real open task: each starts a process as the plans do
and completes whatever opens with a valid answer, showing every new form to a visitor first."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from sqlalchemy import select

from app.extensions import db
from app.forms.fields import choices
from app.models import HumanTask, ProcessInstance, TaskStatus
from app.operations import intake, schedules, tasks
from tests.processes.answers import (
    ACCOUNTABILITY,
    CONFERENCE,
    CONFERENCE_RECORD,
    CONSULT,
    DESIGNATION,
    DRAFT,
    EXTERNAL_APPROVAL,
    EXTERNAL_REPORT,
    INVESTIGATE,
    LEAD_UNIT,
    MONITOR,
    PRESS_REQUEST,
    PUBLISH,
    REGISTER,
    REQUEST,
    SUBSIDED,
    SUMMARY,
    SUPERIOR_MEASURES,
    SUPERIOR_REQUEST,
    T0,
    TASK_FORCE,
    WATCH,
)
from tests.processes.flow import Flow
from tests.web.scenario import FORMS

FORMS_DIR = Path(__file__).resolve().parents[2] / "forms"

LATER = "2027-06-30T17:00:00+08:00"
ANSWERS: dict[str, dict[str, Any]] = {
    "ut_register": REGISTER,
    "ut_confirm_level": {"confirmed_level": 4, "lead_unit": LEAD_UNIT, "start_plan": True,
                         "level_change_reason": "核实后调整"},
    "ut_leader_confirm": {"confirmed_level": 1, "level_change_reason": "同意", "start_plan": True},
    "ut_request_instruction": REQUEST,
    "ut_instruction_decision": {"decision": "approve"},
    "ut_investigate": INVESTIGATE,
    "ut_consult": {**CONSULT, "no_conference_reason": "已通过政务微博权威发布"},
    "ut_draft_release": DRAFT,
    "ut_approve_release": {"release_decision": "approve"},
    "ut_record_external_approval": EXTERNAL_APPROVAL,
    "ut_publish_response": PUBLISH,
    "ut_monitor_report": MONITOR,
    "ut_regrade": {"confirmed_level": 4, "reason": "态势平稳"},
    "ut_confirm_downgrade": {"downgrade_decision": "approve", "downgrade_reason": "态势平稳"},
    "ut_commentary": {"article_title": "评论", "article_content": "正文", "article_platform": "weibo",
                      "posted_at": T0},
    "ut_follow_up_log": {"observed_at": T0, "outcome": "subsiding"},
    "ut_reply_plan": {"reply_plan": "说明发放时间", "reply_by": None},  # the walker's own username
    "ut_reply_by_plan": {"replied_at": T0, "content": "已回复"},
    "ut_confirm_subsided": SUBSIDED,
    "ut_summary": {**SUMMARY, "plan_revision_needed": True},
    "ut_approve_summary": {"summary_decision": "approve"},
    "ut_aftermath_watch": WATCH,
    "ut_accountability": ACCOUNTABILITY,
    "ut_plan_revision": {"revision_items": "补充口径", "owner_unit": "office", "revision_due_date": "2026-12-31"},
    "ut_request_superior": SUPERIOR_REQUEST,
    "ut_record_superior_measures": SUPERIOR_MEASURES,
    "ut_task_force": TASK_FORCE,
    "ut_external_report": EXTERNAL_REPORT,
    "ut_file_record": {"filed_with": ["市委网信办"], "filed_at": T0},
    "ut_request_spokesperson": PRESS_REQUEST,
    "ut_record_designation": DESIGNATION,
    "ut_prepare_conference": CONFERENCE,
    "ut_press_conference_record": CONFERENCE_RECORD,
    "ut_false_info": {"false_content": "网传窗口停办", "media_name": "某自媒体", "contact_record": "已联系删除",
                      "false_info_actions": ["correction", "clarification"], "clarification_text": "经核实,业务正常。"},
    "ut_approve_clarification": {"clarification_decision": "approve"},
    "ut_false_info_result": {"false_info_outcome": "原帖已删除", "clarification_link": "https://weibo.com/gov/2"},
    "ut_dispatch": {"dispatch_tasks": [{"unit": LEAD_UNIT, "task": "核实情况", "due_at": LATER}]},
    "ut_unit_feedback": {"unit_done": True, "unit_feedback_text": "已核实"},
    "ut_risk_item": {"decision_title": "调整缴费标准", "risk_owner_unit": LEAD_UNIT, "risk_description": "拟提高标准",
                     "affects_interests": True, "risk_scope": "全市参保人员", "needs_assessment": True,
                     "simplified": False},
    "ut_risk_plan": {"risk_methods": ["opinion_tracking"], "experts_needed": False, "risk_schedule": "12月完成",
                     "stakeholders": [{"name": "参保居民代表", "way": "forum"}]},
    "ut_risk_opinion": {"opinion_heard_at": T0, "opinion_stance": "support", "opinion_text": "支持"},
    "ut_risk_analysis": {"legality_rating": "compliant", "rationality_rating": "compliant",
                         "feasibility_rating": "compliant", "controllability_rating": "compliant",
                         "risk_public_safety": False, "risk_mass_incident": False, "risk_negative_opinion": False,
                         "risk_other_stability": False},
    "ut_risk_report": {"risk_level": "low", "risk_report": "风险低"},
    "ut_risk_measures": {"risk_measures": [{"measure": "提前解读", "owner": "社会保险科", "due": "2026-12-10"}]},
    "ut_risk_decision": {"risk_decision": "implement", "explanation_plan": "同步发布解读"},
    "ut_risk_filing": {"superior_dept": "市医疗保障局", "filed_at": T0},
    "ut_risk_measures_done": {"risk_measures_done_at": T0, "risk_measures_result": "已落实"},
    "ut_risk_no_assessment": {"no_assessment_reason": "不涉及群众切身利益"},
    "ut_draft_monthly": {"overview": "平稳", "key_incidents": "无", "risks": "无", "suggestions": "无"},
    "ut_approve_monthly": {"monthly_decision": "approve"},
    "ut_file_monthly": {"filed_with": ["市委网信办"], "filed_at": "2026-12-01T10:00:00+08:00",
                        "filing_method": "official_document"},
    "ut_triage": {"relevance": "new"},
}
INCIDENT_START = {"title": "某事件", "incident_no": "YQ-2026-9001", "url": "https://weibo.com/1", "summary": "网传"}


@dataclass
class Walk:
    """A process started one way and answered one way; `forms` are the ones it must reach."""

    name: str
    start: Callable[[], Flow]
    forms: frozenset[str]
    answers: dict[str, dict[str, Any]] = field(default_factory=dict)
    hold: frozenset[str] = frozenset()  # left open, so that timers bring what comes meanwhile


def answer(walk: Walk, form: str, flow: Flow) -> dict[str, Any]:
    data = {**ANSWERS[form], **walk.answers.get(form, {})}
    if form == "ut_reply_plan":
        data["reply_by"] = flow.user.username
    if form == "ut_draft_release":
        data["spokesperson"] = flow.user.username
    if form == "ut_consult":
        data["commentators"] = [flow.user.username]
    return data


def answer_for(flow: Flow, row: HumanTask) -> dict[str, Any]:
    """The valid answer the walk gives the task's form, its directory and profile choices taken from what
    the form offers (the organisation profile may name other bodies than the answer)."""
    data = answer(flow.walk, form_of(row), flow)
    form = tasks.task_form(row)
    options = tasks.form_options(form)
    for definition in form.fields:
        schema = definition.item.schema if definition.item is not None else definition.schema
        allowed = [value for value, _label in choices(schema, options)]
        value = data.get(definition.name)
        if "x-source" not in schema or not allowed or value is None:
            continue
        if isinstance(value, list) and not set(value) <= set(allowed):
            data[definition.name] = allowed[:1]
        elif not isinstance(value, list) and value not in allowed:
            data[definition.name] = allowed[0]
    return data


def form_of(task: HumanTask) -> str:
    return (task.form or "").removesuffix(".schema.json")


def open_tasks(flow: Flow) -> list[HumanTask]:
    return list(db.session.scalars(select(HumanTask).where(
        HumanTask.instance_id == flow.instance.id, HumanTask.status == TaskStatus.OPEN).order_by(HumanTask.id)))


def walk_through(walk: Walk, visit: Callable[[Flow, HumanTask], None], *, clock: Any, steps: int = 80) -> set[str]:
    """Start the walk and complete tasks until every form it must reach was shown to `visit` (once each)."""
    flow = walk.start()
    flow.walk = walk
    seen: set[str] = set()
    done: dict[str, int] = {}
    for _ in range(steps):
        rows = open_tasks(flow)
        for row in rows:
            if form_of(row) not in seen:
                seen.add(form_of(row))
                visit(flow, row)
        if walk.forms <= seen:
            break
        todo = [row for row in rows if done.get(form_of(row), 0) < 8 and form_of(row) not in walk.hold]
        if not todo:
            clock.advance(days=1)
            flow.fire_timers()
            continue
        row = min(todo, key=lambda r: (done.get(form_of(r), 0), -r.id))
        done[form_of(row)] = done.get(form_of(row), 0) + 1
        tasks.complete_task(row.public_id, answer_for(flow, row), flow.user)
        db.session.refresh(flow.instance)
    return seen


def _incident() -> Flow:
    return Flow("yq_incident", incident=True, unit=LEAD_UNIT)


def _process(key: str, data: dict[str, Any] | None = None) -> Callable[[], Flow]:
    def start() -> Flow:
        return Flow(key, data, unit=LEAD_UNIT)
    return start


def _alert() -> Flow:
    flow = Flow("yq_monthly_analysis", unit=LEAD_UNIT)  # any flow: only its user is kept
    alert, _created = intake.receive_alert({"source_type": "platform_alert", "title": "网传某窗口推诿",
                                            "url": "https://weibo.com/2/1"}, source="监测平台")
    flow.instance = db.session.get(ProcessInstance, alert.instance_id)
    return flow


def _monthly(clock: Any) -> Callable[[], Flow]:
    def start() -> Flow:
        schedules.ensure_scheduled()
        flow = Flow("yq_risk_assessment", unit=LEAD_UNIT)
        flow.instance = next(i for i in schedules.scheduled_instances() if i.process_key == "yq_monthly_analysis")
        clock.advance(days=7)
        flow.fire_timers()
        return flow
    return start


def walks(clock: Any) -> list[Walk]:
    """Every walk; together they reach every form of forms/ (each form is fuzzed by one walk)."""
    return [
        Walk("level1", _incident, frozenset({
            "ut_register", "ut_confirm_level", "ut_leader_confirm", "ut_request_superior", "ut_task_force",
            "ut_consult", "ut_investigate", "ut_record_superior_measures", "ut_draft_release",
            "ut_record_external_approval", "ut_approve_release", "ut_publish_response", "ut_request_spokesperson",
            "ut_record_designation", "ut_prepare_conference", "ut_press_conference_record", "ut_commentary",
            "ut_follow_up_log", "ut_confirm_subsided", "ut_aftermath_watch", "ut_summary", "ut_approve_summary",
            "ut_accountability", "ut_plan_revision"}),
             {"ut_confirm_level": {"confirmed_level": 1}, "ut_consult": {"need_press_conference": True}}),
        Walk("level2", _incident, frozenset({"ut_external_report"}),
             {"ut_confirm_level": {"confirmed_level": 2}, "ut_leader_confirm": {"confirmed_level": 2}}),
        Walk("level3", _incident, frozenset({"ut_file_record", "ut_monitor_report", "ut_regrade",
                                             "ut_confirm_downgrade"}),
             {"ut_confirm_level": {"confirmed_level": 3},
              "ut_monitor_report": {"worsening": True, "worsening_desc": "扩散"}, "ut_regrade": {"confirmed_level": 4}},
             frozenset({"ut_follow_up_log"})),
        Walk("level4", _incident, frozenset({"ut_request_instruction", "ut_instruction_decision"})),
        Walk("false_info", _process("yq_false_info", {**INCIDENT_START, "confirmed_level": 3}),
             frozenset({"ut_false_info", "ut_approve_clarification", "ut_false_info_result"})),
        Walk("dispatch", _process("yq_dispatch", INCIDENT_START), frozenset({"ut_dispatch", "ut_unit_feedback"})),
        Walk("follow_up", _process("yq_follow_up", {**INCIDENT_START, "follow_up_every": "P1D"}),
             frozenset({"ut_reply_plan", "ut_reply_by_plan"}),
             {"ut_follow_up_log": {"outcome": "cannot_guide", "questions": "网民追问补贴何时到账"}}),
        Walk("risk", _process("yq_risk_assessment"), frozenset({
            "ut_risk_item", "ut_risk_plan", "ut_risk_opinion", "ut_risk_analysis", "ut_risk_report",
            "ut_risk_measures", "ut_risk_decision", "ut_risk_filing"})),
        Walk("risk_postpone", _process("yq_risk_assessment"), frozenset({"ut_risk_measures_done"}),
             {"ut_risk_report": {"risk_level": "medium"},
              "ut_risk_decision": {"risk_decision": "postpone", "risk_decision_comment": "先解读"}}),
        Walk("risk_none", _process("yq_risk_assessment"), frozenset({"ut_risk_no_assessment"}),
             {"ut_risk_item": {"needs_assessment": False, "affects_interests": False}}),
        Walk("monthly", _monthly(clock), frozenset({"ut_draft_monthly", "ut_approve_monthly", "ut_file_monthly"})),
        Walk("intake", _alert, frozenset({"ut_triage"})),
    ]


def all_forms() -> set[str]:
    """Every form of forms/."""
    return {path.name.removesuffix(".schema.json") for path in FORMS_DIR.glob("*.schema.json")}


def raw_register() -> dict[str, Any]:
    """A valid quick report as its form posts it."""
    return dict(FORMS["ut_register"])
