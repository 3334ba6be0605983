"""Modelling comfort in the studio: the live lint (our bpmnlint rules, Chinese messages, a click on a
finding selects its element), the fullscreen canvas, the minimap and the element templates of our
recurring patterns (what they insert passes the server's deploy checks)."""

from __future__ import annotations

import pytest

from app.operations import studio
from tests.browser.conftest import log_in, screenshot
from tests.conftest import make_user
from tests.operations.console import deploy_console

# A process without lanes: the first user task drawn into it is in no lane.
PLAIN = """<?xml version="1.0" encoding="UTF-8"?>
<bpmn:definitions xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL"
  xmlns:bpmndi="http://www.omg.org/spec/BPMN/20100524/DI" xmlns:dc="http://www.omg.org/spec/DD/20100524/DC"
  xmlns:di="http://www.omg.org/spec/DD/20100524/DI" id="Definitions_t_plain" targetNamespace="http://yuqing.local/test">
  <bpmn:process id="t_plain" name="空白测试" isExecutable="true">
    <bpmn:startEvent id="start"><bpmn:outgoing>f_end</bpmn:outgoing></bpmn:startEvent>
    <bpmn:endEvent id="end"><bpmn:incoming>f_end</bpmn:incoming></bpmn:endEvent>
    <bpmn:sequenceFlow id="f_end" sourceRef="start" targetRef="end"/>
  </bpmn:process>
  <bpmndi:BPMNDiagram id="BPMNDiagram_t_plain">
    <bpmndi:BPMNPlane id="BPMNPlane_t_plain" bpmnElement="t_plain">
      <bpmndi:BPMNShape id="start_di" bpmnElement="start"><dc:Bounds x="180" y="160" width="36" height="36"/></bpmndi:BPMNShape>
      <bpmndi:BPMNShape id="end_di" bpmnElement="end"><dc:Bounds x="520" y="160" width="36" height="36"/></bpmndi:BPMNShape>
      <bpmndi:BPMNEdge id="f_end_di" bpmnElement="f_end">
        <di:waypoint x="216" y="178"/><di:waypoint x="520" y="178"/>
      </bpmndi:BPMNEdge>
    </bpmndi:BPMNPlane>
  </bpmndi:BPMNDiagram>
</bpmn:definitions>
""".encode()


def _open(page, live, name):
    page.goto(f"{live.url}/studio/files/{name}?autosave=600")
    page.wait_for_selector('#studio-modeler[data-ready="true"]')


def _screen(page, x, y):
    """Page coordinates of a diagram point."""
    return page.evaluate("""([x, y]) => {
      const canvas = window.YuqingStudio.editor.modeler.get('canvas');
      const box = canvas.viewbox();
      const rect = canvas.getContainer().getBoundingClientRect();
      return [rect.left + (x - box.x) * box.scale, rect.top + (y - box.y) * box.scale];
    }""", [x, y])


def _place(page, entry, x, y):
    """Take an entry of the palette and drop it at a diagram point, as a click-move-click does."""
    page.click(f'.djs-palette .entry[data-action="{entry}"]')
    left, top = _screen(page, x, y)
    page.mouse.move(left - 20, top - 20)
    page.mouse.move(left, top, steps=4)
    page.mouse.click(left, top)


def _validate(page):
    page.click('[data-action="validate"]')
    page.wait_for_selector('#studio-modeler[data-state="valid"], #studio-modeler[data-state="invalid"]')
    return page.get_attribute("#studio-modeler", "data-state"), page.inner_text('[data-testid="modeler-problems"]')


def test_a_user_task_drawn_outside_any_lane_is_flagged_in_chinese_and_selected_from_the_list(page, live):
    with live.app.app_context():
        deploy_console({"t_plain.bpmn": PLAIN})
        make_user(["process_owner"], username="owner_lint")
    log_in(page, live, "owner_lint")
    _open(page, live, "t_plain.bpmn")
    page.wait_for_selector('#studio-modeler[data-lint-errors="0"]')
    _place(page, "create.task", 360, 320)
    page.click('.djs-context-pad .entry[data-action="replace"]')
    page.click('.djs-popup .entry[data-id="replace-with-user-task"]')
    page.wait_for_selector(".djs-popup", state="detached")
    finding = page.locator('[data-testid="modeler-lint"] li[data-rule="yuqing/lane"]')
    finding.wait_for()
    assert "不在任何泳道中" in finding.inner_text()
    assert "错误" in finding.inner_text()
    task_id = finding.get_attribute("data-element")
    form = page.locator(f'[data-testid="modeler-lint"] li[data-rule="yuqing/form"][data-element="{task_id}"]')
    assert "自动生成的确认表单" in form.inner_text()  # a warning, not an error
    page.evaluate("() => window.YuqingStudio.editor.select('start')")  # something else is selected
    page.wait_for_selector('g.djs-element.selected[data-element-id="start"]')
    finding.click()
    page.wait_for_selector(f'g.djs-element.selected[data-element-id="{task_id}"]')
    screenshot(page, "studio-lint-no-lane")


def test_the_canvas_goes_fullscreen_and_back_with_escape_and_shows_a_minimap(page, live):
    with live.app.app_context():
        deploy_console()
        make_user(["process_owner"], username="owner_full")
    log_in(page, live, "owner_full")
    _open(page, live, "t_console.bpmn")
    page.wait_for_selector(".djs-minimap.open .map svg")
    button = page.locator('[data-action="fullscreen"]')
    assert button.inner_text() == "全屏"
    button.click()
    page.wait_for_selector('#studio-modeler.studio-modeler--fullscreen[data-fullscreen="true"]')
    viewport = page.viewport_size
    wrap = page.locator(".studio-canvas-wrap").bounding_box()
    assert wrap["height"] > viewport["height"] * 0.6
    assert wrap["width"] > viewport["width"] * 0.9
    assert "退出全屏" in button.inner_text()
    screenshot(page, "studio-fullscreen")
    page.keyboard.press("Escape")
    page.wait_for_selector('#studio-modeler[data-fullscreen="false"]')
    assert not page.locator("#studio-modeler.studio-modeler--fullscreen").count()
    assert button.inner_text() == "全屏"


def test_a_notify_template_dropped_on_a_flow_passes_the_deploy_checks(page, live):
    with live.app.app_context():
        deploy_console()
        make_user(["process_owner"], username="owner_notify")
    log_in(page, live, "owner_notify")
    _open(page, live, "t_console.bpmn")
    flow = page.locator('g.djs-element[data-element-id="f_b_end"] .djs-hit').first.bounding_box()
    page.click('.djs-palette .entry[data-action="yq-template-notify"]')
    middle = (flow["x"] + flow["width"] / 2, flow["y"] + flow["height"] / 2)
    page.mouse.move(middle[0] - 30, middle[1] - 30)
    page.mouse.move(*middle, steps=4)
    page.mouse.click(*middle)
    assert _validate(page)[0] == "valid"
    with live.app.app_context():
        draft = studio.get_file("t_console.bpmn").draft
    assert 'spiffworkflow:serviceTaskOperator id="notify"' in draft
    assert 'spiffworkflow:parameter id="recipients" type="list"' in draft


@pytest.mark.parametrize("template", ["approval-loop", "deadline-watch", "ledger"])
def test_a_template_placed_in_the_lane_and_wired_in_passes_the_deploy_checks(page, live, template):
    with live.app.app_context():
        deploy_console()
        make_user(["process_owner"], username="owner_template")
    log_in(page, live, "owner_template")
    _open(page, live, "t_console.bpmn")
    _place(page, f"yq-template-{template}", 300, 330)
    page.wait_for_selector('#studio-modeler[data-dirty="true"]')
    screenshot(page, f"studio-template-{template}")
    # wire it in place of end_b (ut_b → template), and end the template's open exit
    page.evaluate("""() => {
      const modeler = window.YuqingStudio.editor.modeler;
      const registry = modeler.get('elementRegistry');
      const modeling = modeler.get('modeling');
      const placed = modeler.get('selection').get()[0];
      modeling.removeElements([registry.get('end_b')]);
      modeling.connect(registry.get('ut_b'), placed);
      if (!placed.outgoing.length) {
        modeling.appendShape(placed, {type: 'bpmn:EndEvent'}, {x: placed.x + placed.width + 80, y: placed.y + placed.height / 2});
      }
    }""")
    state, problems = _validate(page)
    assert state == "valid", problems
    assert page.get_attribute("#studio-modeler", "data-lint-errors") == "0"


def test_the_shipped_processes_have_no_lint_errors(page, live):
    """The live lint mirrors the deploy checks: what deploys (processes/) shows no error while modelling."""
    with live.app.app_context():
        deploy_console()
        make_user(["process_owner"], username="owner_shipped")
        files = {f.name: f.current for f in studio.list_files() if f.name.endswith(".bpmn")}
    log_in(page, live, "owner_shipped")
    _open(page, live, "t_console.bpmn")
    found = page.evaluate("""async (files) => {
      const editor = window.YuqingStudio.editor;
      const errors = {};
      for (const [name, xml] of Object.entries(files)) {
        const linted = new Promise((resolve) => { const off = editor.on('lint', (issues) => { off(); resolve(issues); }); });
        await editor.importXML(xml);
        errors[name] = (await linted).filter((issue) => issue.category === 'error').map((issue) => issue.message);
      }
      return errors;
    }""", files)
    assert len(found) > 10
    assert {name: messages for name, messages in found.items() if messages} == {}
