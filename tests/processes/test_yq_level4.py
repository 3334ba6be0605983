"""yq_level4.bpmn (yq_level4_response): instruction request and decision, response, follow-up,
and the worsening → re-grade loop, inside the main process as it runs in production."""

from __future__ import annotations

import pytest

from app.models import InstanceStatus
from app.operations.errors import Invalid
from tests.processes.answers import CONFIRM, LOG, REGISTER, REQUEST
from tests.processes.flow import Flow


@pytest.fixture
def flow(db):
    flow = Flow("yq_incident", incident=True)
    flow.do("ut_register", **REGISTER)
    flow.do("ut_confirm_level", **CONFIRM)
    return flow


def test_the_request_for_instruction_opens_the_level_four_response(flow):
    assert flow.open() == ["ut_request_instruction"]
    assert flow.task("ut_request_instruction").process_id == "yq_level4_response"


def test_changing_the_level_is_refused_while_higher_levels_are_not_deployed(flow):
    flow.do("ut_request_instruction", **REQUEST)
    with pytest.raises(Invalid, match="仅上线Ⅳ级"):
        flow.do("ut_instruction_decision", decision="change_level", new_level=2, reason="影响扩大")
    assert flow.open() == ["ut_instruction_decision"]


def test_worsening_during_follow_up_asks_the_leadership_to_regrade(flow):
    flow.respond_and_publish()
    flow.do("ut_follow_up_log", **LOG, outcome="worsening", worsening_desc="转发量激增")
    assert flow.open() == ["ut_regrade"] and "worsening" in flow.notifications()
    assert flow.task("ut_regrade").context["worsening_info"]["worsening_desc"] == "转发量激增"
    with pytest.raises(Invalid, match="仅上线Ⅳ级"):
        flow.do("ut_regrade", confirmed_level=2, reason="升级")
    flow.do("ut_regrade", confirmed_level=4, reason="维持Ⅳ级,加强跟踪")
    assert flow.open() == ["ut_follow_up_log"]  # a new follow-up round
    assert flow.instance.status == InstanceStatus.WAITING
