"""yq_risk_assessment.bpmn (篇一 三(一)): no assessment, simplified and full procedure (one opinion task per
stakeholder), the decision limited by yq_risk_outcome, the adjust-and-reassess and postpone loops, filing."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import select

from app.extensions import db
from app.models import HumanTask, InstanceStatus, Notification, OrgUnit, TaskStatus
from app.operations import tasks
from app.operations.errors import Invalid, NotFound
from tests.conftest import make_user
from tests.processes.flow import Flow

T0 = "2026-11-25T09:00:00+08:00"
UNIT = "social_insurance"

ITEM: dict[str, Any] = {
    "decision_title": "调整城乡居民医保个人缴费标准", "risk_owner_unit": UNIT,
    "risk_description": "拟自明年起将个人缴费标准每人每年提高30元", "affects_interests": True,
    "risk_scope": "全市城乡居民参保人员约50万人", "needs_assessment": True, "simplified": False,
}
SIMPLIFIED = {**ITEM, "simplified": True, "simplified_reason": "按上级统一标准调整,幅度小,往年未引发舆情"}
PLAN: dict[str, Any] = {
    "risk_methods": ["opinion_tracking", "key_visits"], "experts_needed": False,
    "risk_schedule": "12月1日至10日走访座谈,12月15日前形成报告",
    "stakeholders": [{"name": "参保居民代表", "way": "forum"}, {"name": "定点医疗机构", "way": "visit"}],
}
OPINION = {"opinion_heard_at": T0, "opinion_stance": "conditional", "opinion_text": "希望对困难群体给予补助"}
ANALYSIS: dict[str, Any] = {
    "legality_rating": "compliant", "rationality_rating": "compliant", "feasibility_rating": "compliant",
    "controllability_rating": "compliant", "risk_public_safety": False, "risk_mass_incident": False,
    "risk_negative_opinion": False, "risk_other_stability": False,
}
REPORT = {"risk_report": "经评估,该事项舆情风险如下……"}
MEASURES = {"risk_measures": [{"measure": "提前发布政策解读", "owner": "社会保险科", "due": "2026-12-10"}]}
EXPLAIN = {"explanation_plan": "政策解读同步发布,12345热线统一答复口径"}
FILING = {"superior_dept": "市委、市政府", "filed_at": T0}
DECISIONS = ("implement", "postpone", "adjust_and_reassess", "not_implement")
ALLOWED = {"high": ["not_implement", "adjust_and_reassess"], "medium": ["postpone"], "low": ["implement"]}


@pytest.fixture
def flow(db):
    flow = Flow("yq_risk_assessment")
    flow.user.unit = db.session.scalar(select(OrgUnit).where(OrgUnit.code == UNIT))
    db.session.flush()
    return flow


def opinion_tasks(flow: Flow) -> list[HumanTask]:
    return list(db.session.scalars(select(HumanTask).where(
        HumanTask.instance_id == flow.instance.id, HumanTask.spec_id == "ut_risk_opinion",
        HumanTask.status == TaskStatus.OPEN).order_by(HumanTask.id)))


def refused(flow: Flow, spec_id: str, **data: Any) -> dict[str, list[str]]:
    """Submit through the real operation and return the errors it was refused with."""
    with pytest.raises(Invalid) as exc:
        tasks.complete_task(flow.task(spec_id).public_id, data, flow.user)
    db.session.rollback()
    return exc.value.errors


def to_decision(flow: Flow, level: str) -> None:
    """Simplified procedure up to the leadership's decision, with the given risk level."""
    flow.do("ut_risk_item", **SIMPLIFIED)
    flow.do("ut_risk_report", risk_level=level, **REPORT)
    flow.do("ut_risk_measures", **MEASURES)


def hear_everyone(flow: Flow, texts: list[str]) -> None:
    for task, text in zip(opinion_tasks(flow), texts, strict=True):
        tasks.complete_task(task.public_id, {**OPINION, "opinion_text": text}, flow.user)
    db.session.refresh(flow.instance)


def recipients(flow: Flow, kind: str) -> set[int]:
    return set(db.session.scalars(select(Notification.user_id).where(
        Notification.instance_id == flow.instance.id, Notification.kind == kind)))


def test_no_assessment_needs_a_reason_and_ends(flow):
    item = {key: value for key, value in ITEM.items() if key != "simplified"}
    flow.do("ut_risk_item", **{**item, "needs_assessment": False})
    task = flow.task("ut_risk_no_assessment")
    assert flow.open() == ["ut_risk_no_assessment"]
    assert task.context["decision_title"] == ITEM["decision_title"] and task.unit_code == UNIT
    assert flow.instance.title == "调整城乡居民医保个人缴费标准(舆情风险评估)"
    assert "no_assessment_reason" in refused(flow, "ut_risk_no_assessment")
    flow.do("ut_risk_no_assessment", no_assessment_reason="属于内部管理事项,不直接关系群众切身利益")
    assert flow.instance.status == InstanceStatus.COMPLETED
    assert flow.notifications() == [] and flow.ledger() == [] and flow.incident() is None


def test_item_asks_whether_to_simplify_and_why(db, flow):
    errors = refused(flow, "ut_risk_item", **{key: value for key, value in ITEM.items() if key != "simplified"})
    assert errors["simplified"] == ["需要评估时,请选择是否简化评估程序"]
    errors = refused(flow, "ut_risk_item", **{**ITEM, "simplified": True})
    assert list(errors) == ["simplified_reason"]


def test_simplified_procedure_still_needs_a_report_then_low_risk_is_implemented_and_filed(flow):
    flow.do("ut_risk_item", **SIMPLIFIED)
    assert flow.open() == ["ut_risk_report"]
    assert set(refused(flow, "ut_risk_report", risk_level="low")) == {"risk_report"}
    flow.do("ut_risk_report", risk_level="low", **REPORT)
    measures = flow.task("ut_risk_measures")
    assert measures.context["allowed_decisions"] == ["implement"]
    assert measures.context["requirement"].startswith("存在低风险:可以作出实施的决策")
    flow.do("ut_risk_measures")  # optional for low risk
    decision = flow.task("ut_risk_decision")
    assert decision.unit_code is None and decision.context["risk_level"] == "low"
    assert refused(flow, "ut_risk_decision", risk_decision="implement") == {
        "explanation_plan": ["决定实施的,请填写解释说明工作安排"]}
    flow.do("ut_risk_decision", risk_decision="implement", **EXPLAIN)
    assert flow.notifications() == ["risk_filing_due"]
    assert recipients(flow, "risk_filing_due") == {flow.user.id}  # the initiator only
    title = db.session.scalar(select(Notification.title).where(Notification.instance_id == flow.instance.id))
    assert title == "【待备案】调整城乡居民医保个人缴费标准(舆情风险评估)"
    filing = flow.task("ut_risk_filing")
    assert filing.context["risk_filing_dept"] == "省人力资源和社会保障厅"  # the profile's first, the default
    assert filing.unit_code == UNIT
    flow.do("ut_risk_filing", **FILING)
    assert flow.instance.status == InstanceStatus.COMPLETED
    assert flow.instance.data["superior_dept"] == "市委、市政府" and flow.instance.data["risk_decision"] == "implement"
    assert flow.ledger() == []


def test_owner_tasks_belong_to_the_owner_unit(flow):
    flow.do("ut_risk_item", **SIMPLIFIED)
    report = flow.task("ut_risk_report")
    colleague, other = make_user(["risk_owner"], unit=UNIT), make_user(["risk_owner"], unit="policy")
    assert tasks.can_work(report, colleague) and not tasks.can_work(report, other)
    with pytest.raises(NotFound):
        tasks.complete_task(report.public_id, {"risk_level": "low", **REPORT}, other)


def test_full_procedure_hears_each_stakeholder_in_its_own_task(flow):
    flow.do("ut_risk_item", **ITEM)
    assert flow.open() == ["ut_risk_plan"]
    errors = refused(flow, "ut_risk_plan", **{**PLAN, "experts_needed": True})
    assert errors == {"risk_methods": ["邀请专家参与的,评估方法请勾选“专家论证”"]}
    assert set(refused(flow, "ut_risk_plan", **{**PLAN, "stakeholders": []})) == {"stakeholders"}
    flow.do("ut_risk_plan", **PLAN)
    assert flow.open() == ["ut_risk_opinion", "ut_risk_opinion"]
    rows = opinion_tasks(flow)
    assert [t.context["risk_stakeholder"] for t in rows] == PLAN["stakeholders"]
    assert all(t.unit_code == UNIT for t in rows)
    tasks.complete_task(rows[0].public_id, {**OPINION, "opinion_text": "希望对困难群体给予补助"}, flow.user)
    assert flow.open() == ["ut_risk_opinion"]  # the other stakeholder is still to be heard
    tasks.complete_task(rows[1].public_id, {**OPINION, "opinion_stance": "support", "opinion_text": "支持"},
                        flow.user)
    analysis = flow.task("ut_risk_analysis")
    assert analysis.context["risk_opinion_lines"] == ["参保居民代表(座谈,有条件支持):希望对困难群体给予补助",
                                                      "定点医疗机构(走访,支持):支持"]
    assert [o["name"] for o in analysis.context["risk_opinions"]] == ["参保居民代表", "定点医疗机构"]
    assert "risk_stakeholder" not in analysis.context and "risk_opinion" not in analysis.context
    errors = refused(flow, "ut_risk_analysis", **{**ANALYSIS, "legality_rating": "basically_compliant",
                                                   "risk_negative_opinion": True})
    assert set(errors) == {"legality_note", "risk_negative_opinion_note"}
    flow.do("ut_risk_analysis", **{**ANALYSIS, "risk_negative_opinion": True,
                                   "risk_negative_opinion_note": "涨价易被炒作"})
    report = flow.task("ut_risk_report")
    assert report.context["risk_negative_opinion"] is True and len(report.context["risk_opinion_lines"]) == 2


@pytest.mark.parametrize("level", ["high", "medium", "low"])
def test_each_risk_level_allows_only_its_decisions(flow, level):
    to_decision(flow, level)
    context = flow.task("ut_risk_decision").context
    assert context["allowed_decisions"] == ALLOWED[level]
    for decision in DECISIONS:
        if decision in ALLOWED[level]:
            continue
        errors = refused(flow, "ut_risk_decision", risk_decision=decision, **EXPLAIN)
        assert list(errors) == ["risk_decision"] and "与评估结果不符" in errors["risk_decision"][0]
        assert flow.open() == ["ut_risk_decision"]


def test_medium_risk_needs_at_least_one_measure(flow):
    flow.do("ut_risk_item", **SIMPLIFIED)
    flow.do("ut_risk_report", risk_level="medium", **REPORT)
    assert refused(flow, "ut_risk_measures") == {
        "risk_measures": ["中风险事项须先确定防范、化解风险的措施,至少填写一项"]}
    flow.do("ut_risk_measures", **MEASURES)
    assert flow.open() == ["ut_risk_decision"]


def test_high_risk_not_implemented_is_filed(flow):
    to_decision(flow, "high")
    flow.do("ut_risk_decision", risk_decision="not_implement", risk_decision_comment="暂不出台")
    assert flow.open() == ["ut_risk_filing"] and flow.notifications() == ["risk_filing_due"]
    flow.do("ut_risk_filing", **FILING, filing_note="文号〔2026〕12号")
    assert flow.instance.status == InstanceStatus.COMPLETED


def test_adjust_and_reassess_goes_back_to_the_plan_and_hears_everyone_again(flow):
    flow.do("ut_risk_item", **ITEM)
    flow.do("ut_risk_plan", **PLAN)
    hear_everyone(flow, ["反对涨价", "担心就诊量下降"])
    flow.do("ut_risk_analysis", **ANALYSIS)
    flow.do("ut_risk_report", risk_level="high", **REPORT)
    flow.do("ut_risk_measures")
    flow.do("ut_risk_decision", risk_decision="adjust_and_reassess", risk_decision_comment="分两年调整")
    plan = flow.task("ut_risk_plan")
    assert plan.context["risk_decision_comment"] == "分两年调整" and plan.context["risk_level"] == "high"
    assert refused(flow, "ut_risk_plan", **PLAN) == {
        "risk_plan_adjustment": ["调整决策方案后重新评估,请填写方案调整说明"]}
    flow.do("ut_risk_plan", **{**PLAN, "stakeholders": PLAN["stakeholders"][:1]},
            risk_plan_adjustment="改为分两年各提高15元")
    assert flow.open() == ["ut_risk_opinion"]
    hear_everyone(flow, ["可以接受"])
    analysis = flow.task("ut_risk_analysis")
    assert analysis.context["risk_opinion_lines"] == ["参保居民代表(座谈,有条件支持):可以接受"]
    flow.do("ut_risk_analysis", **ANALYSIS)
    flow.do("ut_risk_report", risk_level="low", **REPORT)
    assert flow.task("ut_risk_measures").context["allowed_decisions"] == ["implement"]  # not merged with high's
    flow.do("ut_risk_measures")
    flow.do("ut_risk_decision", risk_decision="implement", **EXPLAIN)
    assert flow.open() == ["ut_risk_filing"]


def test_postpone_waits_for_the_measures_then_reassesses(flow):
    to_decision(flow, "medium")
    flow.do("ut_risk_decision", risk_decision="postpone", risk_decision_comment="先做好政策解读")
    done = flow.task("ut_risk_measures_done")
    assert flow.open() == ["ut_risk_measures_done"] and flow.notifications() == []
    assert done.context["risk_measures"] == MEASURES["risk_measures"] and done.unit_code == UNIT
    flow.do("ut_risk_measures_done", risk_measures_done_at=T0, risk_measures_result="解读已发布,热线口径已统一")
    report = flow.task("ut_risk_report")
    assert report.context["risk_measures_result"] == "解读已发布,热线口径已统一"
    assert report.context["risk_decision"] == "postpone"
    flow.do("ut_risk_report", risk_level="low", risk_report="措施落实后重新评估为低风险")
    flow.do("ut_risk_measures", **MEASURES)
    assert flow.task("ut_risk_decision").context["allowed_decisions"] == ["implement"]
    flow.do("ut_risk_decision", risk_decision="implement", **EXPLAIN)
    flow.do("ut_risk_filing", **FILING)
    assert flow.instance.status == InstanceStatus.COMPLETED
    assert flow.instance.data["risk_report"] == "措施落实后重新评估为低风险"


def test_the_assessment_item_belongs_to_whoever_started_it(db):
    from app.operations import instances  # noqa: PLC0415

    owner = make_user(["risk_owner"], unit=UNIT)
    colleague = make_user(["risk_owner"], unit=UNIT)
    instance = instances.start_instance("yq_risk_assessment", owner)
    item = db.session.scalar(select(HumanTask).where(HumanTask.instance_id == instance.id))
    assert item.spec_id == "ut_risk_item" and item.assignee_id == owner.id
    assert item in tasks.list_my_tasks(owner)
    assert item not in tasks.list_group_tasks(colleague) and not tasks.is_candidate(item, colleague)
