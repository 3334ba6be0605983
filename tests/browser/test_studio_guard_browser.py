"""The modeller never loses an edit: leaving with unsaved changes asks first, drafts are saved a few
seconds after the last change; a click on a problem in the list selects its element."""

from __future__ import annotations

from app.operations import studio
from tests.browser.conftest import log_in, screenshot
from tests.conftest import make_user
from tests.operations.console import deploy_console


def _open(page, live, seconds):
    page.goto(f"{live.url}/studio/files/t_console.bpmn?autosave={seconds}")
    page.wait_for_selector('#studio-modeler[data-ready="true"]')


def _delete(page, element_id):
    page.locator(f'g.djs-element[data-element-id="{element_id}"] .djs-hit').first.click(force=True)
    page.keyboard.press("Delete")
    page.wait_for_selector(f'g.djs-element[data-element-id="{element_id}"]', state="detached")


def test_leaving_with_an_unsaved_edit_asks_first(page, live):
    with live.app.app_context():
        deploy_console()
        make_user(["process_owner"], username="owner_guard")
    log_in(page, live, "owner_guard")
    _open(page, live, 600)  # no autosave during this test
    _delete(page, "f_b_end")
    assert page.get_attribute("#studio-modeler", "data-dirty") == "true"
    assert "有未保存的修改" in page.inner_text('[data-testid="modeler-status"]')
    with page.expect_event("dialog") as asked:
        page.close(run_before_unload=True)
    assert asked.value.type == "beforeunload"
    asked.value.dismiss()
    assert not page.is_closed()  # the owner stayed
    page.click('[data-action="save"]')
    page.wait_for_selector('#studio-modeler[data-dirty="false"]')
    with live.app.app_context():
        assert 'id="f_b_end"' not in studio.get_file("t_console.bpmn").draft


def test_an_edit_is_saved_as_a_draft_by_itself(page, live):
    with live.app.app_context():
        deploy_console()
        make_user(["process_owner"], username="owner_auto")
    log_in(page, live, "owner_auto")
    _open(page, live, 1)
    _delete(page, "f_b_end")
    page.wait_for_selector('#studio-modeler[data-dirty="false"][data-state="saved"]')
    assert page.inner_text('[data-testid="modeler-status"]') == "草稿已自动保存。"
    with live.app.app_context():
        draft = studio.get_file("t_console.bpmn").draft
        assert draft is not None and 'id="f_b_end"' not in draft


def test_a_click_on_a_problem_selects_its_element(page, live):
    with live.app.app_context():
        deploy_console()
        make_user(["process_owner"], username="owner_click")
    log_in(page, live, "owner_click")
    _open(page, live, 600)
    _delete(page, "f_b_end")  # ut_b may end the path; end_b is now unreachable
    page.click('[data-action="validate"]')
    page.wait_for_selector('#studio-modeler[data-state="invalid"]')
    problem = page.locator('[data-testid="modeler-problems"] li[data-element="end_b"]')
    assert "该元素没有进入的顺序流,永远不会执行。" in problem.inner_text()
    assert "从前一个元素画一条顺序流连到它,或删除它。" in problem.inner_text()
    problem.click()
    page.wait_for_selector('g.djs-element.selected[data-element-id="end_b"]')
    screenshot(page, "studio-problem-selected")


def test_a_bad_decision_cell_is_marked_in_the_table_and_selected_from_the_list(page, live):
    with live.app.app_context():
        deploy_console()
        owner = make_user(["process_owner"], username="owner_dmn")
        table = studio.get_file("yq_grade.dmn").current
        cell = table.split("<outputEntry", 1)[1].split("</outputEntry>", 1)[0]
        cell_id = cell.split('id="', 1)[1].split('"', 1)[0]
        studio.save_draft("yq_grade.dmn", table.replace(cell, cell.split("<text>", 1)[0] + "<text>open('x')</text>", 1),
                          owner)
    log_in(page, live, "owner_dmn")
    page.goto(f"{live.url}/studio/files/yq_grade.dmn?autosave=600")
    page.wait_for_selector('#studio-modeler[data-ready="true"]')
    page.click('[data-action="validate"]')
    page.wait_for_selector('#studio-modeler[data-state="invalid"]')
    marked = page.locator(f'td.el--problem[data-element-id="{cell_id}"]')
    assert "函数“open”不在允许的函数清单中" in marked.get_attribute("title")
    problem = page.locator(f'[data-testid="modeler-problems"] li[data-element="{cell_id}"]')
    assert "第 1 条规则" in problem.inner_text()
    problem.click()
    page.wait_for_selector(f'td.yq-selected[data-element-id="{cell_id}"]')
    screenshot(page, "studio-dmn-problem")
