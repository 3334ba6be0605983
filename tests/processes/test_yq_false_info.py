"""yq_false_info.bpmn: the owner by profile (leadership group or party group, with the sections) handles
false reports; a clarification is approved (or returned to the owner) before the office records the result."""

from __future__ import annotations

from typing import Any

import pytest

from app.models import InstanceStatus
from app.operations import profiles
from app.operations.errors import Invalid
from tests.conftest import make_user
from tests.processes.flow import Flow

START: dict[str, Any] = {"title": "某事件", "incident_no": "YQ-2026-9001", "confirmed_level": 3,
                         "url": "https://weibo.com/1", "summary": "网传某窗口停办业务"}
HANDLING = {"false_content": "网传窗口停办社保业务", "media_name": "某自媒体账号",
            "contact_record": "11时电话联系平台编辑,对方同意删除", "false_info_actions": ["correction", "deletion"]}
CLARIFY = {**HANDLING, "false_info_actions": ["correction", "clarification"],
           "clarification_text": "经核实,该窗口业务正常办理。"}
RESULT = {"false_info_outcome": "原帖已删除,澄清已发布", "clarification_link": "https://weibo.com/gov/2"}


def roles(flow: Flow, spec_id: str) -> set[str]:
    return set(flow.task(spec_id).candidate_roles_text.split(","))


def kinds(flow: Flow) -> list[str]:
    return [kind for kind, _data in flow.ledger()]


def test_without_clarification_the_office_records_the_result_directly(db):
    flow = Flow("yq_false_info", START)
    assert flow.open() == ["ut_false_info"]
    assert roles(flow, "ut_false_info") == {"group_leader", "group_deputy", "section_head"}
    assert flow.task("ut_false_info").context["url"] == "https://weibo.com/1"
    flow.do("ut_false_info", **HANDLING)

    assert flow.open() == ["ut_false_info_result"]
    assert roles(flow, "ut_false_info_result") == {"office_director", "office_staff"}
    result = flow.task("ut_false_info_result").context
    assert result["false_info_actions"] == ["correction", "deletion"] and result["clarification_decision"] is None
    flow.do("ut_false_info_result", false_info_outcome="原帖已删除")

    assert flow.instance.status == InstanceStatus.COMPLETED
    assert kinds(flow) == ["false_info", "false_info_result"]
    assert flow.ledger() == [("false_info", HANDLING), ("false_info_result", {"false_info_outcome": "原帖已删除"})]
    assert flow.incident().is_false_info is True
    assert flow.notifications() == []


def test_a_clarification_is_approved_by_the_leadership_group_before_the_result(db):
    flow = Flow("yq_false_info", START)
    flow.do("ut_false_info", **CLARIFY)

    assert flow.open() == ["ut_approve_clarification"]
    assert roles(flow, "ut_approve_clarification") == {"group_leader", "group_deputy"}  # not the sections
    assert flow.task("ut_approve_clarification").context["clarification_text"] == "经核实,该窗口业务正常办理。"
    flow.do("ut_approve_clarification", clarification_decision="approve")

    assert flow.open() == ["ut_false_info_result"]
    assert flow.task("ut_false_info_result").context["clarification_decision"] == "approve"
    flow.do("ut_false_info_result", **RESULT)
    assert flow.instance.status == InstanceStatus.COMPLETED
    assert flow.ledger() == [("false_info", CLARIFY), ("clarification_review", {"clarification_decision": "approve"}),
                             ("false_info_result", RESULT)]


def test_a_returned_clarification_goes_back_to_the_owner_with_the_comment_and_the_previous_text(db):
    flow = Flow("yq_false_info", START)
    flow.do("ut_false_info", **CLARIFY)
    flow.do("ut_approve_clarification", clarification_decision="return", clarification_comment="写明核实时间")

    assert flow.open() == ["ut_false_info"]
    again = flow.task("ut_false_info").context
    assert again["clarification_comment"] == "写明核实时间"
    assert again["clarification_text"] == "经核实,该窗口业务正常办理。"
    assert again["false_content"] == "网传窗口停办社保业务"
    flow.do("ut_false_info", **{**CLARIFY, "clarification_text": "11月25日经核实,该窗口业务正常办理。"})

    review = flow.task("ut_approve_clarification").context
    assert review["clarification_text"].startswith("11月25日") and review["clarification_comment"] is None
    flow.do("ut_approve_clarification", clarification_decision="approve")
    flow.do("ut_false_info_result", **RESULT)
    assert flow.instance.status == InstanceStatus.COMPLETED
    assert kinds(flow) == ["false_info", "clarification_review", "false_info", "clarification_review",
                           "false_info_result"]


def test_county_profile_party_group_owns_the_task_and_gets_it_back_when_returned(db):
    profiles.activate("county", make_user(["admin"]))
    flow = Flow("yq_false_info", START)
    assert flow.open() == ["ut_false_info_party"]
    assert roles(flow, "ut_false_info_party") == {"party_group", "section_head"}
    assert flow.task("ut_false_info_party").form == "ut_false_info.schema.json"
    flow.do("ut_false_info_party", **CLARIFY)
    flow.do("ut_approve_clarification", clarification_decision="return", clarification_comment="暂不发布澄清")

    assert flow.open() == ["ut_false_info_party"]
    assert flow.task("ut_false_info_party").context["clarification_comment"] == "暂不发布澄清"
    flow.do("ut_false_info_party", **HANDLING)  # clarification dropped: straight to the result

    assert flow.open() == ["ut_false_info_result"]
    assert flow.task("ut_false_info_result").context["clarification_decision"] is None  # no stale "return"
    flow.do("ut_false_info_result", false_info_outcome="原帖已删除")
    assert flow.instance.status == InstanceStatus.COMPLETED
    assert kinds(flow) == ["false_info", "clarification_review", "false_info", "false_info_result"]


def test_the_owner_follows_a_profile_edit(db):
    values = {**profiles.active_values(), "false_info_owner": "party_group"}
    profiles.update_profile("city", values, make_user(["admin"]), "虚假信息由局党组牵头处置")
    flow = Flow("yq_false_info", START)
    assert flow.open() == ["ut_false_info_party"]


@pytest.mark.parametrize(("answers", "field"), [
    ({**HANDLING, "false_info_actions": ["clarification"]}, "clarification_text"),
    ({**HANDLING, "false_info_actions": ["other"]}, "false_info_other_action"),
    ({**HANDLING, "false_info_actions": []}, "false_info_actions"),
    ({**HANDLING, "contact_record": ""}, "contact_record"),
], ids=["clarification_needs_text", "other_needs_description", "an_action_is_required", "contact_required"])
def test_the_handling_form_enforces_its_conditional_fields(db, answers, field):
    flow = Flow("yq_false_info", START)
    with pytest.raises(Invalid) as refused:
        flow.do("ut_false_info", **answers)
    assert field in refused.value.errors
    assert flow.open() == ["ut_false_info"]


def test_a_return_needs_a_comment_and_a_link_must_be_a_web_address(db):
    flow = Flow("yq_false_info", START)
    flow.do("ut_false_info", **{**CLARIFY, "false_info_actions": ["other", "clarification"],
                                 "false_info_other_action": "约谈账号主体"})
    with pytest.raises(Invalid) as refused:
        flow.do("ut_approve_clarification", clarification_decision="return")
    assert "clarification_comment" in refused.value.errors
    flow.do("ut_approve_clarification", clarification_decision="approve")
    with pytest.raises(Invalid) as bad_link:
        flow.do("ut_false_info_result", **{**RESULT, "clarification_link": "weibo.com/gov/2"})
    assert "clarification_link" in bad_link.value.errors
    assert flow.open() == ["ut_false_info_result"]
