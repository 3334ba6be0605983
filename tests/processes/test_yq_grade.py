"""yq_grade.dmn: every rule of the grading table (P3 四), one trait at a time, and 'most severe wins'."""

from __future__ import annotations

import pytest

from app.engine.decisions import evaluate_decision
from tests.conftest import ROOT

DMN = (ROOT / "processes" / "yq_grade.dmn").read_bytes()
NOTHING = {"netizen_attention": "-", "foreign_media": "-", "spread_speed": "-", "impact_scope": "-",
           "offline_risk": "-"}
RULES = [
    ("netizen_attention", "extremely_high", 1, "网民关注度极高"),
    ("foreign_media", "high", 1, "境外媒体高度关注"),
    ("spread_speed", "very_fast", 1, "传播速度非常快"),
    ("impact_scope", "whole_society", 1, "影响扩大到整个社会"),
    ("offline_risk", "imminent", 1, "即将化为行为舆论"),
    ("netizen_attention", "high", 2, "网民关注度高"),
    ("foreign_media", "starting", 2, "境外媒体开始关注"),
    ("spread_speed", "fast", 2, "传播速度快"),
    ("impact_scope", "very_wide", 2, "影响扩散到很大范围"),
    ("offline_risk", "possible", 2, "有转化为行为舆论的可能"),
    ("netizen_attention", "relatively_high", 3, "网民关注度较高"),
    ("spread_speed", "medium", 3, "传播速度中等"),
    ("impact_scope", "limited", 3, "影响局限在一定范围内"),
    ("netizen_attention", "low", 4, "网民关注度低"),
    ("spread_speed", "slow", 4, "传播速度慢"),
    ("impact_scope", "small", 4, "影响局限在较小范围内"),
]


def test_no_trait_matches_nothing():
    assert evaluate_decision(DMN, "yq_grade.dmn", "yq_grade", NOTHING) == {}


@pytest.mark.parametrize(("trait", "value", "level", "basis"), RULES)
def test_each_rule_grades_its_trait(trait, value, level, basis):
    result = evaluate_decision(DMN, "yq_grade.dmn", "yq_grade", {**NOTHING, trait: value})
    assert result == {"level_hit": [level], "basis": [basis]}


def test_not_mentioned_values_hit_no_rule():
    data = {**NOTHING, "foreign_media": "none", "offline_risk": "none"}
    assert evaluate_decision(DMN, "yq_grade.dmn", "yq_grade", data) == {}


def test_mixed_traits_collect_every_hit_in_rule_order():
    data = {"netizen_attention": "low", "foreign_media": "starting", "spread_speed": "slow",
            "impact_scope": "small", "offline_risk": "none"}
    result = evaluate_decision(DMN, "yq_grade.dmn", "yq_grade", data)
    assert result["level_hit"] == [2, 4, 4, 4]
    assert result["basis"][0] == "境外媒体开始关注"
