"""Processes started by a timer: one instance waits for each next period, fires on time, and the next
period's instance is scheduled."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from sqlalchemy import select

from app.models import HumanTask, TaskStatus
from app.operations import deploy, schedules, timer_firing
from app.operations.errors import DeployRefused
from tests.conftest import ROOT

MONTHLY = (ROOT / "tests" / "jobs" / "data" / "t_monthly.bpmn").read_bytes()


def _deploy(content=MONTHLY):
    processes, forms = deploy.read_directory(ROOT / "processes", ROOT / "forms")
    return deploy.deploy_processes({**processes, "t_monthly.bpmn": content}, forms)


def test_the_next_period_is_scheduled_once_and_fires_at_nine_on_the_first(db, fake_clock):
    schedules.ensure_scheduled()  # the shipped monthly analysis takes its period first
    _deploy()
    assert schedules.ensure_scheduled() == 1
    assert schedules.ensure_scheduled() == 0  # exactly one waiting instance per period
    waiting = [i for i in schedules.scheduled_instances() if i.process_key == "t_monthly"]
    assert [i.scheduled_for for i in waiting] == [datetime(2026, 12, 1, 1, 0, tzinfo=UTC)]  # 09:00 Shanghai
    instance = waiting[0]
    assert instance.next_timer_at == instance.scheduled_for
    assert instance.data["period_from"].startswith("2026-11-01T00:00:00+08:00")
    assert instance.data["period_to"].startswith("2026-12-01T00:00:00+08:00")
    fake_clock.set(datetime(2026, 12, 1, 1, 0, 1, tzinfo=UTC))
    assert timer_firing.fire_due_timers() >= 1
    assert db.session.scalars(select(HumanTask.spec_id).where(HumanTask.instance_id == instance.id,
                                                            HumanTask.status == TaskStatus.OPEN)).all() == ["ut_report"]
    assert schedules.ensure_scheduled() >= 1  # t_monthly's next month (and the shipped analysis's, also due)
    later = [i.scheduled_for for i in schedules.scheduled_instances() if i.process_key == "t_monthly"]
    assert later[-1] == datetime(2027, 1, 1, 1, 0, tzinfo=UTC)


@pytest.mark.parametrize(("schedule", "now", "expected"), [
    ("monthly", datetime(2026, 12, 31, 20, 0, tzinfo=UTC), datetime(2027, 1, 1, 1, 0, tzinfo=UTC)),  # 04:00 local
    ("monthly", datetime(2027, 1, 1, 2, 0, tzinfo=UTC), datetime(2027, 2, 1, 1, 0, tzinfo=UTC)),  # 10:00 local
    ("monthly", datetime(2026, 11, 30, 23, 0, tzinfo=UTC), datetime(2026, 12, 1, 1, 0, tzinfo=UTC)),  # 07:00 local
    ("quarterly", datetime(2026, 11, 25, 1, 0, tzinfo=UTC), datetime(2027, 1, 1, 1, 0, tzinfo=UTC)),
    ("yearly", datetime(2026, 11, 25, 1, 0, tzinfo=UTC), datetime(2027, 1, 1, 1, 0, tzinfo=UTC)),
    ("daily", datetime(2026, 11, 25, 0, 30, tzinfo=UTC), datetime(2026, 11, 25, 1, 0, tzinfo=UTC)),
])
def test_period_starts(schedule, now, expected):
    start, period_from, period_to = schedules.period(schedule, now)
    assert start == expected and period_from < period_to <= start


def test_a_timer_started_process_without_a_schedule_is_refused(db):
    with pytest.raises(DeployRefused) as refused:
        _deploy(MONTHLY.replace(b'name="schedule" value="monthly"', b'name="other" value="x"'))
    assert refused.value.problems[0]["element"] == "t_monthly" and "schedule" in refused.value.problems[0]["reason"]
