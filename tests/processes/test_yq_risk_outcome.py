"""yq_risk_outcome.dmn: each rule of the risk-outcome table (篇一 三(一)3 评估结果运用); other values hit none."""

from __future__ import annotations

import pytest

from app.engine.decisions import evaluate_decision
from tests.conftest import ROOT

DMN = (ROOT / "processes" / "yq_risk_outcome.dmn").read_bytes()


def outcome(risk_level: object) -> dict:
    return dict(evaluate_decision(DMN, "yq_risk_outcome.dmn", "yq_risk_outcome", {"risk_level": risk_level}))


def test_high_risk_is_not_implemented_or_adjusted_and_decided_again():
    assert outcome("high") == {
        "allowed_decisions": ["not_implement", "adjust_and_reassess"],
        "requirement": "存在高风险:应区别情况作出不实施的决策,或者调整决策方案、降低风险等级后再行决策",
    }


def test_medium_risk_is_postponed_until_measures_are_taken():
    assert outcome("medium") == {
        "allowed_decisions": ["postpone"],
        "requirement": "存在中风险:作出暂缓实施的决策,待采取有效的防范、化解风险措施后,再作实施的决策",
    }


def test_low_risk_may_be_implemented_with_explanation_work():
    assert outcome("low") == {
        "allowed_decisions": ["implement"],
        "requirement": "存在低风险:可以作出实施的决策,但要做好解释说明工作,妥善处理相关群众的合理诉求",
    }


@pytest.mark.parametrize("value", ["High", "高", "", None])
def test_other_values_match_no_rule(value):
    assert outcome(value) == {}
