"""Every staff page on a phone (390 px) and a desk (1366 px): no horizontal scroll, the header menu folds
and opens, lists become cards, the task form comes first with its context folded below it, and touch
targets are at least 44 px. Screenshots of each page land in build/artifacts/."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from app.extensions import db
from app.models import HumanTask, Incident, TaskStatus
from app.operations import comments, instances, tasks
from tests.browser.conftest import PATIENCE_MS, log_in, screenshot
from tests.conftest import make_user
from tests.processes.answers import CONFIRM, REGISTER

PHONE = {"width": 390, "height": 844}
DESK = {"width": 1366, "height": 900}
NO_SCROLL = "document.documentElement.scrollWidth <= document.documentElement.clientWidth"


def _incident(live):
    """An incident registered by the monitor, confirmed at Ⅳ by the office, with a comment; returns
    (incident number, the office's open task)."""
    with live.app.app_context():
        monitor = make_user(["monitor"], username="phone_monitor")
        office = make_user(["office_director", "office_staff"], username="phone_office", display_name="王主任")
        make_user(["group_leader"], username="phone_leader", display_name="李组长")
        instance = instances.start_incident(monitor)
        register = db.session.scalar(select(HumanTask).where(HumanTask.instance_id == instance.id))
        tasks.complete_task(register.public_id, {**REGISTER, "title": "某街道社保窗口服务态度问题引发网民关注"},
                            monitor)
        confirm = db.session.scalar(select(HumanTask).where(HumanTask.instance_id == instance.id,
                                                            HumanTask.status == TaskStatus.OPEN))
        tasks.complete_task(confirm.public_id, CONFIRM, office)
        number = db.session.scalar(select(Incident.number).where(Incident.instance_id == instance.id))
        comments.add_comment(number, "@phone_leader 请阅,原帖 https://weibo.com/1234567/abcdefghijklmnopqrstuvwxyz",
                             office)
        task = db.session.scalar(select(HumanTask).where(HumanTask.instance_id == instance.id,
                                                         HumanTask.status == TaskStatus.OPEN))
        return number, task.public_id


def _pages(number, task_id):
    return {
        "worklist": "/tasks", "worklist-group": "/tasks?view=group", "task": f"/tasks/{task_id}",
        "incident": f"/incidents/{number}", "incident-print": f"/incidents/{number}?print=1",
        "ledger": "/ledger/", "ledger-statistics": "/ledger/statistics", "inbox": "/inbox",
        "alerts": "/alerts",  # /incidents/new is the monitors' (decision 117): test_night_shift.py
        "notification-settings": "/account/notifications",
    }


@pytest.fixture
def open_context(browser):
    contexts = []

    def make(viewport):
        context = browser.new_context(locale="zh-CN", viewport=viewport)
        tab = context.new_page()
        tab.set_default_timeout(PATIENCE_MS)
        errors: list[str] = []
        tab.on("pageerror", lambda error: errors.append(str(error)))
        tab.on("console", lambda message: errors.append(message.text) if message.type == "error" else None)
        contexts.append((context, errors))
        return tab

    yield make
    for context, errors in contexts:
        context.close()
        assert errors == [], f"browser errors: {errors}"


def _height(tab, selector):
    box = tab.locator(selector).first.bounding_box()
    assert box is not None, f"{selector} is not shown"
    return box["height"]


@pytest.mark.parametrize("viewport", [PHONE, DESK], ids=["390", "1366"])
def test_every_staff_page_fits_the_screen_without_horizontal_scroll(live, open_context, viewport):
    number, task_id = _incident(live)
    tab = open_context(viewport)
    log_in(tab, live, "phone_office")
    wide = []
    for name, path in _pages(number, task_id).items():
        response = tab.goto(f"{live.url}{path}")
        assert response.status == 200, (path, response.status)
        screenshot(tab, f"staff-{name}-{viewport['width']}")
        if not tab.evaluate(NO_SCROLL):
            wide.append((path, tab.evaluate("document.documentElement.scrollWidth")))
    assert wide == [], f"pages wider than {viewport['width']} px: {wide}"


def test_on_a_phone_the_menu_folds_and_opens_and_touch_targets_are_large(live, open_context):
    number, _task_id = _incident(live)
    tab = open_context(PHONE)
    log_in(tab, live, "phone_office")
    tab.goto(f"{live.url}/incidents/{number}")
    ledger_link = tab.locator('.mainnav a[href="/ledger/"]')
    assert not ledger_link.is_visible()  # folded
    assert _height(tab, '[data-testid="menu-toggle"]') >= 44
    tab.click('[data-testid="menu-toggle"]')
    ledger_link.wait_for(state="visible")
    screenshot(tab, "staff-menu-open-390")
    for selector in ('.mainnav a[href="/ledger/"]', '.mainnav a[href="/inbox"]', ".account button.link"):
        assert _height(tab, selector) >= 44, selector
    ledger_link.click()
    tab.wait_for_url(lambda url: url.endswith("/ledger/"))
    # The ledger's rows are cards: no header row, each cell says what it is.
    assert not tab.locator('[data-testid="ledger"] thead').is_visible()
    label = tab.evaluate("""getComputedStyle(document.querySelector('[data-testid="ledger"] td[data-label]'),
                                             '::before').content""")
    assert label == '"编号"'
    assert _height(tab, f'[data-testid="ledger"] a[href="/incidents/{number}"]') >= 44
    # The worklist's rows are cards too, each cell saying what it is.
    tab.goto(f"{live.url}/tasks")
    assert not tab.locator('[data-testid="worklist"] thead').is_visible()
    label = tab.evaluate("""getComputedStyle(document.querySelector('[data-testid="worklist"] td[data-label]'),
                                             '::before').content""")
    assert label == '"任务"'
    # its filters fold away so the tasks come first; opened, they are all there
    assert tab.evaluate("document.querySelector('[data-testid=\"worklist-filters-fold\"]').open") is False
    tab.click('[data-testid="worklist-filters-fold"] > summary')
    tab.locator('[data-testid="worklist-filters"] input[name="q"]').wait_for(state="visible")
    # The incident page: its comment thread makes the address a link and the post button is large.
    tab.goto(f"{live.url}/incidents/{number}")
    assert tab.locator('[data-testid="comments"] a[href^="https://weibo.com/1234567/"]').count() == 1
    assert _height(tab, ".commentform button.primary") >= 44


def test_on_a_phone_the_task_form_comes_first_with_its_context_folded_below(live, open_context):
    number, task_id = _incident(live)
    phone = open_context(PHONE)
    log_in(phone, live, "phone_office")
    phone.goto(f"{live.url}/tasks/{task_id}")
    work, context = phone.locator('[data-testid="task-work"]'), phone.locator('[data-testid="task-context"]')
    assert work.bounding_box()["y"] < context.bounding_box()["y"]
    assert context.get_attribute("open") is None  # folded
    assert not phone.locator('[data-testid="incident-panel"]').is_visible()
    assert _height(phone, '.taskform button[value="complete"]') >= 44
    first_field = phone.locator(".taskform .field").first.bounding_box()
    assert first_field["y"] < PHONE["height"]  # the first field is on the first screen
    phone.click('[data-testid="task-context"] > summary')
    phone.locator('[data-testid="incident-panel"]').wait_for(state="visible")
    assert phone.locator(f'[data-testid="incident-panel"] a[href="/incidents/{number}"]').count() == 1
    screenshot(phone, "staff-task-context-open-390")

    desk = open_context(DESK)
    log_in(desk, live, "phone_office")
    desk.goto(f"{live.url}/tasks/{task_id}")
    work, context = desk.locator('[data-testid="task-work"]'), desk.locator('[data-testid="task-context"]')
    assert context.get_attribute("open") is not None and desk.locator('[data-testid="incident-panel"]').is_visible()
    assert context.bounding_box()["y"] < work.bounding_box()["y"]  # on a desk the context reads first
    assert not desk.locator('[data-testid="menu-toggle"]').is_visible()
    assert desk.locator('.mainnav a[href="/ledger/"]').is_visible()
