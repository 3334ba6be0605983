"""yq_monthly_analysis.bpmn (篇一 三(二)3): started by the scheduler at 09:00 on the 1st for the month just
ended, statistics from the ledger, the 5-day reminder, return with comments, approval and filing."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import select

from app.extensions import db
from app.models import Incident, InstanceStatus, LedgerEntry, Notification, ProcessInstance
from app.operations import schedules, tasks, timer_firing
from app.operations.errors import Invalid
from app.operations.vocabulary import ROLES
from tests.conftest import make_user
from tests.processes.flow import Flow

PROCESS = "yq_monthly_analysis"
FIRST_OF_DECEMBER = datetime(2026, 12, 1, 1, 0, tzinfo=UTC)  # 09:00 in Shanghai
DRAFT: dict[str, Any] = {"overview": "本月舆情总体平稳", "key_incidents": "社保卡补办排队问题", "risks": "窗口服务高峰",
                         "suggestions": "增设自助终端"}
FILE = {"filed_with": ["市委网信办", "省人力资源和社会保障厅"], "filed_at": "2026-12-01T10:00:00+08:00",
        "filing_method": "official_document"}


def _at(text: str) -> datetime:
    return datetime.fromisoformat(text)


class ScheduledFlow(Flow):
    """A Flow over the instance the scheduler created (nobody started it)."""

    def __init__(self, instance: ProcessInstance):
        self.user = make_user([code for code, _zh, _en in ROLES])
        self.instance = instance


@pytest.fixture
def ledger_of_november(db):
    """Two incidents discovered in November, one just before and one just after it."""
    queue = Incident(number="YQ-2026-9101", title="社保卡补办排长队", level=4, source_type="self_monitoring",
                     platform="weibo", lead_unit="social_insurance", status="closed",
                     discovered_at=_at("2026-11-03T10:00:00+08:00"), reported_at=_at("2026-11-03T10:20:00+08:00"),
                     first_release_at=_at("2026-11-03T20:00:00+08:00"), closed_at=_at("2026-11-10T09:00:00+08:00"),
                     deadlines={})
    rumour = Incident(number="YQ-2026-9102", title="网传养老金停发", level=3, source_type="superior_notice",
                      platform="douyin", lead_unit="employment", is_false_info=True, upgrades=1, overdue=True,
                      discovered_at=_at("2026-11-20T15:00:00+08:00"), reported_at=_at("2026-11-20T15:45:00+08:00"),
                      deadlines={"report": {"due_at": "2026-11-20T15:30:00+08:00",
                                            "done_at": "2026-11-20T15:45:00+08:00", "missed": True}})
    before = Incident(number="YQ-2026-9100", title="十月事件", level=2, deadlines={},
                      discovered_at=_at("2026-10-31T23:59:00+08:00"))
    after = Incident(number="YQ-2026-9103", title="十二月事件", level=1, deadlines={},
                     discovered_at=_at("2026-12-01T00:00:00+08:00"))
    db.session.add_all([queue, rumour, before, after])
    db.session.flush()
    db.session.add(LedgerEntry(incident_id=queue.id, kind="commentary", at=_at("2026-11-04T09:00:00+08:00"),
                               data={"article_title": "补办指南"}, summary="补办指南"))
    db.session.flush()


@pytest.fixture
def waiting(db):
    """The instance the scheduler keeps waiting for 1 December."""
    assert schedules.ensure_scheduled() >= 1
    rows = [i for i in schedules.scheduled_instances() if i.process_key == PROCESS]
    assert len(rows) == 1
    return ScheduledFlow(rows[0])


def start_month(flow: ScheduledFlow, fake_clock) -> None:
    fake_clock.set(FIRST_OF_DECEMBER + timedelta(seconds=1))
    assert timer_firing.fire_due_timers() >= 1
    db.session.refresh(flow.instance)


def refused(flow: Flow, spec_id: str, **data: Any) -> dict[str, list[str]]:
    with pytest.raises(Invalid) as exc:
        tasks.complete_task(flow.task(spec_id).public_id, data, flow.user)
    db.session.rollback()
    return exc.value.errors


def test_the_scheduler_starts_the_analysis_of_the_month_just_ended_with_its_statistics(
        ledger_of_november, waiting, fake_clock):
    instance = waiting.instance
    assert instance.scheduled_for == FIRST_OF_DECEMBER and instance.next_timer_at == FIRST_OF_DECEMBER
    assert instance.data["period_from"] == "2026-11-01T00:00:00+08:00"
    assert instance.data["period_to"] == "2026-12-01T00:00:00+08:00"
    assert waiting.open() == []
    fake_clock.set(FIRST_OF_DECEMBER - timedelta(minutes=1))
    timer_firing.fire_due_timers()
    assert waiting.open() == []
    start_month(waiting, fake_clock)
    assert waiting.open() == ["ut_draft_monthly"]
    assert waiting.instance.title == "2026年11月舆情分析研判"
    draft = waiting.task("ut_draft_monthly")
    assert draft.context["monthly_period"] == "2026年11月" and draft.due_at is None
    stats = draft.context["monthly_stats"]
    assert stats["total"] == 2 and stats["overdue"] == 1 and stats["false_info"] == 1 and stats["commentaries"] == 1
    assert "舆情事件:2 起(Ⅰ级 0 起、Ⅱ级 0 起、Ⅲ级 1 起、Ⅳ级 1 起)" in stats["lines"]
    assert "发现至快报:中位 32.5 分钟,最长 45.0 分钟" in stats["lines"]
    assert any("期末未结案:1 起" in line for line in stats["lines"])
    assert stats["late_reports"] == 1 and "快报超时:1 起" in stats["lines"]  # the same statistics as the ledger's
    assert "发布平台:微博 1 起、抖音 1 起" in stats["lines"]  # labels, never codes
    assert "承办科室:社会保险科 1 起、就业促进科 1 起" in stats["lines"]
    assert schedules.ensure_scheduled() >= 1  # and January's instance now waits
    later = [i.scheduled_for for i in schedules.scheduled_instances() if i.process_key == PROCESS]
    assert later == [FIRST_OF_DECEMBER, datetime(2027, 1, 1, 1, 0, tzinfo=UTC)]


def test_an_unfinished_draft_reminds_its_drafter_and_the_office_director_after_five_days(waiting, fake_clock):
    start_month(waiting, fake_clock)
    drafter, director, monitor = (make_user([role]) for role in ("office_staff", "office_director", "monitor"))
    draft = tasks.claim_task(waiting.task("ut_draft_monthly").public_id, drafter)
    fake_clock.advance(days=5, seconds=-2)
    timer_firing.fire_due_timers()
    assert waiting.notifications() == []
    fake_clock.advance(seconds=3)
    assert timer_firing.fire_due_timers() == 1
    notified = set(db.session.scalars(select(Notification.user_id).where(
        Notification.instance_id == waiting.instance.id, Notification.kind == "monthly_draft_reminder")))
    assert {drafter.id, director.id} <= notified and monitor.id not in notified
    subject = db.session.scalar(select(Notification.title).where(Notification.user_id == drafter.id))
    assert subject == "【催办】2026年11月舆情分析研判报告已开始编写5天"
    assert waiting.open() == ["ut_draft_monthly"]  # the reminder does not take the task away
    fake_clock.advance(days=10)
    timer_firing.fire_due_timers()
    assert db.session.scalar(select(Notification.id).where(Notification.user_id == drafter.id).offset(1)) is None
    tasks.complete_task(draft.public_id, DRAFT, drafter)
    db.session.refresh(waiting.instance)
    assert waiting.open() == ["ut_approve_monthly"] and waiting.instance.next_timer_at is None


def test_returned_report_is_redrafted_then_approved_and_filed(waiting, fake_clock):
    start_month(waiting, fake_clock)
    assert set(refused(waiting, "ut_draft_monthly", overview="平稳")) == {"key_incidents", "risks", "suggestions"}
    waiting.do("ut_draft_monthly", **DRAFT)
    approve = waiting.task("ut_approve_monthly")
    assert approve.context["overview"] == "本月舆情总体平稳"
    assert approve.context["monthly_stats"]["lines"][0] == "统计期间:11-01 00:00 至 12-01 00:00"
    assert refused(waiting, "ut_approve_monthly", monthly_decision="return") == {
        "monthly_comment": ["退回修改时请填写审核意见"]}
    fake_clock.advance(days=1)
    waiting.do("ut_approve_monthly", monthly_decision="return", monthly_comment="补充重点舆情处置效果")
    redraft = waiting.task("ut_draft_monthly")
    assert redraft.context["monthly_comment"] == "补充重点舆情处置效果"
    assert redraft.context["key_incidents"] == "社保卡补办排队问题"
    assert waiting.instance.next_timer_at == fake_clock.current + timedelta(days=5)  # a new 5-day reminder
    waiting.do("ut_draft_monthly", **{**DRAFT, "key_incidents": "社保卡补办排队问题,当日回应,效果较好"})
    waiting.do("ut_approve_monthly", monthly_decision="approve")
    assert waiting.open() == ["ut_file_monthly"]
    errors = refused(waiting, "ut_file_monthly", **{**FILE, "filed_with": ["省政府"]})
    assert list(errors) == ["filed_with.0"]
    assert refused(waiting, "ut_file_monthly", **{**FILE, "filed_at": "2026-12-08T10:00:00+08:00"}) == {
        "filed_at": ["报送时间不能晚于当前时间"]}
    waiting.do("ut_file_monthly", **FILE)
    assert waiting.instance.status == InstanceStatus.COMPLETED
    data = waiting.instance.data
    assert data["filed_with"] == ["市委网信办", "省人力资源和社会保障厅"]
    assert data["filing_method"] == "official_document"
    assert data["key_incidents"] == "社保卡补办排队问题,当日回应,效果较好"
    assert waiting.notifications() == [] and waiting.ledger() == []
