"""yq_aftermath.bpmn: the summary evaluation, returned once, then approved."""

from __future__ import annotations

from app.models import InstanceStatus
from tests.processes.answers import SUMMARY
from tests.processes.flow import Flow


def test_summary_is_returned_with_comments_then_approved(db):
    flow = Flow("yq_aftermath", {"title": "某事件"})
    flow.do("ut_summary", **SUMMARY)
    flow.do("ut_approve_summary", summary_decision="return", summary_comment="补充内部原因")
    again = flow.task("ut_summary")
    assert again.context["summary_comment"] == "补充内部原因"
    flow.do("ut_summary", **{**SUMMARY, "internal_causes": "窗口人手不足"})
    flow.do("ut_approve_summary", summary_decision="approve")
    assert flow.instance.status == InstanceStatus.COMPLETED
    assert flow.instance.data["internal_causes"] == "窗口人手不足"
