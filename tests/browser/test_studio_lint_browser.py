"""Modelling comfort in the studio: the live lint (our bpmnlint rules, Chinese messages, a click on a
finding selects its element), the fullscreen canvas, the minimap and the element templates of our
recurring patterns (what they insert passes the server's deploy checks)."""

from __future__ import annotations

import html
import re

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
      <bpmndi:BPMNShape id="start_di" bpmnElement="start">
        <dc:Bounds x="180" y="160" width="36" height="36"/></bpmndi:BPMNShape>
      <bpmndi:BPMNShape id="end_di" bpmnElement="end">
        <dc:Bounds x="520" y="160" width="36" height="36"/></bpmndi:BPMNShape>
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
        const at = {x: placed.x + placed.width + 80, y: placed.y + placed.height / 2};
        modeling.appendShape(placed, {type: 'bpmn:EndEvent'}, at);
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
        const linted = new Promise((resolve) => {
          const off = editor.on('lint', (issues) => { off(); resolve(issues); });
        });
        await editor.importXML(xml);
        errors[name] = (await linted).filter((issue) => issue.category === 'error').map((issue) => issue.message);
      }
      return errors;
    }""", files)
    assert len(found) > 10
    assert {name: messages for name, messages in found.items() if messages} == {}


RULES_XML = """<?xml version="1.0" encoding="UTF-8"?>
<bpmn:definitions xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL"
  xmlns:spiffworkflow="http://spiffworkflow.org/bpmn/schema/1.0/core" id="D" targetNamespace="http://yuqing.local/test">
  <bpmn:process id="p" isExecutable="true">
    <bpmn:laneSet id="ls">
      <bpmn:lane id="lane_bare" name="无角色">
        <bpmn:flowNodeRef>ut</bpmn:flowNodeRef>
      </bpmn:lane>
      <bpmn:lane id="lane_odd" name="怪角色">
        <bpmn:extensionElements><spiffworkflow:properties>
          <spiffworkflow:property name="roles" value="office_staff,no_such_role"/>
        </spiffworkflow:properties></bpmn:extensionElements>
        <bpmn:flowNodeRef>mt</bpmn:flowNodeRef>
      </bpmn:lane>
    </bpmn:laneSet>
    <bpmn:startEvent id="start"/>
    <bpmn:userTask id="ut" name="填报"><bpmn:extensionElements><spiffworkflow:properties>
      <spiffworkflow:property name="formJsonSchemaFilename" value="ut_investigate.schema.json"/>
    </spiffworkflow:properties></bpmn:extensionElements></bpmn:userTask>
    <bpmn:manualTask id="mt" name="线下办理"/>
    <bpmn:exclusiveGateway id="gw" name="分流"/>
    <bpmn:serviceTask id="st_shell" name="外部命令"><bpmn:extensionElements>
      <spiffworkflow:serviceTaskOperator id="shell"/></bpmn:extensionElements></bpmn:serviceTask>
    <bpmn:serviceTask id="st_none" name="空服务"/>
    <bpmn:intermediateCatchEvent id="t_bad" name="坏时长"><bpmn:timerEventDefinition>
      <bpmn:timeDuration>"PT2X"</bpmn:timeDuration></bpmn:timerEventDefinition></bpmn:intermediateCatchEvent>
    <bpmn:intermediateCatchEvent id="t_month" name="一个月"><bpmn:timerEventDefinition>
      <bpmn:timeDuration>"P1M"</bpmn:timeDuration></bpmn:timerEventDefinition></bpmn:intermediateCatchEvent>
    <bpmn:intermediateCatchEvent id="t_name" name="变量"><bpmn:timerEventDefinition>
      <bpmn:timeDate>due_at</bpmn:timeDate></bpmn:timerEventDefinition></bpmn:intermediateCatchEvent>
    <bpmn:intermediateCatchEvent id="t_cycle" name="循环"><bpmn:timerEventDefinition>
      <bpmn:timeCycle>"R3/PT1H"</bpmn:timeCycle></bpmn:timerEventDefinition></bpmn:intermediateCatchEvent>
    <bpmn:intermediateCatchEvent id="t_date" name="日期"><bpmn:timerEventDefinition>
      <bpmn:timeDate>"2026-05-01T09:00:00+08:00"</bpmn:timeDate></bpmn:timerEventDefinition></bpmn:intermediateCatchEvent>
    <bpmn:endEvent id="end"/>
    <bpmn:scriptTask id="lonely"/>
    <bpmn:sequenceFlow id="f1" sourceRef="start" targetRef="ut"/>
    <bpmn:sequenceFlow id="f2" sourceRef="ut" targetRef="mt"/>
    <bpmn:sequenceFlow id="f3" sourceRef="mt" targetRef="gw"/>
    <bpmn:sequenceFlow id="f_cond" sourceRef="gw" targetRef="st_shell">
      <bpmn:conditionExpression>x &gt; 1</bpmn:conditionExpression></bpmn:sequenceFlow>
    <bpmn:sequenceFlow id="f_bare" name="其他" sourceRef="gw" targetRef="st_none"/>
    <bpmn:sequenceFlow id="f4" sourceRef="st_shell" targetRef="t_bad"/>
    <bpmn:sequenceFlow id="f5" sourceRef="st_none" targetRef="t_month"/>
    <bpmn:sequenceFlow id="f6" sourceRef="t_bad" targetRef="t_name"/>
    <bpmn:sequenceFlow id="f7" sourceRef="t_month" targetRef="t_cycle"/>
    <bpmn:sequenceFlow id="f8" sourceRef="t_name" targetRef="t_date"/>
    <bpmn:sequenceFlow id="f9" sourceRef="t_date" targetRef="end"/>
  </bpmn:process>
  DIAGRAM
</bpmn:definitions>
"""


def _with_diagram(xml: str) -> str:
    """RULES_XML with shapes in a row for its flow nodes and straight edges (lanes stay without shapes)."""
    nodes = re.findall(r'<bpmn:(?:startEvent|userTask|manualTask|exclusiveGateway|serviceTask|'
                       r'intermediateCatchEvent|endEvent|scriptTask) id="(\w+)"', xml)
    at = {node: 100 + 150 * index for index, node in enumerate(nodes)}
    shapes = "".join(f'<bpmndi:BPMNShape id="{n}_di" bpmnElement="{n}"><dc:Bounds x="{x}" y="100" width="50" '
                     f'height="50"/></bpmndi:BPMNShape>' for n, x in at.items())
    edges = "".join(f'<bpmndi:BPMNEdge id="{f}_di" bpmnElement="{f}"><di:waypoint x="{at[a] + 50}" y="125"/>'
                    f'<di:waypoint x="{at[b]}" y="125"/></bpmndi:BPMNEdge>'
                    for f, a, b in re.findall(r'<bpmn:sequenceFlow id="(\w+)"(?: name="[^"]*")? '
                                              r'sourceRef="(\w+)" targetRef="(\w+)"', xml))
    diagram = ('<bpmndi:BPMNDiagram id="d"><bpmndi:BPMNPlane id="pl" bpmnElement="p">'
               f"{shapes}{edges}</bpmndi:BPMNPlane></bpmndi:BPMNDiagram>")
    return xml.replace("DIAGRAM", diagram).replace(
        'id="D"', 'xmlns:bpmndi="http://www.omg.org/spec/BPMN/20100524/DI" '
        'xmlns:dc="http://www.omg.org/spec/DD/20100524/DC" xmlns:di="http://www.omg.org/spec/DD/20100524/DI" id="D"')


def test_each_lint_rule_flags_its_case_and_leaves_the_good_ones(page, live):
    with live.app.app_context():
        deploy_console()
        make_user(["process_owner"], username="owner_rules")
    log_in(page, live, "owner_rules")
    _open(page, live, "t_console.bpmn")
    issues = page.evaluate("""async (xml) => {
      const editor = window.YuqingStudio.editor;
      const linted = new Promise((resolve) => {
        const off = editor.on('lint', (found) => { off(); resolve(found); });
      });
      await editor.importXML(xml);
      return (await linted).map((issue) => [issue.rule, issue.element_id, issue.category, issue.message]);
    }""", _with_diagram(RULES_XML))
    found = {(rule, element): (category, message) for rule, element, category, message in issues}
    assert found[("yuqing/lane", "lane_bare")][1] == "泳道“无角色”没有设置角色:选中它,在属性面板的“角色”中选择。"
    assert "no_such_role" in found[("yuqing/lane", "lane_odd")][1]
    assert found[("yuqing/form", "mt")][0] == "warn"
    assert ("yuqing/form", "ut") not in found
    assert "ISO-8601" in found[("yuqing/timer", "t_bad")][1]
    assert found[("yuqing/timer", "t_bad")][1].startswith("“坏时长”:")  # every finding names its element
    # an unnamed element is named by its type and id
    assert found[("yuqing/disconnected", "lonely")] == (
        "warn", "“脚本任务 lonely”没有连到流程中(没有进入或离开的顺序流)。")
    assert ("yuqing/timer", "t_month") in found  # months only in a cycle
    assert not {("yuqing/timer", ok) for ok in ("t_name", "t_cycle", "t_date")} & found.keys()
    assert found[("yuqing/condition", "f_bare")][1].startswith("网关“分流”流出的顺序流“其他”没有条件")
    assert ("yuqing/condition", "f_cond") not in found
    assert "不是已登记的服务操作" in found[("yuqing/operator", "st_shell")][1]
    assert "没有选择服务操作" in found[("yuqing/operator", "st_none")][1]
    assert all(category == "error" for (rule, _), (category, _) in found.items()
               if rule not in ("yuqing/form", "yuqing/disconnected"))


def test_templates_can_be_inserted_through_the_api_too(page, live):
    with live.app.app_context():
        deploy_console()
        make_user(["process_owner"], username="owner_api")
    log_in(page, live, "owner_api")
    _open(page, live, "t_console.bpmn")
    result = page.evaluate("""async () => {
      const editor = window.YuqingStudio.editor;
      const ids = editor.insertTemplate('ledger', {x: 400, y: 400});
      return {names: editor.templates(), ids, xml: await editor.saveXML()};
    }""")
    assert result["names"] == ["notify", "ledger", "deadline-watch", "approval-loop"]
    assert len(result["ids"]) == 1
    assert 'spiffworkflow:serviceTaskOperator id="ledger" resultVariable="ledger_entry"' in result["xml"]
    kind = re.search(r'<spiffworkflow:parameter id="kind" type="str" value="([^"]*)"', result["xml"])
    assert kind and html.unescape(kind.group(1)) == '"notice"'


SERVICE_XML = """<?xml version="1.0" encoding="UTF-8"?>
<bpmn:definitions xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL"
  xmlns:bpmndi="http://www.omg.org/spec/BPMN/20100524/DI" xmlns:dc="http://www.omg.org/spec/DD/20100524/DC"
  xmlns:spiffworkflow="http://spiffworkflow.org/bpmn/schema/1.0/core" id="D" targetNamespace="http://yuqing.local/test">
  <bpmn:collaboration id="collab"><bpmn:participant id="pool" name="通知" processRef="p"/></bpmn:collaboration>
  <bpmn:process id="p" isExecutable="true">
    <bpmn:serviceTask id="st_notify" name="通知值班"><bpmn:extensionElements>
      <spiffworkflow:serviceTaskOperator id="notify"><spiffworkflow:parameters>
        <spiffworkflow:parameter id="template" type="str" value="'quick_report'"/>
        <spiffworkflow:parameter id="recipients" type="list" value="['office_staff']"/>
        <spiffworkflow:parameter id="urgent" type="bool" value="True"/>
      </spiffworkflow:parameters></spiffworkflow:serviceTaskOperator>
    </bpmn:extensionElements></bpmn:serviceTask>
  </bpmn:process>
  <bpmndi:BPMNDiagram id="d"><bpmndi:BPMNPlane id="pl" bpmnElement="collab">
    <bpmndi:BPMNShape id="pool_di" bpmnElement="pool" isHorizontal="true">
      <dc:Bounds x="100" y="50" width="600" height="250"/></bpmndi:BPMNShape>
    <bpmndi:BPMNShape id="st_di" bpmnElement="st_notify"><dc:Bounds x="300" y="130" width="100" height="80"/>
    </bpmndi:BPMNShape>
  </bpmndi:BPMNPlane></bpmndi:BPMNDiagram>
</bpmn:definitions>
"""


def test_the_properties_panel_speaks_chinese_for_operators_parameters_and_the_root(page, live):
    with live.app.app_context():
        deploy_console()
        make_user(["process_owner"], username="owner_panel")
    log_in(page, live, "owner_panel")
    _open(page, live, "t_console.bpmn")
    page.evaluate("(xml) => window.YuqingStudio.editor.importXML(xml)", SERVICE_XML)
    header = page.locator(".bio-properties-panel-header-type")
    header.filter(has_text="协作").wait_for()  # the root of a diagram with a pool, no longer COLLABORATION
    page.locator('g.djs-element[data-element-id="st_notify"] .djs-hit').first.click(force=True)
    header.filter(has_text="服务任务").wait_for()
    select = page.locator('#studio-modeler select[name="yq-operator"]')
    select.wait_for()
    assert select.input_value() == "notify"
    options = select.locator("option").all_inner_texts()
    assert any(text.startswith("发送通知(notify):") for text in options), options
    assert any(text.startswith("调用外部系统(call_system):") for text in options), options
    assert not [text for text in options if "Send " in text or "JSON object" in text]
    rows = page.locator('[data-group-id="group-yq-parameters"] .bio-properties-panel-collapsible-entry-header-title')
    assert rows.all_inner_texts() == ["template(文本)", "recipients(列表)", "urgent(是否)"]
    screenshot(page, "studio-panel-service-task")
