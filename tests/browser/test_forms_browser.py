"""Task forms in a real browser: a row table grows with 添加一行 and shrinks with 删除本行 (js/form-rows.js)."""

from __future__ import annotations

from sqlalchemy import select

from app.extensions import db
from app.models import HumanTask, OrgUnit, TaskStatus
from app.operations import instances, tasks
from tests.browser.conftest import log_in, screenshot
from tests.conftest import make_user

ITEM = {"decision_title": "调整城乡居民医保个人缴费标准", "risk_owner_unit": "social_insurance",
        "risk_description": "拟提高个人缴费标准", "affects_interests": True, "risk_scope": "全市参保居民",
        "needs_assessment": True, "simplified": True, "simplified_reason": "幅度小"}


def _open(instance_id: int, spec_id: str) -> HumanTask:
    return db.session.scalar(select(HumanTask).where(HumanTask.instance_id == instance_id,
                                                     HumanTask.spec_id == spec_id,
                                                     HumanTask.status == TaskStatus.OPEN))


def _measures_task(live) -> tuple[str, str]:
    """A medium-risk assessment waiting for its mitigation measures (ut_risk_measures)."""
    with live.app.app_context():
        owner = make_user(["risk_owner"], username="risk_owner_browser")
        owner.unit = db.session.scalar(select(OrgUnit).where(OrgUnit.code == "social_insurance"))
        db.session.commit()
        instance = instances.start_instance("yq_risk_assessment", owner, {})
        tasks.complete_task(_open(instance.id, "ut_risk_item").public_id, ITEM, owner)
        tasks.complete_task(_open(instance.id, "ut_risk_report").public_id,
                            {"risk_level": "medium", "risk_report": "评估报告"}, owner)
        return owner.username, _open(instance.id, "ut_risk_measures").public_id


def test_rows_are_added_and_removed_in_the_page_and_all_arrive(page, live):
    username, public_id = _measures_task(live)
    log_in(page, live, username)
    page.goto(f"{live.url}/tasks/{public_id}")
    table = page.locator("#field-risk_measures")
    rows = table.locator("tbody tr")
    assert rows.count() == 3
    add = page.locator('[data-rows-add="field-risk_measures"]')
    for _ in range(2):
        add.click()
    assert rows.count() == 5 and page.url.endswith(public_id)  # added in the page, nothing was sent
    assert table.locator('input[name="risk_measures.4.measure"]').get_attribute("aria-label") == "化解措施 第 5 行 措施"
    page.fill('input[name="risk_measures.0.measure"]', "提前发布政策解读")
    page.fill('input[name="risk_measures.0.owner"]', "社会保险科")
    page.fill('input[name="risk_measures.0.due"]', "2026-12-10")
    page.fill('input[name="risk_measures.1.measure"]', "这一行要删掉")
    page.fill('input[name="risk_measures.4.measure"]', "开通咨询热线")
    page.fill('input[name="risk_measures.4.owner"]', "办公室")
    page.fill('input[name="risk_measures.4.due"]', "2026-12-15")
    rows.nth(1).locator("[data-rows-remove]").click()
    assert rows.count() == 4
    screenshot(page, "form-rows")
    page.click('button[name="_action"][value="complete"]')
    page.wait_for_url(lambda url: public_id not in url)
    with live.app.app_context():
        submitted = db.session.scalar(select(HumanTask.submitted).where(HumanTask.public_id == public_id))
    assert [row["measure"] for row in submitted["risk_measures"]] == ["提前发布政策解读", "开通咨询热线"]
