"""Typed answers for every user task (what a valid form submission turns into)."""

from __future__ import annotations

from typing import Any

T0 = "2026-11-25T09:00:00+08:00"

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
