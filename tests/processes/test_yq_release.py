"""yq_release.bpmn: draft, approval by the leadership group or recorded external approval plus the group
leader's signature, returns with comments, reminders on every approval task, publishing by the chosen
spokesperson."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import select

from app.extensions import db as _db
from app.models import InstanceStatus, LedgerEntry, Notification
from app.operations import ledger_reading, profiles, task_rows, tasks
from app.operations.errors import Conflict, Invalid
from tests.conftest import make_user
from tests.processes.flow import Flow

T0 = "2026-11-25T09:00:00+08:00"
DUE_UTC = "2026-11-25T13:00:00+00:00"  # release_due_at 21:00 Shanghai
BASE: dict[str, Any] = {"title": "某事件", "incident_no": "YQ-2026-9001",
                        "release_due_at": "2026-11-25T21:00:00+08:00"}
GROUP = {**BASE, "confirmed_level": 4, "release_approval": "group"}
EXTERNAL = {**BASE, "confirmed_level": 2, "release_approval": "external"}

DRAFT = {"release_title": "通稿", "release_body": "正文", "fact_basis": "依据", "channels": ["gov_weibo"]}
EXTERNAL_APPROVAL = {"approver_body": "市委宣传部", "external_result": "approve", "approved_at": T0,
                     "approval_reference": "宣审〔2026〕1号", "external_comment": "同意发布"}
PUBLISH = {"published_at": T0, "channels": ["gov_weibo"], "links": ["https://weibo.com/gov/1"],
           "published_text": "正文"}


def draft(flow: Flow, **changes: Any) -> dict[str, Any]:
    return {**DRAFT, "spokesperson": flow.user.username, **changes}


def roles(flow: Flow, spec_id: str) -> set[str]:
    return set(flow.task(spec_id).candidate_roles_text.split(","))


def kinds(flow: Flow) -> list[str]:
    return [kind for kind, _data in flow.ledger()]


def reminders_to(flow: Flow, user: Any) -> int:
    return len(_db.session.scalars(select(Notification.id).where(
        Notification.instance_id == flow.instance.id, Notification.user_id == user.id,
        Notification.kind == "approval_reminder")).all())


def fire_hourly(flow: Flow, fake_clock: Any, rounds: int) -> None:
    for _ in range(rounds):
        fake_clock.advance(hours=1, minutes=1)
        flow.fire_timers()


# -- group approval (L3/L4) ----------------------------------------------------------------------


def test_group_approval_return_reopens_the_draft_with_its_text_and_the_comment_then_publishes(db):
    flow = Flow("yq_release", GROUP)
    assert flow.open() == ["ut_draft_release"]
    assert flow.instance.data["approval_reminder"] == "R3/PT1H"  # read from the profile first
    assert roles(flow, "ut_draft_release") == {"team_publicity", "office_director", "office_staff"}
    flow.do("ut_draft_release", **draft(flow))

    assert flow.open() == ["ut_approve_release"]
    assert roles(flow, "ut_approve_release") == {"group_leader", "group_deputy"}
    review = flow.task("ut_approve_release").context
    assert review["release_title"] == "通稿" and review["release_body"] == "正文"
    flow.do("ut_approve_release", release_decision="return", release_comment="补充整改时限")

    redraft = flow.task("ut_draft_release")
    assert redraft.context["release_comment"] == "补充整改时限"
    assert redraft.context["release_title"] == "通稿" and redraft.context["release_body"] == "正文"
    flow.do("ut_draft_release", **draft(flow, release_body="新正文"))

    again = flow.task("ut_approve_release").context
    assert again["release_body"] == "新正文" and again["release_comment"] is None  # last round's comment cleared
    flow.do("ut_approve_release", release_decision="approve")

    publish = flow.task("ut_publish_response")
    assert publish.assignee_id == flow.user.id  # the spokesperson picked in the draft
    assert publish.context["release_body"] == "新正文"
    flow.do("ut_publish_response", **PUBLISH)

    assert flow.instance.status == InstanceStatus.COMPLETED
    assert flow.instance.data["release_body"] == "新正文"
    assert kinds(flow) == ["release_drafted", "release_review", "release_drafted", "release_review",
                           "release_published"]
    reviews = [data for kind, data in flow.ledger() if kind == "release_review"]
    assert reviews == [{"release_decision": "return", "release_comment": "补充整改时限"},
                       {"release_decision": "approve"}]
    summaries = _db.session.scalars(select(LedgerEntry.summary).where(
        LedgerEntry.kind == "release_review").order_by(LedgerEntry.id)).all()
    # each line says what was decided; the approval does not repeat the old return comment
    assert summaries == ["退回修改(补充整改时限)", "同意"]
    english = [ledger_reading.summary_text(entry, "en") for entry in _db.session.scalars(
        select(LedgerEntry).where(LedgerEntry.kind == "release_review").order_by(LedgerEntry.id))]
    assert english == ["Returned for revision (补充整改时限)", "Approved"]
    assert flow.incident().first_release_at.isoformat() == "2026-11-25T01:00:00+00:00"
    assert flow.notifications() == []


def test_return_without_a_comment_is_refused(db):
    flow = Flow("yq_release", GROUP)
    flow.do("ut_draft_release", **draft(flow))
    with pytest.raises(Invalid) as refused:
        flow.do("ut_approve_release", release_decision="return")
    assert "release_comment" in refused.value.errors
    assert flow.open() == ["ut_approve_release"]


def test_an_unknown_approval_mode_falls_back_to_the_leadership_group(db):
    flow = Flow("yq_release", {**GROUP, "release_approval": "other"})
    flow.do("ut_draft_release", **draft(flow))
    assert flow.open() == ["ut_approve_release"]


# -- external approval (L1/L2) -------------------------------------------------------------------


def test_external_approval_is_recorded_by_the_office_then_signed_by_the_group_leader(db):
    flow = Flow("yq_release", EXTERNAL)
    flow.do("ut_draft_release", **draft(flow))

    assert flow.open() == ["ut_record_external_approval"]
    assert roles(flow, "ut_record_external_approval") == {"office_director", "office_staff"}
    assert flow.task("ut_record_external_approval").context["release_body"] == "正文"
    flow.do("ut_record_external_approval", **EXTERNAL_APPROVAL)

    assert flow.open() == ["ut_sign_release"]
    assert roles(flow, "ut_sign_release") == {"group_leader"}  # the leader only, no deputy
    sign = flow.task("ut_sign_release")
    assert sign.form == "ut_approve_release.schema.json"
    assert sign.context["approver_body"] == "市委宣传部" and sign.context["external_comment"] == "同意发布"
    flow.do("ut_sign_release", release_decision="approve")

    assert flow.task("ut_publish_response").assignee_id == flow.user.id
    flow.do("ut_publish_response", **PUBLISH)
    assert flow.instance.status == InstanceStatus.COMPLETED
    assert kinds(flow) == ["release_drafted", "external_approval", "release_review", "release_published"]
    recorded = dict(flow.ledger())["external_approval"]
    assert recorded == EXTERNAL_APPROVAL


def test_a_signature_refused_goes_back_to_drafting_and_needs_a_new_external_approval(db):
    flow = Flow("yq_release", EXTERNAL)
    flow.do("ut_draft_release", **draft(flow))
    flow.do("ut_record_external_approval", **EXTERNAL_APPROVAL)
    flow.do("ut_sign_release", release_decision="return", release_comment="按上级意见修改第二段")

    redraft = flow.task("ut_draft_release").context
    assert redraft["release_comment"] == "按上级意见修改第二段"
    assert redraft["external_comment"] == "同意发布"  # the superior's comment is shown too
    flow.do("ut_draft_release", **draft(flow, release_body="修改后正文"))

    assert flow.open() == ["ut_record_external_approval"]
    record = flow.task("ut_record_external_approval").context
    assert record["release_body"] == "修改后正文" and record["approval_reference"] is None
    flow.do("ut_record_external_approval", approver_body="市委网信办", external_result="approve", approved_at=T0)
    assert flow.task("ut_sign_release").context["external_comment"] is None  # nothing stale from round 1
    flow.do("ut_sign_release", release_decision="approve")
    assert flow.open() == ["ut_publish_response"]
    assert kinds(flow) == ["release_drafted", "external_approval", "release_review", "release_drafted",
                           "external_approval", "release_review"]


def test_a_superior_that_does_not_approve_sends_the_release_back_to_its_drafter(db):
    flow = Flow("yq_release", EXTERNAL)
    flow.do("ut_draft_release", **draft(flow))
    # Not approved needs the superior's comments: refused whole, nothing moves.
    with pytest.raises(Invalid) as refused:
        flow.do("ut_record_external_approval", approver_body="市委宣传部", external_result="return", approved_at=T0)
    assert "external_comment" in refused.value.errors and flow.open() == ["ut_record_external_approval"]
    flow.do("ut_record_external_approval", approver_body="市委宣传部", external_result="return", approved_at=T0,
            external_comment="第二段事实表述不准确,请核实后修改")

    # Back to the drafter, not to the group leader, with the superior's comments in view.
    assert flow.open() == ["ut_draft_release"]
    assert flow.task("ut_draft_release").context["external_comment"] == "第二段事实表述不准确,请核实后修改"
    # Its notice and page say the superior returned it; the office only recorded the review.
    back = task_rows.returned(_db.session, flow.task("ut_draft_release"))
    assert back == (f"市委宣传部({flow.user.display_name}记录)", "第二段事实表述不准确,请核实后修改")
    flow.do("ut_draft_release", **draft(flow, release_body="核实后修改的正文"))
    assert flow.open() == ["ut_record_external_approval"]
    assert flow.task("ut_record_external_approval").context["external_result"] is None  # a new review
    flow.do("ut_record_external_approval", **EXTERNAL_APPROVAL)
    flow.do("ut_sign_release", release_decision="approve")
    assert flow.open() == ["ut_publish_response"]
    assert kinds(flow) == ["release_drafted", "external_approval", "release_drafted", "external_approval",
                           "release_review"]
    summaries = [e.summary for e in _db.session.scalars(select(LedgerEntry).where(
        LedgerEntry.kind == "external_approval").order_by(LedgerEntry.id))]
    assert summaries == ["市委宣传部 — 不同意,退回修改:第二段事实表述不准确,请核实后修改", "市委宣传部 — 同意"]


def test_the_approving_body_must_be_one_the_profile_names(db):
    flow = Flow("yq_release", EXTERNAL)
    flow.do("ut_draft_release", **draft(flow))
    with pytest.raises(Invalid) as refused:
        flow.do("ut_record_external_approval", **{**EXTERNAL_APPROVAL, "approver_body": "某不相干单位"})
    assert "approver_body" in refused.value.errors
    with pytest.raises(Invalid) as future:
        flow.do("ut_record_external_approval", **{**EXTERNAL_APPROVAL, "approved_at": "2026-11-25T10:00:00+08:00"})
    assert "approved_at" in future.value.errors
    assert flow.open() == ["ut_record_external_approval"]


# -- deadlines and the spokesperson --------------------------------------------------------------


@pytest.mark.parametrize("start", [GROUP, EXTERNAL], ids=["group", "external"])
def test_every_task_shows_the_release_deadline(db, start):
    flow = Flow("yq_release", start)
    seen = []
    for spec_id, answers in (("ut_draft_release", draft(flow)), ("ut_approve_release", {"release_decision": "approve"}),
                             ("ut_record_external_approval", EXTERNAL_APPROVAL),
                             ("ut_sign_release", {"release_decision": "approve"}), ("ut_publish_response", PUBLISH)):
        if spec_id in flow.open():
            assert flow.task(spec_id).due_at.isoformat() == DUE_UTC, spec_id
            seen.append(spec_id)
            flow.do(spec_id, **answers)
    assert flow.instance.status == InstanceStatus.COMPLETED
    assert len(seen) == (3 if start is GROUP else 4)


def test_the_publishing_task_goes_straight_to_the_chosen_spokesperson(db):
    flow = Flow("yq_release", GROUP)
    spokesperson = make_user(["spokesperson"], "spokes_wang")
    flow.do("ut_draft_release", **draft(flow, spokesperson="spokes_wang"))
    flow.do("ut_approve_release", release_decision="approve")
    publish = flow.task("ut_publish_response")
    assert publish.assignee_id == spokesperson.id
    assert roles(flow, "ut_publish_response") == {"spokesperson"}
    with pytest.raises(Conflict):  # someone else, even holding every role, cannot take it
        flow.do("ut_publish_response", **PUBLISH)
    tasks.complete_task(publish.public_id, PUBLISH, spokesperson)
    _db.session.refresh(flow.instance)
    assert flow.instance.status == InstanceStatus.COMPLETED
    assert kinds(flow)[-1] == "release_published"


def test_the_spokesperson_must_hold_the_spokesperson_role(db):
    flow = Flow("yq_release", GROUP)
    make_user(["commentator"], "not_a_spokesperson")
    with pytest.raises(Invalid) as refused:
        flow.do("ut_draft_release", **draft(flow, spokesperson="not_a_spokesperson"))
    assert "spokesperson" in refused.value.errors


# -- approval reminders --------------------------------------------------------------------------


@pytest.mark.parametrize(("start", "spec_id", "reached", "not_reached"), [
    (GROUP, "ut_approve_release", ["group_deputy"], ["office_staff", "spokesperson"]),
    (EXTERNAL, "ut_record_external_approval", ["office_staff"], ["group_leader", "group_deputy"]),
    (EXTERNAL, "ut_sign_release", ["group_leader"], ["group_deputy", "office_staff"]),
], ids=["approve", "record_external", "sign"])
def test_a_pending_approval_reminds_its_lane_every_hour_three_times_then_stops(db, fake_clock, start, spec_id,
                                                                               reached, not_reached):
    flow = Flow("yq_release", start)
    inside = {role: make_user([role]) for role in reached}
    outside = {role: make_user([role]) for role in not_reached}
    flow.do("ut_draft_release", **draft(flow))
    if spec_id == "ut_sign_release":
        flow.do("ut_record_external_approval", **EXTERNAL_APPROVAL)
    assert flow.open() == [spec_id]

    fake_clock.advance(minutes=59)
    flow.fire_timers()
    assert flow.notifications() == []  # not before the first hour
    fake_clock.advance(minutes=2)
    sent = []
    for _ in range(5):  # 01:01, 02:01, 03:01 after the task opened, then 04:01 and 05:01
        flow.fire_timers()
        sent.append(reminders_to(flow, flow.user))
        fake_clock.advance(hours=1)
    assert sent == [1, 2, 3, 3, 3]  # three reminders, then none
    assert flow.open() == [spec_id]  # the reminders never take the task away
    assert all(reminders_to(flow, person) == 3 for person in inside.values())
    assert all(reminders_to(flow, person) == 0 for person in outside.values())
    assert set(flow.notifications()) == {"approval_reminder"}
    assert all(n.urgent for n in _db.session.scalars(select(Notification).where(
        Notification.instance_id == flow.instance.id)))


def test_reminders_stop_once_the_approval_is_given(db, fake_clock):
    flow = Flow("yq_release", GROUP)
    flow.do("ut_draft_release", **draft(flow))
    fire_hourly(flow, fake_clock, 1)
    assert reminders_to(flow, flow.user) == 1
    flow.do("ut_approve_release", release_decision="approve")
    fire_hourly(flow, fake_clock, 3)
    assert reminders_to(flow, flow.user) == 1
    assert flow.open() == ["ut_publish_response"]


def test_a_returned_draft_starts_a_fresh_round_of_reminders(db, fake_clock):
    flow = Flow("yq_release", GROUP)
    flow.do("ut_draft_release", **draft(flow))
    fire_hourly(flow, fake_clock, 3)
    flow.do("ut_approve_release", release_decision="return", release_comment="改")
    fire_hourly(flow, fake_clock, 2)
    assert reminders_to(flow, flow.user) == 3  # nothing while the draft is being reworked
    flow.do("ut_draft_release", **draft(flow))
    fire_hourly(flow, fake_clock, 4)
    assert reminders_to(flow, flow.user) == 6


def test_reminders_missed_while_nothing_ran_are_sent_once(db, fake_clock):
    flow = Flow("yq_release", GROUP)
    flow.do("ut_draft_release", **draft(flow))
    fake_clock.advance(hours=5)  # the worker was down: three hourly rounds are due at once
    flow.fire_timers()
    assert reminders_to(flow, flow.user) == 1
    assert flow.open() == ["ut_approve_release"]


def test_the_reminder_cycle_comes_from_the_organisation_profile(db, fake_clock):
    admin = make_user(["admin"])
    profiles.update_profile("city", {**profiles.active_values(), "approval_reminder": "R2/PT30M"}, admin,
                            "通稿审批提醒改为每半小时")
    flow = Flow("yq_release", GROUP)
    assert flow.instance.data["approval_reminder"] == "R2/PT30M"
    flow.do("ut_draft_release", **draft(flow))
    for _ in range(4):
        fake_clock.advance(minutes=31)
        flow.fire_timers()
    assert reminders_to(flow, flow.user) == 2
