"""yq_level_policy.dmn: per level and sudden event, the first-release deadline, the default for a press
conference, the monitoring and follow-up intervals and the request for instruction (UNIQUE: first hit)."""

from __future__ import annotations

import pytest

from app.engine.decisions import evaluate_decision
from tests.conftest import ROOT

DMN = (ROOT / "processes" / "yq_level_policy.dmn").read_bytes()


def policy(level: int, sudden: bool) -> dict:
    return dict(evaluate_decision(DMN, "yq_level_policy.dmn", "yq_level_policy",
                                  {"confirmed_level": level, "is_sudden_event": sudden}))


@pytest.mark.parametrize(("level", "sudden", "expected"), [
    (1, True, ("PT5H", True, "PT2H", "PT2H", False)),  # 国办发〔2016〕80号: 5 h, press conference within 24 h
    (1, False, ("PT12H", False, "PT2H", "PT2H", False)),  # 篇三 三、4: 12 h
    (2, True, ("PT5H", True, "PT4H", "PT4H", False)),  # 重大突发事件 too: conference within 24 h
    (2, False, ("PT12H", False, "PT4H", "PT4H", False)),
    (3, True, ("PT12H", False, "P1D", "P1D", False)),
    (3, False, ("PT12H", False, "P1D", "P1D", False)),
    (4, True, ("PT12H", False, "P1D", "P1D", True)),  # 篇二/篇三 四、(四): the office asks first
    (4, False, ("PT12H", False, "P1D", "P1D", True)),
])
def test_each_level_gets_its_deadlines_and_intervals(level, sudden, expected):
    result = policy(level, sudden)
    assert (result["first_release"], result["press_conference_default"], result["monitor_every"],
            result["follow_up_every"], result["needs_instruction_request"]) == expected


def test_an_unknown_level_hits_no_rule():
    assert policy(5, False) == {}
