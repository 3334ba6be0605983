"""Task pages offer only what they accept, carry what they need, and show every error at its field.

Each test walks the real pages: log in through the login form, open the task page, read the
fields and options it renders, post them as the page names them, and read what the page says.
"""

from __future__ import annotations

import re

from sqlalchemy import select

from app.extensions import db
from app.models import HumanTask
from tests.web.scenario import act_as, open_task, start_incident, submit
from tests.web.test_task_forms import _field_errors


def _options(page: str, name: str) -> list[str]:
    """The values a page offers for field `name` (radios, checkboxes and select options)."""
    inputs = re.findall(rf'<input type="(?:radio|checkbox)"[^>]*name="{re.escape(name)}" value="([^"]*)"', page)
    select = re.search(rf'<select[^>]*name="{re.escape(name)}"[^>]*>(.*?)</select>', page, re.S)
    options = re.findall(r'<option value="([^"]*)"', select.group(1)) if select else []
    return inputs + [value for value in options if value]


def test_an_unknown_checkbox_value_is_shown_at_its_field_with_the_rest_kept(app, db, user_factory):
    monitor = act_as(app, user_factory(["monitor"]))
    instance = start_incident(monitor)
    page = monitor.get(f"/tasks/{open_task(instance, 'ut_register').public_id}").get_data(as_text=True)
    assert "social_insurance" in _options(page, "related_units") and "nosuchunit" not in page
    response = submit(monitor, instance, "ut_register", related_units=["social_insurance", "nosuchunit"])
    assert response.status_code == 422
    page = response.get_data(as_text=True)
    assert _field_errors(page)["related_units"] == ["请选择有效的选项"]
    assert re.search(r'name="related_units" value="social_insurance"[^>]*checked', page)
    assert 'value="某街道社保窗口服务态度问题引发网民关注"' in page  # what was typed elsewhere is kept too


def _post(actor, instance, spec_id: str, data: dict) -> object:
    return actor.post(f"/tasks/{open_task(instance, spec_id).public_id}", {**data, "_action": "complete"})


def _risk_assessment_at_decision(app, user_factory, level: str):
    """A simplified risk assessment worked through its pages up to the leadership's decision."""
    owner = act_as(app, user_factory(["risk_owner"], unit="social_insurance"))
    started = owner.post("/risk-assessments/new", {})
    public_id = started.headers["Location"].rsplit("/", 1)[-1]
    instance = db.session.scalars(select(HumanTask).where(HumanTask.public_id == public_id)).one().instance
    item = {"decision_title": "调整城乡居民医保个人缴费标准", "risk_owner_unit": "social_insurance",
            "risk_description": "拟提高个人缴费标准", "affects_interests": "true", "risk_scope": "全市参保居民",
            "needs_assessment": "true", "simplified": "true", "simplified_reason": "幅度小"}
    assert _post(owner, instance, "ut_risk_item", item).status_code == 302
    assert _post(owner, instance, "ut_risk_report", {"risk_level": level, "risk_report": "评估报告"}).status_code == 302
    measures = {"risk_measures.0.measure": "提前发布政策解读", "risk_measures.0.owner": "社会保险科",
                "risk_measures.0.due": "2026-12-10"}
    assert _post(owner, instance, "ut_risk_measures", measures).status_code == 302
    return instance


def test_a_risk_decision_offers_only_what_the_risk_level_allows(app, db, user_factory):
    instance = _risk_assessment_at_decision(app, user_factory, "medium")
    leader = act_as(app, user_factory(["group_leader"]))
    page = leader.get(f"/tasks/{open_task(instance, 'ut_risk_decision').public_id}").get_data(as_text=True)
    assert _options(page, "risk_decision") == ["postpone"]
    assert "暂缓实施" in page and "调整决策方案、降低风险等级后再行决策" not in page.split("<form")[1]
    refused = _post(leader, instance, "ut_risk_decision", {"risk_decision": "implement", "explanation_plan": "x"})
    assert refused.status_code == 422  # a forged choice is still refused, at its field
    assert "该决策与评估结果不符" in _field_errors(refused.get_data(as_text=True))["risk_decision"][0]
    assert _post(leader, instance, "ut_risk_decision", {"risk_decision": "postpone"}).status_code == 302


def test_a_superiors_notice_is_not_offered_as_irrelevant(app, db, user_factory):
    office = act_as(app, user_factory(["office_director"]))
    for source_type, offered in (("superior_notice", ["new", "duplicate"]),
                                 ("public_report", ["new", "duplicate", "irrelevant"])):
        created = office.post("/alerts/new", {"source_type": source_type, "title": f"{source_type} 线索"})
        page = office.get(created.headers["Location"]).get_data(as_text=True)
        assert _options(page, "relevance") == offered
