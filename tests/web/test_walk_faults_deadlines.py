"""What a new user's walk found about deadlines, kept fixed over HTTP: the report to superiors the worklist
showed overdue is recorded late wherever timeliness is reported (the reminder naming the unit is in
tests/processes/test_yq_dispatch.py, the warning after the deadline in tests/processes/test_yq_level3.py)."""

from __future__ import annotations

import re

from sqlalchemy import select

from app.extensions import db as _db
from app.models import Incident
from app.operations.deadlines import deadline_lines
from tests.web.scenario import open_task, started_at_level, submit
from tests.web.test_walk_faults_record import _ok, _text

# -- the report to superiors, done late, is recorded late -------------------------------------------------

REPORT = {"report_to": ["市委宣传部", "市委网信办"], "quick_report_to_bodies": ["市委网信办"],
          "report_method": "document"}


def test_a_late_report_to_superiors_is_recorded_late_in_the_deadlines(app, db, user_factory, fake_clock):
    people, instance = started_at_level(app, user_factory, "2")
    office = people["office"]
    task = open_task(instance, "ut_external_report")
    fake_clock.advance(hours=1)
    assert "已超时" in _text(office.page(f"/tasks/{task.public_id}")).split("办理说明")[0]
    _ok(submit(office, instance, "ut_external_report", **REPORT, reported_at="2026-11-25T09:50"))
    number = instance.business_key
    incident = _text(office.page(f"/incidents/{number}"))
    ledger = _text(office.page(f"/ledger/{number}"))
    row = "报告上级(外部报告/请示上级) 2026-11-25 09:30 2026-11-25 09:50 超时 20分钟 完成"
    assert row in incident.split("时限 环节")[1] and row in ledger.split("时限 环节")[1]
    stats = office.page("/ledger/statistics?since=2026-11-01&until=2026-11-30")
    [compliance] = re.findall(r'<tr data-kind="external_report">(.*?)</tr>', stats, re.S)
    assert _text(compliance).split() == ["报告上级(外部报告/请示上级)", "1", "0", "1", "0", "0%"]
    assert "Report to superiors" in _text(office.page(f"/incidents/{number}?lang=en"))
    # the summary's 时效情况 and the case file's 三、时效情况 are worded from the same deadlines
    incident = _db.session.scalar(select(Incident).where(Incident.number == number))
    assert "报告上级(外部报告/请示上级):时限 11-25 09:30,11-25 09:50 完成,超时 20分钟" in deadline_lines(incident)
