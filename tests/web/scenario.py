"""Helpers that drive processes through the real pages (the Flask test client), as people do."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select

from app.extensions import db
from app.models import HumanTask, ProcessInstance, TaskStatus
from tests.conftest import PASSWORD

FORMS: dict[str, dict[str, Any]] = {
    "ut_register": {
        "title": "某街道社保窗口服务态度问题引发网民关注", "discovered_at": "2026-11-25T09:00",
        "source_type": "self_monitoring", "platform": "weibo", "url": "https://weibo.com/1234567/abc",
        "author": "@某网民", "summary": "网民发帖反映社保窗口办事拖延,评论数百条。",
        "related_units": ["social_insurance"],
        "views": "12000", "reposts": "85", "comments": "230", "likes": "410",
        "netizen_attention": "low", "foreign_media": "none", "spread_speed": "slow", "impact_scope": "small",
        "offline_risk": "none", "is_mass_incident": "false", "is_sudden_event": "false", "is_false_info": "false",
    },
    "ut_confirm_level": {"confirmed_level": "4", "lead_unit": "social_insurance", "start_plan": "true",
                         "instructions": "请社保科会同办公室核实情况。"},
    "ut_request_instruction": {"request_text": "拟按Ⅳ级响应处置,请批示。",
                               "proposed_measures": "核实情况,发布说明,跟踪引导。"},
    "ut_instruction_decision": {"decision": "approve", "leader_comment": "同意。"},
    "ut_investigate": {"findings": "窗口高峰期排队约两小时,属实。", "facts_confirmed": "true",
                       "offline_actions": "当日增开两个窗口。"},
    "ut_monitor_report": {"observed_at": "2026-11-26T09:00", "monitor_trend": "cooling", "netizen_attention": "low",
                          "foreign_media": "none", "spread_speed": "slow", "impact_scope": "small",
                          "offline_risk": "none", "worsening": "false"},
    "ut_consult": {
        "meeting_at": "2026-11-25T10:00", "participants": "办公室、社保科", "event_basics": "窗口排队时间长。",
        "media_coverage": "暂无媒体报道。", "online_opinion": "以抱怨为主。", "trend": "stable",
        "talking_points": "正视问题,说明整改。", "measures": "当日增开窗口。", "need_press_conference": "false",
        "dispatch_needed": "false",
    },
    "ut_draft_release": {"release_title": "关于社保窗口服务问题的情况说明", "release_body": "经核实……",
                         "fact_basis": "现场核实记录。", "channels": ["gov_weibo"], "spokesperson": "spokesperson"},
    "ut_approve_release": {"release_decision": "approve"},
    "ut_publish_response": {"published_at": "2026-11-25T11:00", "channels": ["gov_weibo"],
                            "links.0": "https://weibo.com/gov/1", "published_text": "经核实……"},
    "ut_follow_up_log": {"observed_at": "2026-11-25T12:00", "outcome": "subsiding",
                         "guidance_given": "已回复网民疑问。"},
    "ut_confirm_subsided": {"subsided_at": "2026-11-25T12:00", "basis": "讨论量明显下降。",
                            "subsided_decision": "confirm"},
    "ut_summary": {"work_summary": "处置及时。", "effectiveness": "good", "internal_causes": "窗口人手不足。",
                   "lessons": "高峰期需弹性排班。", "plan_revision_needed": "false"},
    "ut_approve_summary": {"summary_decision": "approve"},
    "ut_aftermath_watch": {"observed_at": "2026-11-26T12:00", "rebound_status": "none",
                           "aftermath_note": "无新增讨论。"},
    "ut_accountability": {"accountability_rows.0.subject": "社会保险科",
                          "accountability_rows.0.evaluation": "qualified",
                          "accountability_rows.0.reason": "处置及时。", "decided_at": "2026-11-26T12:00"},
}


@dataclass
class Actor:
    """A logged-in person with their own test client."""

    client: Any
    user: Any

    def get(self, url: str) -> Any:
        return self.client.get(url)

    def post(self, url: str, data: dict[str, Any]) -> Any:
        return self.client.post(url, data=data)

    def page(self, url: str) -> str:
        """The text of a page that must answer 200."""
        response = self.client.get(url)
        assert response.status_code == 200, url
        return response.get_data(as_text=True)


def in_english(actor: Actor) -> Actor:
    """The actor's pages from now on in English (what the language switch stores in the session)."""
    with actor.client.session_transaction() as session:
        session["lang"] = "en"
    return actor


def act_as(app: Any, user: Any) -> Actor:
    """A new client logged in as `user` through the real login form."""
    client = app.test_client()
    response = client.post("/login", data={"username": user.username, "password": PASSWORD})
    assert response.status_code == 302, response.get_data(as_text=True)[:300]
    return Actor(client, user)


def open_task(instance: ProcessInstance, spec_id: str) -> HumanTask:
    """The open human task of an instance by its task spec id (fails if there is not exactly one)."""
    rows = db.session.scalars(select(HumanTask).where(
        HumanTask.instance_id == instance.id, HumanTask.spec_id == spec_id,
        HumanTask.status == TaskStatus.OPEN)).all()
    assert len(rows) == 1, f"expected one open {spec_id}, found {[r.spec_id for r in open_tasks(instance)]}"
    return rows[0]


def open_tasks(instance: ProcessInstance) -> list[HumanTask]:
    """Every open task of an instance."""
    return list(db.session.scalars(select(HumanTask).where(
        HumanTask.instance_id == instance.id, HumanTask.status == TaskStatus.OPEN)))


def submit(actor: Actor, instance: ProcessInstance, spec_id: str, **changes: Any) -> Any:
    """Post the task's form with the standard answers of FORMS, updated by `changes`."""
    task = open_task(instance, spec_id)
    data = {**FORMS.get(spec_id, {}), **changes, "_action": "complete"}
    return actor.post(f"/tasks/{task.public_id}", data)


def start_incident(actor: Actor) -> ProcessInstance:
    """Register a new incident through the page; returns its instance."""
    response = actor.post("/incidents/new", {})
    assert response.status_code == 302
    return db.session.scalars(select(ProcessInstance).order_by(ProcessInstance.id.desc())).first()


def field_errors(page: str) -> dict[str, list[str]]:
    """Error texts by the field whose <div class="field ..."> they are in."""
    found: dict[str, list[str]] = {}
    for block in re.split(r'<div class="field ', page)[1:]:
        name = re.search(r'name="([a-z_0-9.]+)"', block)
        errors = re.findall(r'class="field__error[^"]*"[^>]*>([^<]+)<', block)
        if name and errors:
            found.setdefault(name.group(1), []).extend(errors)
    return found


def incident_people(app: Any, user_factory: Any) -> dict[str, Actor]:
    """The people of a level-4 incident, each logged in: monitor, office, leader, the social insurance
    section (head, consultation member), publicity, spokesperson and commentator."""
    return {
        "monitor": act_as(app, user_factory(["monitor"], "monitor")),
        "office": act_as(app, user_factory(["office_director", "office_staff"], "office")),
        "leader": act_as(app, user_factory(["group_leader"], "leader")),
        "section": act_as(app, user_factory(["section_head", "consultation_member"], "section",
                                            unit="social_insurance")),
        "publicity": act_as(app, user_factory(["team_publicity"], "publicity")),
        "spokesperson": act_as(app, user_factory(["spokesperson"], "spokesperson")),
        "commentator": act_as(app, user_factory(["commentator"], "commentator")),
    }


def started_at_level(app: Any, user_factory: Any, level: str, reason: str = "核实后调整",
                     leader_reason: str = "同意") -> tuple[dict[str, Actor], ProcessInstance]:
    """An incident registered by the monitor, graded `level` (Ⅰ or Ⅱ) by the office and confirmed by the leader,
    who starts the plan: the people (monitor, office, leader) and the instance."""
    people = {"monitor": act_as(app, user_factory(["monitor"], "monitor")),
              "office": act_as(app, user_factory(["office_director", "office_staff"], "office")),
              "leader": act_as(app, user_factory(["group_leader"], "leader"))}
    instance = start_incident(people["monitor"])
    for person, spec, changes in (
            ("monitor", "ut_register", {}),
            ("office", "ut_confirm_level", {"confirmed_level": level, "level_change_reason": reason}),
            ("leader", "ut_leader_confirm", {"confirmed_level": level, "level_change_reason": leader_reason,
                                             "start_plan": "true"})):
        response = submit(people[person], instance, spec, **changes)
        assert response.status_code == 302, field_errors(response.get_data(as_text=True))
    return people, instance
