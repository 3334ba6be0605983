"""The studio in a real browser: add a user task to a lane and give it a form, see the validation
marker on the unconnected task, fix it, deploy, and find the new task in a new instance's worklist;
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

ADD_TASK = """() => {
  const m = window.YuqingStudio.editor.modeler;
  const registry = m.get('elementRegistry'), modeling = m.get('modeling'), factory = m.get('elementFactory');
  const lane = registry.get('Lane_office'), participant = registry.get('Participant_t_console');
  const shape = factory.createShape({ type: 'bpmn:UserTask' });
  modeling.createShape(shape, { x: lane.x + lane.width - 80, y: lane.y + lane.height - 50 }, participant);
  modeling.updateProperties(shape, { id: 'ut_recheck', name: '新增复查' });
  return shape.id;
}"""
CONNECT = """() => {
  const m = window.YuqingStudio.editor.modeler;
  const registry = m.get('elementRegistry'), modeling = m.get('modeling');
  modeling.removeConnection(registry.get('f_b_end'));
  modeling.connect(registry.get('ut_b'), registry.get('ut_recheck'));
  modeling.connect(registry.get('ut_recheck'), registry.get('end_b'));
}"""


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
    assert page.evaluate(ADD_TASK) == "ut_recheck"
    page.click('g.djs-element[data-element-id="ut_recheck"]')
    page.get_by_label("表单", exact=True).select_option("ut_investigate.schema.json")
    page.click('[data-action="validate"]')
    page.wait_for_selector('#studio-modeler[data-state="invalid"]')
    assert "el--problem" in page.locator('g.djs-element[data-element-id="ut_recheck"]').get_attribute("class")
    assert "ut_recheck" in page.locator('[data-testid="modeler-problems"]').inner_text()
    page.evaluate(CONNECT)
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
    text = page.locator("#schema-text")
    text.fill(text.input_value().replace('"title": "', '"title": "(预览)', 1))
    page.locator("#form-preview").get_by_text("(预览)").first.wait_for()  # no eval: the page's CSP forbids it
    screenshot(page, "studio-form-preview")
    text.fill("{ broken")
    page.wait_for_selector('#studio-form[data-preview="error"]')
    assert page.locator('[data-testid="preview-problems"]').inner_text()
