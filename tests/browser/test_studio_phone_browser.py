"""The studio's index on a phone (390 px): the page never scrolls sideways (a wide table scrolls inside
itself, the forms wrap)."""

from __future__ import annotations

from app.operations import studio
from tests.browser.conftest import PATIENCE_MS, log_in, screenshot
from tests.conftest import make_user
from tests.operations.console import deploy_console
from tests.operations.test_studio_history import grade_v2

PHONE = {"width": 390, "height": 844}
# what sticks out of the page (not counting what scrolls inside its own box), for the failure message
WIDEST = """() => [...document.querySelectorAll('body *')]
  .filter((node) => node.getBoundingClientRect().right > document.documentElement.clientWidth + 1)
  .filter((node) => { for (let up = node.parentElement; up && up !== document.body; up = up.parentElement) {
    if (getComputedStyle(up).overflowX !== 'visible') { return false; } } return true; })
  .map((node) => `${node.tagName.toLowerCase()}.${node.className}[${Math.round(node.getBoundingClientRect().right)}]`)
  .slice(0, 8)"""


def test_the_studio_index_fits_a_phone_without_sideways_scroll(live, browser):
    with live.app.app_context():
        deploy_console()
        publisher = make_user(["process_owner", "process_publisher"], username="phone_publisher")
        studio.save_draft("yq_grade.dmn", grade_v2(), publisher)
    context = browser.new_context(locale="zh-CN", viewport=PHONE)
    try:
        tab = context.new_page()
        tab.set_default_timeout(PATIENCE_MS)
        log_in(tab, live, "phone_publisher")
        tab.goto(f"{live.url}/studio/")
        tab.locator('[data-testid="validation"]').wait_for()  # fetched, or shown at once when remembered
        tab.locator('[data-testid="deploy-form"]').wait_for()
        screenshot(tab, "studio-index-390")
        width = tab.evaluate("document.documentElement.scrollWidth")
        assert width <= PHONE["width"], (width, tab.evaluate(WIDEST))
    finally:
        context.close()
