"""The studio in a real browser: drag a task from the palette into a lane, make it a user task with a
form in the properties panel, see the validation marker on the unconnected task, connect it with the
context pad, deploy, and find the new task in a new instance's worklist;
change a cell of the grading table and see a new proposed level; compare two versions; preview a form."""

from __future__ import annotations

from sqlalchemy import select

from app import forms
from app.extensions import db
from app.models import HumanTask, ProcessDefinition, TaskStatus, User
from app.operations import instances, tasks
from tests.browser.conftest import log_in, screenshot
from tests.conftest import make_user
from tests.operations.console import DONE, deploy_console, open_task
from tests.web.scenario import FORMS


def _centre(page, element_id):
    box = page.locator(f'g.djs-element[data-element-id="{element_id}"] .djs-hit').first.bounding_box()
    return box["x"] + box["width"] / 2, box["y"] + box["height"] / 2


def _add_user_task(page, element_id, name, form):
    """Drag a task from the palette into the lane, make it a user task, name it and give it a form."""
    entry = page.locator('.djs-palette .entry[data-action="create.task"]').bounding_box()
    lane = page.locator('g.djs-element[data-element-id="Lane_office"]').bounding_box()
    page.mouse.move(entry["x"] + entry["width"] / 2, entry["y"] + entry["height"] / 2)
    page.mouse.down()
    target = (lane["x"] + lane["width"] * 0.5, lane["y"] + lane["height"] - 45)
    page.mouse.move(target[0] - 50, target[1] - 20, steps=5)
    page.mouse.move(*target, steps=5)
    page.mouse.up()
    created = page.locator('g.djs-element.djs-shape[data-element-id^="Activity_"]').get_attribute("data-element-id")
    page.keyboard.press("Escape")  # bpmn-js opens the label editor on a new shape
    page.locator(f'g.djs-element[data-element-id="{created}"] .djs-hit').first.click(force=True)
    page.click('.djs-context-pad .entry[data-action="replace"]')
    page.click('.djs-popup [data-id="replace-with-user-task"]')
    page.get_by_label("标识", exact=True).fill(element_id)
    page.get_by_label("名称", exact=True).fill(name)
    page.keyboard.press("Tab")
    page.get_by_label("表单", exact=True).select_option(form)


def _connect(page, source, target):
    """Draw a sequence flow with the context pad's connect tool."""
    page.locator(f'g.djs-element[data-element-id="{source}"] .djs-hit').first.click(force=True)
    page.click('.djs-context-pad .entry[data-action="connect"]')
    x, y = _centre(page, target)
    page.mouse.move(x, y, steps=5)
    page.mouse.click(x, y)
    page.wait_for_timeout(600)  # not a double click with the next selection
    page.keyboard.press("Escape")


def _user(name):
    return db.session.scalar(select(User).where(User.username == name))


def _open_editor(page, live, name):
    page.goto(f"{live.url}/studio/files/{name}")
    page.wait_for_selector('#studio-modeler[data-ready="true"]')


def _deploy(page, live, note):
    page.goto(f"{live.url}/studio/")
    page.fill('[data-testid="deploy-form"] input[name="note"]', note)
    page.once("dialog", lambda dialog: dialog.accept())
    page.click('[data-testid="deploy-form"] button[type="submit"]')
    page.wait_for_selector(".flash--success")


def test_add_a_task_validate_fix_deploy_and_work_it(page, live):
    with live.app.app_context():
        deploy_console()
        make_user(["process_owner", "process_publisher"], username="publisher_li")
        make_user(["office_staff"], username="staff_wu", display_name="吴办事员")
    log_in(page, live, "publisher_li")
    _open_editor(page, live, "t_console.bpmn")
    _add_user_task(page, "ut_recheck", "新增复查", "ut_investigate.schema.json")
    page.click('[data-action="validate"]')
    page.wait_for_selector('#studio-modeler[data-state="invalid"]')
    assert "el--problem" in page.locator('g.djs-element[data-element-id="ut_recheck"]').get_attribute("class")
    assert "ut_recheck" in page.locator('[data-testid="modeler-problems"]').inner_text()
    page.locator('g.djs-element[data-element-id="f_b_end"] .djs-hit').click(force=True)
    page.keyboard.press("Delete")
    _connect(page, "ut_b", "ut_recheck")
    _connect(page, "ut_recheck", "end_b")
    page.click('[data-action="validate"]')
    page.wait_for_selector('#studio-modeler[data-state="valid"]')
    assert "el--problem" not in page.locator('g.djs-element[data-element-id="ut_recheck"]').get_attribute("class")
    screenshot(page, "studio-modeler")
    _deploy(page, live, "复核后增加复查环节")
    assert "t_console v2" in page.locator(".flash--success").inner_text()
    with live.app.app_context():
        staff = _user("staff_wu")
        instance = instances.start_instance("t_console", staff, {"divisor": 5, "review": "yes"})
        assert instance.definition.version == 2
        tasks.complete_task(open_task(instance, "ut_a").public_id, DONE, staff)
        tasks.complete_task(open_task(instance, "ut_b").public_id, DONE, staff)
        recheck = open_task(instance, "ut_recheck")
        assert recheck is not None and recheck.form == "ut_investigate.schema.json"
    page.click('form[action="/logout"] button')
    log_in(page, live, "staff_wu")
    page.goto(f"{live.url}/tasks?view=group")
    assert page.locator("main").get_by_text("新增复查").count() >= 1


def test_edit_a_grading_cell_and_get_a_new_proposed_level(page, live):
    with live.app.app_context():
        make_user(["process_owner", "process_publisher"], username="publisher_he")
        monitor = make_user(["monitor"], username="monitor_xu")
        before = _proposed_level(monitor)
    assert before == 4
    log_in(page, live, "publisher_he")
    _open_editor(page, live, "yq_grade.dmn")
    cell = page.locator('td[data-element-id="Rule_14_level"]')
    cell.click()
    page.keyboard.press("Control+A")
    page.keyboard.type("3")
    page.click('[data-action="save"]')
    page.wait_for_selector('#studio-modeler[data-state="saved"]')
    screenshot(page, "studio-dmn")
    _deploy(page, live, "网民关注度低也按Ⅲ级建议")
    with live.app.app_context():
        assert _proposed_level(_user("monitor_xu")) == 3
        latest = db.session.scalar(select(ProcessDefinition.version).where(
            ProcessDefinition.process_key == "yq_incident", ProcessDefinition.is_latest.is_(True)))
        assert latest == 2  # the incident process calls the table, so it got a new version


def test_the_decision_table_editor_speaks_the_page_language(page, live):
    with live.app.app_context():
        make_user(["process_owner"], username="owner_dmn")
    log_in(page, live, "owner_dmn")
    _open_editor(page, live, "yq_grade.dmn")
    assert "命中策略" in page.locator("#studio-modeler").inner_text()
    page.click('form[action="/lang/en"] button')
    page.wait_for_selector('html[lang^="en"]')
    _open_editor(page, live, "yq_grade.dmn")
    editor = page.locator("#studio-modeler").inner_text()
    assert "Hit policy" in editor and "命中策略" not in editor and "新增输入" not in editor


def _proposed_level(monitor):
    """Register the level-4 scenario's incident (low attention everywhere); the level the grading proposes."""
    instance = instances.start_incident(monitor)
    task = tasks.next_task_for(monitor, instance.id)
    form = tasks.task_form(task)
    raw = {key: value if isinstance(value, list) else [value] for key, value in FORMS["ut_register"].items()}
    submission = forms.parse_submission(form, raw, tasks.form_options(form), "zh_CN")
    assert not submission.errors, submission.errors
    tasks.complete_task(task.public_id, submission.data, monitor)
    db.session.expire_all()
    confirm = db.session.scalar(select(HumanTask).where(HumanTask.instance_id == instance.id,
                                                        HumanTask.status == TaskStatus.OPEN,
                                                        HumanTask.spec_id == "ut_confirm_level"))
    return confirm.context["proposed_level"]


def test_diff_two_versions_and_preview_a_form(page, live):
    with live.app.app_context():
        deploy_console()
        make_user(["process_owner", "process_publisher"], username="publisher_qin")
    log_in(page, live, "publisher_qin")
    _open_editor(page, live, "t_console.bpmn")
    page.evaluate("""() => {
      const m = window.YuqingStudio.editor.modeler;
      m.get('modeling').updateProperties(m.get('elementRegistry').get('ut_b'), { name: '复核(改)' });
    }""")
    page.click('[data-action="save"]')
    page.wait_for_selector('#studio-modeler[data-state="saved"]')
    _deploy(page, live, "改名")
    page.goto(f"{live.url}/studio/processes/t_console")
    page.click('[data-testid="diff-form"] button[type="submit"]')
    page.wait_for_selector('#studio-diff[data-ready="true"]')
    new_side = page.locator('[data-role="new"] g.djs-element[data-element-id="ut_b"]')
    assert "diff--changed" in new_side.get_attribute("class")
    assert "复核(改)" in page.locator('[data-testid="diff-table"]').inner_text()
    screenshot(page, "studio-diff")
    page.goto(f"{live.url}/studio/files/ut_investigate.schema.json")
    page.wait_for_selector('#studio-form[data-preview="ok"]')
    page.click('[data-testid="tab-json"]')  # the field list is the first tab, the raw JSON the advanced one
    text = page.locator("#schema-text")
    text.fill(text.input_value().replace('"title": "', '"title": "(预览)', 1))
    page.locator("#form-preview").get_by_text("(预览)").first.wait_for()  # no eval: the page's CSP forbids it
    screenshot(page, "studio-form-preview")
    text.fill("{ broken")
    page.wait_for_selector('#studio-form[data-preview="error"]')
    assert page.locator('[data-testid="preview-problems"]').inner_text()
