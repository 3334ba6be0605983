"""yq_release.bpmn: draft, approve or return with comments, publish; hourly approval reminders (R3)."""

from __future__ import annotations

import pytest

from app.models import InstanceStatus
from tests.processes.answers import DRAFT, PUBLISH
from tests.processes.flow import Flow

START = {"title": "某事件", "release_due_at": "2026-11-25T21:00:00+08:00"}


@pytest.fixture
def flow(db):
    return Flow("yq_release", START)


def test_returned_draft_goes_back_with_the_comment_then_is_published(flow):
    draft = {**DRAFT, "spokesperson": flow.user.username}
    flow.do("ut_draft_release", **draft)
    flow.do("ut_approve_release", release_decision="return", release_comment="补充时限")
    redraft = flow.task("ut_draft_release")
    assert redraft.context["release_comment"] == "补充时限" and redraft.context["release_title"] == "通稿"
    flow.do("ut_draft_release", **{**draft, "release_body": "新正文"})
    flow.do("ut_approve_release", release_decision="approve")
    flow.do("ut_publish_response", **PUBLISH)
    assert flow.instance.status == InstanceStatus.COMPLETED
    assert flow.instance.data["release_body"] == "新正文"


def test_pending_approval_reminds_every_hour_three_times(flow, fake_clock):
    flow.do("ut_draft_release", **{**DRAFT, "spokesperson": flow.user.username})
    for _ in range(4):
        fake_clock.advance(hours=1, minutes=1)
        flow.fire_timers()
    assert flow.notifications().count("approval_reminder") == 3
    assert flow.open() == ["ut_approve_release"]


def test_tasks_show_the_release_deadline(flow):
    assert flow.task("ut_draft_release").due_at.isoformat() == "2026-11-25T13:00:00+00:00"


def test_reminders_missed_while_nothing_ran_are_sent_once(flow, fake_clock):
    flow.do("ut_draft_release", **{**DRAFT, "spokesperson": flow.user.username})
    fake_clock.advance(hours=5)  # the worker was down: three hourly rounds are due at once
    flow.fire_timers()
    assert flow.notifications().count("approval_reminder") == 1
    assert flow.open() == ["ut_approve_release"]
