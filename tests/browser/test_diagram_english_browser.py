"""The instance page's diagram in a real browser: on an English page the drawn elements carry their English
names (the viewer relabels the fetched BPMN for display), on a Chinese page the diagram's own names."""

from __future__ import annotations

from app.operations import instances
from tests.browser.conftest import log_in, screenshot
from tests.conftest import make_user


def _instance(live) -> tuple[str, str]:
    with live.app.app_context():
        admin = make_user(["admin"], username="diagram_admin")
        instance = instances.start_instance("yq_risk_assessment", admin, {})
        return admin.username, instance.public_id


def _label(page, element_id: str) -> str:
    return page.locator(f'g.djs-element[data-element-id="{element_id}"] text').first.text_content() or ""


def test_the_diagram_draws_english_names_on_an_english_page(page, live):
    username, public_id = _instance(live)
    log_in(page, live, username)
    page.goto(f"{live.url}/instances/{public_id}")
    page.wait_for_selector('#instance-diagram[data-ready="true"]')
    assert "确定评估项目" in _label(page, "ut_risk_item")

    page.click('form[action="/lang/en"] button')
    page.wait_for_selector('html[lang^="en"]')
    page.goto(f"{live.url}/instances/{public_id}")
    page.wait_for_selector('#instance-diagram[data-ready="true"]')
    drawn = _label(page, "ut_risk_item")
    assert "Determine" in drawn and "确定评估项目" not in drawn, drawn
    assert "Assessment needed?" in _label(page, "gw_needs_assessment_label")  # a gateway's name, drawn beside it
    screenshot(page, "diagram-english")
