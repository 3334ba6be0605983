"""yq_dispatch.bpmn: the office issues unit tasks (one parallel instance per row), each unit feeds back,
a row still open at its due time is reminded (催办) to that unit's head and the office director and
recorded as a missed deadline (督办)."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from sqlalchemy import select

from app.extensions import db
from app.models import InstanceStatus, LedgerEntry, Notification
from app.operations import tasks
from app.operations.errors import Invalid, NotFound
from tests.conftest import make_user
from tests.processes.flow import Flow

EMPLOYMENT_DUE = "2026-11-27T09:00:00+08:00"  # two days after the pinned clock (09:00, 25 Nov 2026)
INSURANCE_DUE = "2026-11-25T11:00:00+08:00"  # two hours after it
ROWS = [
    {"unit": "employment", "task": "配合说明就业补贴发放口径", "due_at": EMPLOYMENT_DUE},
    {"unit": "social_insurance", "task": "核实当事人参保缴费情况", "due_at": INSURANCE_DUE},
]
DONE = {"unit_done": True, "unit_feedback_text": "已核实并反馈"}


@pytest.fixture
def people(db):
    return {
        "insurance_head": make_user(["section_head"], unit="social_insurance"),
        "insurance_staff": make_user(["section_staff"], unit="social_insurance"),
        "employment_head": make_user(["section_head"], unit="employment"),
        "policy_head": make_user(["section_head"], unit="policy"),
        "director": make_user(["office_director"]),
        "leader": make_user(["group_leader"]),
    }


@pytest.fixture
def flow(db):
    return Flow("yq_dispatch", {"title": "某事件", "incident_no": "YQ-2026-9001"})


def _feedback(flow, unit):
    rows = [t for t in flow._open_rows() if t.spec_id == "ut_unit_feedback" and t.unit_code == unit]
    assert len(rows) == 1, f"no open feedback task for {unit}: {flow.open()}"
    return rows[0]


def _recipients(flow, kind):
    return set(db.session.scalars(select(Notification.user_id).where(
        Notification.instance_id == flow.instance.id, Notification.kind == kind)))


def _utc(text):
    return datetime.fromisoformat(text).astimezone(UTC)


def test_the_office_must_list_at_least_one_task_due_in_the_future(flow):
    with pytest.raises(Invalid):
        flow.do("ut_dispatch", dispatch_tasks=[])
    with pytest.raises(Invalid) as refused:
        flow.do("ut_dispatch", dispatch_tasks=[{**ROWS[0], "due_at": "2026-11-25T08:00:00+08:00"}])
    assert "办理时限不能早于当前时间" in str(refused.value.errors)
    with pytest.raises(Invalid):
        flow.do("ut_dispatch", dispatch_tasks=[{"unit": "employment", "due_at": EMPLOYMENT_DUE}])
    assert flow.open() == ["ut_dispatch"]


def test_each_row_is_a_task_of_its_own_unit_with_the_row_due_time(flow, people):
    flow.do("ut_dispatch", dispatch_tasks=ROWS)
    assert flow.open() == ["ut_unit_feedback", "ut_unit_feedback"]
    insurance, employment = _feedback(flow, "social_insurance"), _feedback(flow, "employment")
    assert insurance.due_at.replace(tzinfo=UTC) == _utc(INSURANCE_DUE)
    assert employment.due_at.replace(tzinfo=UTC) == _utc(EMPLOYMENT_DUE)
    assert insurance.context["dispatch_task"] == ROWS[1]
    assert insurance.context["dispatch_task_text"] == "核实当事人参保缴费情况"
    assert employment.context["dispatch_unit"] == "employment"
    # Worklists: each unit sees its own row only; another unit and people without a unit see neither.
    assert [t.unit_code for t in tasks.list_group_tasks(people["insurance_head"])] == ["social_insurance"]
    assert [t.unit_code for t in tasks.list_group_tasks(people["insurance_staff"])] == ["social_insurance"]
    assert [t.unit_code for t in tasks.list_group_tasks(people["employment_head"])] == ["employment"]
    assert tasks.list_group_tasks(people["policy_head"]) == []
    assert tasks.list_group_tasks(flow.user) == []
    with pytest.raises(NotFound):  # another unit's row is not even visible
        tasks.complete_task(insurance.public_id, DONE, people["employment_head"])
    with pytest.raises(Invalid):
        tasks.complete_task(insurance.public_id, {"unit_done": True}, people["insurance_head"])
    assert flow.ledger() == [("dispatch", {"dispatch_tasks": ROWS})]


def test_a_late_row_is_reminded_and_recorded_the_other_is_not(flow, people, fake_clock):
    flow.do("ut_dispatch", dispatch_tasks=ROWS)
    tasks.complete_task(_feedback(flow, "employment").public_id,
                        {"unit_done": False, "unit_feedback_text": "正在准备口径,明日报送"}, people["employment_head"])
    fake_clock.advance(hours=1, minutes=59)
    flow.fire_timers()
    assert flow.notifications() == []
    fake_clock.advance(minutes=1, seconds=1)
    assert flow.fire_timers() == 1
    assert set(flow.notifications()) == {"dispatch_overdue"}
    reminded = _recipients(flow, "dispatch_overdue")
    assert {people["insurance_head"].id, people["director"].id} <= reminded
    assert not reminded & {people["employment_head"].id, people["policy_head"].id, people["leader"].id,
                           people["insurance_staff"].id}
    kind, missed = flow.ledger()[-1]
    assert kind == "deadline_missed"
    assert missed == {"deadline": "dispatch", "due_at": INSURANCE_DUE, "subject": "social_insurance",
                      "note": "核实当事人参保缴费情况"}
    line = db.session.scalar(select(LedgerEntry.summary).where(LedgerEntry.kind == "deadline_missed"))
    assert line == "承办反馈(社会保险科)已超时:核实当事人参保缴费情况"  # the unit's name, never its code
    deadlines = flow.incident().deadlines
    assert deadlines[f"dispatch:social_insurance:{INSURANCE_DUE}"] == {"due_at": INSURANCE_DUE, "done_at": None,
                                                                     "missed": True}
    assert not deadlines[f"dispatch:employment:{ROWS[0]['due_at']}"]["missed"]  # each unit its own row
    # The reminder does not take the task away: the unit still feeds back, late.
    assert flow.open() == ["ut_unit_feedback"]
    tasks.complete_task(_feedback(flow, "social_insurance").public_id, DONE, people["insurance_head"])
    fake_clock.advance(days=3)
    flow.fire_timers()
    assert flow.notifications().count("dispatch_overdue") == len(reminded)  # nothing more for employment
    assert flow.instance.status == InstanceStatus.COMPLETED
    feedbacks = {row["unit"]: row for row in flow.instance.data["unit_feedbacks"]}
    assert feedbacks["social_insurance"] | {"answered_at": None} == {
        "unit": "social_insurance", "task": "核实当事人参保缴费情况", "due_at": INSURANCE_DUE, "done": True,
        "feedback": "已核实并反馈", "answered_at": None, "late": True}
    assert feedbacks["employment"]["late"] is False and feedbacks["employment"]["done"] is False
    assert [k for k, _ in flow.ledger()] == ["dispatch", "unit_feedback", "deadline_missed", "unit_feedback"]
    assert "dispatch_task" not in flow.instance.data and "dispatch_unit" not in flow.instance.data


def test_all_rows_answered_in_time_need_no_reminder(flow, people, fake_clock):
    flow.do("ut_dispatch", dispatch_tasks=ROWS)
    tasks.complete_task(_feedback(flow, "social_insurance").public_id, DONE, people["insurance_staff"])
    tasks.complete_task(_feedback(flow, "employment").public_id, DONE, people["employment_head"])
    assert flow.instance.status == InstanceStatus.COMPLETED and flow.instance.next_timer_at is None
    fake_clock.advance(days=3)
    assert flow.fire_timers() == 0
    assert flow.notifications() == []
    assert [row["late"] for row in flow.instance.data["unit_feedbacks"]] == [False, False]
    assert [k for k, _ in flow.ledger()] == ["dispatch", "unit_feedback", "unit_feedback"]


def test_the_reminder_goes_to_the_late_unit_while_a_later_row_is_still_open(flow, people, fake_clock):
    flow.do("ut_dispatch", dispatch_tasks=list(reversed(ROWS)))  # the late row first, the other still open
    fake_clock.advance(hours=2, seconds=1)
    flow.fire_timers()
    reminded = _recipients(flow, "dispatch_overdue")
    assert {people["insurance_head"].id, people["director"].id} <= reminded
    assert people["employment_head"].id not in reminded
    assert [e["subject"] for k, e in flow.ledger() if k == "deadline_missed"] == ["social_insurance"]


def test_two_rows_late_at_the_same_time_are_both_reminded_and_recorded(flow, people, fake_clock):
    flow.do("ut_dispatch", dispatch_tasks=[{**row, "due_at": INSURANCE_DUE} for row in ROWS])
    fake_clock.advance(hours=2, seconds=1)
    flow.fire_timers()
    missed = sorted(e["subject"] for k, e in flow.ledger() if k == "deadline_missed")
    assert missed == ["employment", "social_insurance"]
    assert {people["insurance_head"].id, people["employment_head"].id} <= _recipients(flow, "dispatch_overdue")


def test_the_ledger_line_of_a_feedback_shows_what_was_done(flow, people):
    flow.do("ut_dispatch", dispatch_tasks=ROWS[:1])
    tasks.complete_task(_feedback(flow, "employment").public_id, DONE, people["employment_head"])
    assert db.session.scalar(select(LedgerEntry.summary).where(LedgerEntry.kind == "unit_feedback")) == "已核实并反馈"


def test_two_rows_late_at_different_times_are_each_reminded_and_recorded(flow, people, fake_clock):
    later = {"unit": "employment", "task": "配合说明就业补贴发放口径", "due_at": "2026-11-25T13:00:00+08:00"}
    flow.do("ut_dispatch", dispatch_tasks=[later, ROWS[1]])  # social insurance due 11:00, employment 13:00
    fake_clock.advance(hours=2, seconds=1)
    flow.fire_timers()
    tasks.complete_task(_feedback(flow, "social_insurance").public_id, DONE, people["insurance_head"])
    fake_clock.advance(hours=2)
    flow.fire_timers()
    missed = [entry["subject"] for kind, entry in flow.ledger() if kind == "deadline_missed"]
    assert missed == ["social_insurance", "employment"]
    assert {people["insurance_head"].id, people["employment_head"].id} <= _recipients(flow, "dispatch_overdue")


def test_the_overdue_reminder_names_the_unit_and_its_task(flow, people, fake_clock):
    flow.do("ut_dispatch", dispatch_tasks=ROWS)
    fake_clock.advance(hours=2, seconds=1)
    assert flow.fire_timers() == 1
    notices = db.session.scalars(select(Notification).where(Notification.instance_id == flow.instance.id,
                                                            Notification.kind == "dispatch_overdue")).all()
    assert notices and {n.title for n in notices} == {"【催办】YQ-2026-9001 社会保险科 交办的处置任务已超过办理时限"}
    assert {n.body for n in notices} == {
        "舆情 YQ-2026-9001“某事件”交由社会保险科办理的处置任务“核实当事人参保缴费情况”已超过办理时限"
        "(2026-11-25 11:00)仍未反馈,已记入督办。请承办单位负责人督促尽快办理,并在系统中反馈办理情况。"}
