"""The monthly analysis the scheduler starts is named by its month on the admin list, the worklist and its
task page; an instance without a title is named by its process and start date, never left blank."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import lxml.html
from sqlalchemy import select

from app.extensions import db as _db
from app.models import ProcessInstance
from app.operations import schedules, timer_firing
from tests.web.scenario import act_as, open_task

PROCESS = "yq_monthly_analysis"
FIRST_OF_DECEMBER = datetime(2026, 12, 1, 1, 0, tzinfo=UTC)  # 09:00 in Shanghai


def _waiting() -> ProcessInstance:
    assert schedules.ensure_scheduled() >= 1
    return _db.session.scalars(select(ProcessInstance).where(ProcessInstance.process_key == PROCESS)).one()


def _row_title(admin, instance) -> str:
    page = lxml.html.fromstring(admin.get("/instances").get_data(as_text=True))
    cells = page.xpath(f'//tr[@data-instance="{instance.public_id}"]/td')
    return cells[2].text_content().strip()  # select box, number, title


def test_the_waiting_monthly_analysis_is_named_by_the_month_it_reports_on(app, db, user_factory, fake_clock):
    instance = _waiting()
    admin = act_as(app, user_factory(["admin"]))
    assert _row_title(admin, instance) == "2026年11月 月度舆情分析研判"
    detail = admin.get(f"/instances/{instance.public_id}").get_data(as_text=True)
    assert "<h1> 2026年11月 月度舆情分析研判</h1>" in detail

    fake_clock.set(FIRST_OF_DECEMBER + timedelta(seconds=1))
    assert timer_firing.fire_due_timers() >= 1
    office = act_as(app, user_factory(["office_staff"]))
    draft = open_task(instance, "ut_draft_monthly")
    worklist = lxml.html.fromstring(office.get("/tasks").get_data(as_text=True))
    row = worklist.xpath(f'//tr[@data-task="{draft.public_id}"]')[0].text_content()
    assert "2026年11月" in row and "舆情分析研判" in row
    task_page = lxml.html.fromstring(office.get(f"/tasks/{draft.public_id}").get_data(as_text=True))
    header = task_page.xpath('//div[@class="page-head"]/p[@class="meta"]/a')[0].text_content().strip()
    assert header.startswith("2026年11月") and "舆情分析研判" in header


def test_an_instance_without_a_title_is_named_by_its_process_and_start_date(app, db, user_factory, fake_clock):
    instance = _waiting()
    instance.title = None  # as instances scheduled before they were given one
    _db.session.flush()
    admin = act_as(app, user_factory(["admin"]))
    assert _row_title(admin, instance) == "月度舆情分析研判(2026-11-25 启动)"
    detail = admin.get(f"/instances/{instance.public_id}").get_data(as_text=True)
    assert "月度舆情分析研判(2026-11-25 启动)</h1>" in detail
