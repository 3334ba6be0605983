"""Typed answers for every user task (what a valid form submission turns into)."""

from __future__ import annotations

from typing import Any

T0 = "2026-11-25T09:00:00+08:00"
LEAD_UNIT = "social_insurance"

REGISTER: dict[str, Any] = {
    "title": "某事件", "discovered_at": T0, "source_type": "self_monitoring", "platform": "weibo",
    "url": "https://weibo.com/1", "summary": "摘要", "related_units": ["social_insurance"],
    "netizen_attention": "low", "foreign_media": "none", "spread_speed": "slow", "impact_scope": "small",
    "offline_risk": "none", "is_mass_incident": False, "is_sudden_event": False, "is_false_info": False,
}
CONFIRM = {"confirmed_level": 4, "lead_unit": "social_insurance", "start_plan": True}
REQUEST = {"request_text": "请示", "proposed_measures": "措施"}
CONSULT = {
    "meeting_at": T0, "participants": "办公室", "event_basics": "基本情况", "media_coverage": "无",
    "online_opinion": "一般", "trend": "stable", "talking_points": "口径", "measures": "措施",
    "need_press_conference": False, "dispatch_needed": False,
}
DRAFT = {"release_title": "通稿", "release_body": "正文", "fact_basis": "依据", "channels": ["gov_weibo"],
         "spokesperson": "spokesperson"}
PUBLISH = {"published_at": T0, "channels": ["gov_weibo"], "links": ["https://weibo.com/gov/1"],
           "published_text": "正文"}
LOG = {"observed_at": T0}
SUBSIDED = {"subsided_at": T0, "basis": "平息", "subsided_decision": "confirm"}
SUMMARY = {"work_summary": "总结", "effectiveness": "good", "internal_causes": "原因", "lessons": "经验",
           "plan_revision_needed": False}
INVESTIGATE = {"findings": "经核实,窗口确有推诿", "facts_confirmed": True, "offline_actions": "约谈窗口负责人"}
SUPERIOR_MEASURES = {"superior_body": ["市委网信办"], "superior_measures": "统一口径,及时发布", "received_at": T0}
EXTERNAL_APPROVAL = {"approver_body": "市委宣传部", "external_result": "approve", "approved_at": T0,
                     "approval_reference": "宣审〔2026〕1号"}
EXTERNAL_REPORT = {"report_to": ["市委宣传部", "市委网信办"], "quick_report_to_bodies": ["市委办"], "reported_at": T0,
                   "report_method": "gov_system"}
SUPERIOR_REQUEST = {"report_to": ["市委、市政府"], "reported_at": T0, "report_method": "document"}
TASK_FORCE = {"leader_person": "王五", "liaison_person": "赵六", "contact": "0000-1234567",
              "members": [{"team": "coordination", "person": "孙七", "phone": "13800000000"}]}
MONITOR = {"observed_at": T0, "monitor_trend": "stable", "netizen_attention": "low", "foreign_media": "none",
           "spread_speed": "slow", "impact_scope": "small", "offline_risk": "none", "worsening": False}
PRESS_REQUEST = {"requested_at": T0, "requested_from": "市委宣传部"}
DESIGNATION = {"designated_person": "局新闻发言人", "designated_at": T0}
CONFERENCE = {"conference_at": T0, "conference_format": "press_conference"}
CONFERENCE_RECORD = {"conference_at": T0, "conference_summary": "通报调查进展"}
WATCH = {"observed_at": T0, "rebound_status": "none"}
ACCOUNTABILITY = {"accountability_rows": [{"subject": "社会保险科", "evaluation": "qualified", "reason": "处置及时"}],
                  "decided_at": T0}
