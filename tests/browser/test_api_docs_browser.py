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
