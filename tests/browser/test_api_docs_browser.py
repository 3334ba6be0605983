"""The API's docs page in a real browser: Swagger UI draws every operation of the document from the
app's own files, under the pages' CSP, without a script error."""

from __future__ import annotations

from tests.browser.conftest import screenshot


def test_swagger_ui_lists_the_operations(page, live):
    requested: list[str] = []
    page.on("request", lambda request: requested.append(request.url))
    page.goto(f"{live.url}/api/v1/docs")
    page.wait_for_selector(".opblock-summary-path")
    paths = {element.inner_text().replace("\u200b", "") for element in page.query_selector_all(".opblock-summary-path")}
    assert {"/api/v1/tasks/{task_id}/complete", "/api/v1/incidents/{number}", "/api/v1/alerts"} <= paths
    assert page.is_visible("text=网络舆情应急处置平台 API")
    assert requested and all(url.startswith(live.url) for url in requested), requested
    screenshot(page, "api-docs")


def test_swagger_ui_groups_operations_under_readable_tags_with_their_descriptions(page, live):
    page.goto(f"{live.url}/api/v1/docs")
    page.wait_for_selector(".opblock-tag")
    headings = [element.inner_text() for element in page.query_selector_all(".opblock-tag")]
    text = "\n".join(headings)
    for tag in ("Leads 舆情线索", "Processes 流程", "Tasks 待办任务", "Incidents 舆情事件", "Documents 文书",
                "Monthly report 月度报告"):
        assert tag in text, headings
    assert "Leads pushed by monitoring platforms" in text and "api_" not in text
