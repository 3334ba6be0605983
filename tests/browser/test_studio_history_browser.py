"""The studio in a browser: the form builder edits the schema through its field list (the preview and
the raw JSON follow, the draft deploys), the index fetches the validation of its drafts, and the diff
page of a version that changed only a decision table shows the changed rule and cell."""

from __future__ import annotations

import json

from app.operations import studio
from tests.browser.conftest import log_in, screenshot
from tests.conftest import make_user
from tests.operations.console import deploy_console
from tests.operations.test_studio_history import grade_v2


def test_the_form_builder_edits_fields_and_the_preview_follows(page, live):
    with live.app.app_context():
        deploy_console()
        make_user(["process_owner", "process_publisher"], username="builder_li")
    log_in(page, live, "builder_li")
    page.goto(f"{live.url}/studio/files/ut_investigate.schema.json")
    page.wait_for_selector('#form-builder[data-state="ready"]')
    page.wait_for_selector('#studio-form[data-preview="ok"]')
    fields = page.locator('[data-testid="builder-fields"] > li')
    assert fields.count() == 4
    assert page.locator('li[data-field="evidence"]').get_attribute("data-kind") == "advanced"  # attachments
    page.click('[data-testid="builder-add"]')
    new = page.locator('li[data-field="field_1"]')
    new.locator('[data-role="title"]').fill("核实渠道")
    new.locator('[data-role="type"]').select_option("choice")
    page.locator('li[data-field="field_1"] [data-role="options"]').fill("phone=电话\nvisit=走访")
    page.locator('li[data-field="field_1"] [data-role="required"]').check()
    page.locator('li[data-field="field_1"] [data-role="name"]').fill("channel")
    page.locator('li[data-field="field_1"] [data-role="name"]').press("Tab")
    page.wait_for_selector('li[data-field="channel"]')
    page.locator('li[data-field="channel"] [data-role="help"]').fill("如何核实的")
    page.click('li[data-field="channel"] [data-action="up"]')
    page.click('li[data-field="offline_actions"] [data-action="remove"]')
    page.locator("#form-preview").get_by_text("核实渠道").first.wait_for()
    page.locator("#form-preview option[value=\"visit\"]").wait_for(state="attached")  # an option of a select
    page.wait_for_selector('#studio-form[data-preview="ok"]')
    names = [fields.nth(i).get_attribute("data-field") for i in range(fields.count())]
    assert names == ["findings", "facts_confirmed", "channel", "evidence"]
    page.click('[data-testid="tab-json"]')
    schema = json.loads(page.locator("#schema-text").input_value())
    assert schema["properties"]["channel"] == {
        "title": "核实渠道", "type": "string", "description": "如何核实的",
        "oneOf": [{"const": "phone", "title": "电话"}, {"const": "visit", "title": "走访"}]}
    assert "channel" in schema["required"] and "offline_actions" not in schema["properties"]
    ui = json.loads(page.locator("#uischema-text").input_value())
    assert ui["ui:order"] == names and "offline_actions" not in ui
    screenshot(page, "studio-form-builder")
    page.click("#save-form")
    page.wait_for_selector('#studio-form[data-saved-state="saved"]')
    with live.app.app_context():
        saved = json.loads(studio.get_file("ut_investigate.schema.json").draft)
        assert list(saved["properties"]) == names
        assert studio.validate(studio.get_file("ut_investigate.schema.json").draft_by).ok


def test_a_title_typed_right_after_the_field_name_is_kept(page, live):
    """Leaving the 字段名 box by clicking 标题 renames the field without redrawing the row, so the click
    and the keys land in 标题 (a redraw once swallowed them and a field was deployed as 新字段 1)."""
    with live.app.app_context():
        deploy_console()
        make_user(["process_owner", "process_publisher"], username="builder_wang")
    log_in(page, live, "builder_wang")
    page.goto(f"{live.url}/studio/files/ut_investigate.schema.json")
    page.wait_for_selector('#form-builder[data-state="ready"]')
    page.click('[data-testid="builder-add"]')
    page.click('li[data-field="field_1"] [data-role="name"]', click_count=3)
    page.keyboard.type("source_site")
    page.click('li[data-field="field_1"] [data-role="title"]')  # one click, as a person does
    page.keyboard.press("ControlOrMeta+A")
    page.keyboard.type("来源网站")
    title = page.locator('li[data-field="source_site"] [data-role="title"]')
    assert title.input_value() == "来源网站"
    page.locator("#form-preview").get_by_text("来源网站").first.wait_for()
    assert page.locator('li[data-field="field_1"]').count() == 0
    page.click('[data-testid="tab-json"]')
    schema = json.loads(page.locator("#schema-text").input_value())
    assert schema["properties"]["source_site"]["title"] == "来源网站"
    assert "field_1" not in schema["properties"]


def test_the_index_fetches_validation_and_the_diff_shows_the_changed_cell(page, live):
    with live.app.app_context():
        deploy_console()
        publisher = make_user(["process_owner", "process_publisher"], username="differ_li")
        studio.save_draft("yq_grade.dmn", grade_v2(), publisher)
    log_in(page, live, "differ_li")
    page.goto(f"{live.url}/studio/")
    page.wait_for_selector('body[data-validation-ready="1"]')
    assert "发布将产生新版本" in page.locator('[data-testid="validation"]').inner_text()
    page.fill('[data-testid="deploy-form"] input[name="note"]', "调整定级规则")
    page.once("dialog", lambda dialog: dialog.accept())
    page.click('[data-testid="deploy-form"] button[type="submit"]')
    page.wait_for_selector(".flash--success")
    page.goto(f"{live.url}/studio/processes/yq_incident")
    assert "因所用的决策表或表单变更而产生新版本" in page.locator('[data-testid="versions"]').inner_text()
    page.click('[data-testid="diff-form"] button[type="submit"]')
    table = page.locator('[data-testid="dmn-diff"]')
    table.wait_for()
    changed = table.locator('tr[data-rule="Rule_02"] [data-cell="Input_foreign_media"]')
    assert changed.inner_text() == '"high" → "very_high"'
    assert table.locator('tr.diff-row--added[data-rule="Rule_new"]').count() == 1
    assert table.locator('tr.diff-row--removed[data-rule="Rule_03"]').count() == 1
    screenshot(page, "studio-dmn-diff")
    page.goto(f"{live.url}/studio/processes/yq_incident")
    form = page.locator('[data-testid="make-current-v1"]')
    form.locator('input[name="note"]').fill("定级规则有误,先退回")
    page.once("dialog", lambda dialog: dialog.accept())
    form.locator('button[type="submit"]').click()
    page.wait_for_selector(".flash--success")
    assert "当前版本:v1" in page.locator(".page-head").inner_text()
    assert "定级规则有误,先退回" in page.locator('[data-testid="made-current-events"]').inner_text()
