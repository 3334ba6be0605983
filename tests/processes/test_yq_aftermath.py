"""yq_aftermath.bpmn: deadlines from the subsiding time, a daily aftermath watch for seven days (a rebound
alerts the leadership), the summary with the incident record and its overdue reminder, its approval or
return, the accountability evaluation and, when needed, the plan revision task."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select

from app import forms
from app.extensions import db
from app.models import InstanceStatus, Notification
from app.operations import tasks
from app.operations.errors import Invalid
from tests.conftest import START, make_user
from tests.processes.flow import Flow

T0 = "2026-11-25T09:00:00+08:00"  # the pinned clock
SUMMARY = {"work_summary": "总结", "effectiveness": "good", "internal_causes": "窗口解释不到位", "lessons": "经验",
           "plan_revision_needed": False}
WATCH = {"observed_at": T0, "rebound_status": "none"}
WATCH_LINES = [f"{day} 09:00 善后跟踪:第{n}天无新增讨论" for n, day in enumerate(
    ["11-26", "11-27", "11-28", "11-29", "11-30", "12-01", "12-02"], start=1)]
ROWS = [{"subject": "社会保险科", "evaluation": "commend", "reason": "核实迅速"},
        {"subject": "窗口工作人员甲", "evaluation": "accountable", "reason": "答复错误引发质疑", "measure": "诫勉谈话"}]


@pytest.fixture
def people(db):
    return {
        "leader": make_user(["group_leader"]),
        "deputy": make_user(["group_deputy"]),
        "director": make_user(["office_director"]),
        "staff": make_user(["office_staff"]),
        "section_head": make_user(["section_head"], unit="social_insurance"),
        "commentator": make_user(["commentator"]),
    }


def _start(subsided_at=T0):
    return Flow("yq_aftermath", {"title": "某事件", "incident_no": "YQ-2026-9001", "subsided_at": subsided_at})


def _to_summary():
    """An aftermath whose watch period is already over: it opens the summary at once."""
    return _start("2026-11-17T09:00:00+08:00")  # subsided 8 days ago: watch over, summary due in 7 days


def _recipients(flow, kind):
    return set(db.session.scalars(select(Notification.user_id).where(
        Notification.instance_id == flow.instance.id, Notification.kind == kind)))


def _next_round(flow, fake_clock):
    fake_clock.advance(days=1, seconds=1)
    flow.fire_timers()


def test_deadlines_are_counted_from_the_subsiding_time(db):
    flow = _start()
    data = flow.instance.data
    assert data["aftermath_until"] == "2026-12-02T09:00:00+08:00"
    assert data["aftermath_check_every"] == "P1D"
    assert data["summary_due_at"] == "2026-12-10T09:00:00+08:00"
    assert flow.open() == [] and flow.instance.next_timer_at.replace(tzinfo=UTC) == START + timedelta(days=1)
    assert flow.ledger() == [("deadlines_set", {"summary_due_at": "2026-12-10T09:00:00+08:00"})]
    assert flow.incident().deadlines["summary"]["due_at"] == "2026-12-10T09:00:00+08:00"


def test_seven_daily_watches_then_the_summary(db, people, fake_clock):
    flow = _start()
    for day in range(1, 8):
        fake_clock.advance(hours=23)
        flow.fire_timers()
        assert flow.open() == [], f"day {day}: the watch came early"
        fake_clock.advance(hours=1, seconds=1)
        flow.fire_timers()
        assert flow.open() == ["ut_aftermath_watch"], f"day {day}"
        watch = flow.task("ut_aftermath_watch")
        assert watch.context["aftermath_until"] == "2026-12-02T09:00:00+08:00"
        assert tasks.is_candidate(watch, people["section_head"]) and tasks.is_candidate(watch, people["staff"])
        assert not tasks.is_candidate(watch, people["commentator"])
        flow.do("ut_aftermath_watch", **WATCH, aftermath_note=f"第{day}天无新增讨论")
        if day < 7:
            assert flow.open() == [], f"day {day}: the summary came early"
    assert flow.open() == ["ut_summary"]
    assert [k for k, _ in flow.ledger()].count("aftermath_watch") == 7
    assert flow.notifications() == []
    summary = flow.task("ut_summary")
    assert summary.due_at.replace(tzinfo=UTC) == datetime(2026, 12, 10, 1, 0, tzinfo=UTC)
    record = summary.context["record"]
    # Every watch is in the timeline, the last one too (it was written in the step that read the record).
    assert record["timeline"] == ["11-25 09:00 处置时限:总结评估 12-10 09:00", *WATCH_LINES]
    assert any(line.startswith("总结评估:时限 12-10 09:00") for line in record["timeliness"])
    shown = dict(forms.context_items(tasks.task_form(summary), summary.context, {}, "zh_CN",
                                     tasks.process_fields(summary)))
    assert shown["处置时间线"].splitlines() == record["timeline"]  # one line each (ui:context "lines")
    assert shown["时效情况"].splitlines() == record["timeliness"]


def test_a_rebound_alerts_the_leadership_and_the_watch_goes_on(db, people, fake_clock):
    flow = _start()
    _next_round(flow, fake_clock)
    with pytest.raises(Invalid):
        flow.do("ut_aftermath_watch", **{**WATCH, "rebound_status": "rebound"})
    flow.do("ut_aftermath_watch", **{**WATCH, "rebound_status": "rebound", "aftermath_note": "有自媒体重新炒作"})
    alerted = _recipients(flow, "aftermath_rebound")
    assert {people["leader"].id, people["deputy"].id, people["director"].id} <= alerted
    assert not alerted & {people["staff"].id, people["section_head"].id}
    assert db.session.scalar(select(Notification.urgent).where(Notification.kind == "aftermath_rebound").limit(1))
    assert flow.open() == [] and flow.instance.status == InstanceStatus.WAITING
    _next_round(flow, fake_clock)
    flow.do("ut_aftermath_watch", **WATCH)
    assert flow.notifications().count("aftermath_rebound") == len(alerted)
    assert [k for k, _ in flow.ledger()] == ["deadlines_set", "aftermath_watch", "aftermath_watch"]


def test_the_summary_comes_at_once_when_the_watch_period_is_over(db):
    flow = _to_summary()
    assert flow.open() == ["ut_summary"]
    assert flow.task("ut_summary").due_at.replace(tzinfo=UTC) == START + timedelta(days=7)


def test_an_overdue_summary_reminds_the_office_director_once(db, people, fake_clock):
    flow = _to_summary()
    fake_clock.advance(days=7)
    flow.fire_timers()
    assert flow.notifications() == []
    fake_clock.advance(seconds=1)
    flow.fire_timers()
    reminded = _recipients(flow, "summary_overdue")
    assert people["director"].id in reminded
    assert not reminded & {people["leader"].id, people["deputy"].id, people["staff"].id}
    kind, missed = flow.ledger()[-1]
    assert kind == "deadline_missed" and missed == {"deadline": "summary", "due_at": "2026-12-02T09:00:00+08:00"}
    assert flow.incident().deadlines["summary"]["missed"] is True
    assert flow.open() == ["ut_summary"]  # the reminder does not take the task away
    flow.do("ut_summary", **SUMMARY)
    flow.do("ut_approve_summary", summary_decision="return", summary_comment="补充时效分析")
    flow.fire_timers()  # the returned summary is past due again: no second reminder, no second line
    assert flow.notifications().count("summary_overdue") == len(reminded)
    assert [k for k, _ in flow.ledger()].count("deadline_missed") == 1


def test_the_summary_is_returned_then_approved_then_evaluated_and_the_plan_revised(db):
    flow = _to_summary()
    first = flow.task("ut_summary")
    flow.do("ut_summary", **{**SUMMARY, "plan_revision_needed": True})
    with pytest.raises(Invalid):
        flow.do("ut_approve_summary", summary_decision="return")
    flow.do("ut_approve_summary", summary_decision="return", summary_comment="补充内部原因")
    again = flow.task("ut_summary")
    assert again.context["summary_comment"] == "补充内部原因"
    # The record is read again for each draft, with what happened up to the return.
    assert first.context["record"]["timeline"] == ["11-25 09:00 处置时限:总结评估 12-02 09:00"]
    assert again.context["record"]["timeline"] == ["11-25 09:00 处置时限:总结评估 12-02 09:00", "11-25 09:00 总结评估",
                                                   "11-25 09:00 审定总结:退回修改(补充内部原因)"]
    flow.do("ut_summary", **{**SUMMARY, "internal_causes": "窗口人手不足", "plan_revision_needed": True})
    flow.do("ut_approve_summary", summary_decision="approve")
    assert flow.open() == ["ut_accountability"]
    assert flow.incident().deadlines["summary"]["done_at"] is not None
    assert flow.task("ut_accountability").context["internal_causes"] == "窗口人手不足"
    with pytest.raises(Invalid):
        flow.do("ut_accountability", accountability_rows=[], decided_at=T0)
    with pytest.raises(Invalid) as refused:
        flow.do("ut_accountability", accountability_rows=[{**ROWS[1], "measure": None}], decided_at=T0)
    assert "追责处理措施" in str(refused.value.errors)
    flow.do("ut_accountability", accountability_rows=ROWS, decided_at=T0)
    assert flow.open() == ["ut_plan_revision"]
    with pytest.raises(Invalid):
        flow.do("ut_plan_revision", revision_items="补充窗口答复口径", owner_unit="no_such_unit",
                revision_due_date="2026-12-31")
    flow.do("ut_plan_revision", revision_items="补充窗口答复口径", owner_unit="office", revision_due_date="2026-12-31")
    assert flow.instance.status == InstanceStatus.COMPLETED
    assert flow.instance.data["internal_causes"] == "窗口人手不足"
    assert [k for k, _ in flow.ledger()] == ["deadlines_set", "summary", "summary_review", "summary",
                                             "summary_review", "accountability", "plan_revision"]
    assert flow.ledger()[5][1]["accountability_rows"] == ROWS
    assert flow.ledger()[6][1] == {"revision_items": "补充窗口答复口径", "owner_unit": "office",
                                   "revision_due_date": "2026-12-31"}


def test_no_plan_revision_ends_after_the_accountability_evaluation(db):
    flow = _to_summary()
    flow.do("ut_summary", **SUMMARY)
    flow.do("ut_approve_summary", summary_decision="approve")
    flow.do("ut_accountability", accountability_rows=ROWS[:1], decided_at=T0)
    assert flow.instance.status == InstanceStatus.COMPLETED and flow.open() == []
    assert [k for k, _ in flow.ledger()] == ["deadlines_set", "summary", "summary_review", "accountability"]


def test_without_a_subsiding_time_the_watch_counts_from_now(db, fake_clock):
    fake_clock.advance(hours=2)
    flow = Flow("yq_aftermath", {"title": "某事件", "incident_no": "YQ-2026-9002"})
    assert flow.instance.status != "error"
    assert flow.instance.data["aftermath_until"] == "2026-12-02T11:00:00+08:00"
    assert flow.instance.data["summary_due_at"] == "2026-12-10T11:00:00+08:00"
