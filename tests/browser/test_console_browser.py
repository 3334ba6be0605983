"""The admin console in a real browser: list filters, diagram highlights, a batch reassign with its
progress bar, and a migration preview."""

from __future__ import annotations

from sqlalchemy import select

from app.extensions import db
from app.jobs import registry
from app.models import HumanTask, TaskStatus, User
from app.operations import instance_views, instances, interventions, tasks
from tests.browser.conftest import log_in, screenshot
from tests.conftest import make_user
from tests.operations.console import DONE, console_v2, deploy_console, open_task


def _setup(live, count=3):
    with live.app.app_context():
        deploy_console()
        admin = make_user(["admin"], username="console_admin")
        staff = make_user(["office_staff"], username="console_staff")
        make_user(["office_director", "office_staff"], username="deputy_zhao", display_name="赵副主任")
        rows = [instances.start_instance("t_console", staff, {"divisor": 5, "title": f"浏览器实例{n}"})
                for n in range(count)]
        return admin.username, staff.username, [row.public_id for row in rows]


def test_list_filters_narrow_the_rows_and_can_be_saved(page, live):
    admin, _staff, ids = _setup(live)
    with live.app.app_context():
        admin_user = db.session.scalar(select(User).where(User.username == admin))
        interventions.act(ids[1], "suspend", None, admin_user, "浏览器测试")
    log_in(page, live, admin)
    page.goto(f"{live.url}/instances")
    rows = page.locator('[data-testid="instances"] tbody tr')
    assert rows.count() >= 3
    page.select_option('[data-testid="instance-filters"] select[name="status"]', "suspended")
    page.click('[data-testid="instance-filters"] button[type="submit"]')
    page.wait_for_url(lambda url: "status=suspended" in url)
    assert rows.count() == 1
    assert rows.first.get_attribute("data-instance") == ids[1]
    page.fill('[data-testid="saved-filters"] input[name="name"]', "挂起的流程")
    page.click('[data-testid="saved-filters"] button[type="submit"]')
    page.goto(f"{live.url}/instances")
    page.click('[data-testid="saved-filters"] a:has-text("挂起的流程")')
    page.wait_for_url(lambda url: "status=suspended" in url)
    assert rows.count() == 1
    page.fill('[data-testid="instance-filters"] input[name="text"]', "浏览器实例2")
    page.select_option('[data-testid="instance-filters"] select[name="status"]', "")
    page.click('[data-testid="instance-filters"] button[type="submit"]')
    page.wait_for_url(lambda url: "text=" in url)
    assert rows.count() == 1 and rows.first.get_attribute("data-instance") == ids[2]
    screenshot(page, "console-list")


def test_the_diagram_highlights_done_active_and_waiting_elements_with_counts(page, live):
    admin, staff, ids = _setup(live, 1)
    with live.app.app_context():
        worker = db.session.scalar(select(User).where(User.username == staff))
        instance = instance_views.get_instance(ids[0])
        tasks.complete_task(open_task(instance, "ut_a").public_id, {**DONE}, worker)
    log_in(page, live, admin)
    page.goto(f"{live.url}/instances/{ids[0]}")
    page.wait_for_selector('#instance-diagram[data-ready="true"]')

    def marker(element_id):
        return page.locator(f'g.djs-element[data-element-id="{element_id}"]').get_attribute("class")

    assert "el--completed" in marker("ut_a")
    assert "el--waiting" in marker("wait_2h")
    assert "el--waiting" in marker("wait_ping")
    assert "el--completed" in marker("start")
    assert "el--completed" not in marker("ut_b")  # not reached
    assert page.locator('.el-count[data-element="ut_a"]').inner_text() == "1"
    screenshot(page, "console-diagram")


def test_batch_reassign_with_progress_and_report(page, live):
    admin, _staff, _ids = _setup(live)
    log_in(page, live, admin)
    page.goto(f"{live.url}/instances?process=t_console")
    page.check('#select-all')
    page.select_option('select[name="kind"]', "reassign")
    page.select_option('[data-testid="batch-form"] select[name="assignee"]', "deputy_zhao")
    page.fill('[data-testid="batch-form"] input[name="element"]', "ut_a")
    page.fill('[data-testid="batch-form"] input[name="reason"]', "集中转办给赵副主任")
    page.once("dialog", lambda dialog: dialog.accept())
    page.click('[data-testid="batch-form"] button[type="submit"]')
    page.wait_for_url(lambda url: "/admin/batches/" in url)
    with live.app.app_context():
        registry.run_due("browser-test")  # the worker's part (no worker thread in tests)
    page.wait_for_selector('[data-testid="batch-progress"][data-status="done"]')
    assert page.locator("progress").get_attribute("value") == "3"
    assert page.locator('[data-testid="batch-results"] tbody tr.result--ok').count() == 3
    screenshot(page, "console-batch")
    with live.app.app_context():
        deputy = db.session.scalar(select(User).where(User.username == "deputy_zhao"))
        assigned = db.session.scalars(select(HumanTask.spec_id).where(HumanTask.assignee_id == deputy.id,
                                                                      HumanTask.status == TaskStatus.OPEN)).all()
        assert assigned == ["ut_a", "ut_a", "ut_a"]


def test_migration_preview_lists_the_mapping_and_migrates(page, live):
    admin, staff, ids = _setup(live, 2)
    with live.app.app_context():
        worker = db.session.scalar(select(User).where(User.username == staff))
        tasks.complete_task(open_task(instance_views.get_instance(ids[1]), "ut_a").public_id, DONE, worker)
        deploy_console({"t_console.bpmn": console_v2()}, note="v2")
    log_in(page, live, admin)
    page.goto(f"{live.url}/admin/migrations")
    page.select_option('[data-testid="migration-choice"] select[name="process"]', "t_console")
    page.click('[data-testid="migration-choice"] button[type="submit"]')
    page.select_option('select[name="from"]', "1")
    page.select_option('select[name="to"]', "2")
    page.click('[data-testid="migration-choice"] button[type="submit"]')
    preview = page.locator('[data-testid="migration-preview"]')
    preview.wait_for()
    waiting = preview.locator(f'tr[data-instance="{ids[0]}"]')
    assert "ut_a" in waiting.locator('li[data-element="ut_a"]').inner_text()
    assert waiting.locator('input[name="selected"]').is_checked()
    assert "可迁移 2 个" in page.locator('[data-testid="migration-summary"]').inner_text()
    screenshot(page, "console-migration-preview")
    page.fill('input[name="reason"]', "预案修订:增加登记环节")
    page.once("dialog", lambda dialog: dialog.accept())
    page.click('button:has-text("迁移勾选的实例")')
    page.wait_for_url(lambda url: "/admin/batches/" in url)
    with live.app.app_context():
        registry.run_due("browser-test")
    page.wait_for_selector('[data-testid="batch-progress"][data-status="done"]')
    assert page.locator('[data-testid="batch-results"] tbody tr.result--ok').count() == 2
    page.goto(f"{live.url}/instances/{ids[0]}")
    assert "v2" in page.locator(".page-head .meta").inner_text()
    assert page.locator('[data-testid="revert-migration"]').count() == 1
