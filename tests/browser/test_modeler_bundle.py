"""The process modeller bundle (app/static/vendor/modeler/, built from assets/modeler/ by
tools/build_modeler.py) in Chromium, under the diagram pages' CSP.

A static harness page (tests/browser/data/modeler_harness.html) is served with app/static by Python's
http.server, with the same Content-Security-Policy header as the diagram pages (DIAGRAM_CSP). Every test
fails on a console error, a page error, a CSP violation or a request that leaves the test server.
"""

from __future__ import annotations

import functools
import importlib.util
import threading
from collections import Counter
from collections.abc import Iterator
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from types import ModuleType
from typing import ClassVar

import pytest
from lxml import etree

from app.engine.services import operator_catalogue
from app.web.security import DIAGRAM_CSP
from tests.browser.conftest import PATIENCE_MS, screenshot
from tests.conftest import ROOT

STATIC = ROOT / "app" / "static"
HARNESS = Path(__file__).resolve().parent / "data"
BUNDLE = STATIC / "vendor" / "modeler" / "modeler.js"
PROCESSES = ROOT / "processes"
BPMN_FILES = sorted(PROCESSES.glob("*.bpmn"))
DMN_FILES = sorted(PROCESSES.glob("*.dmn"))

SPIFF = "http://spiffworkflow.org/bpmn/schema/1.0/core"
BPMN = "http://www.omg.org/spec/BPMN/20100524/MODEL"
DMN = "https://www.omg.org/spec/DMN/20191111/MODEL/"
# attributes bpmn-js leaves out because they state the default
BPMN_DEFAULTS = {("multiInstanceLoopCharacteristics", "isSequential", "false")}


def _load_build_modeler() -> ModuleType:
    spec = importlib.util.spec_from_file_location("build_modeler", ROOT / "tools" / "build_modeler.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


class _Handler(SimpleHTTPRequestHandler):
    """/static/… from app/static, /harness/… from tests/browser/data; every response carries DIAGRAM_CSP."""

    extensions_map: ClassVar[dict[str, str]] = {
        **SimpleHTTPRequestHandler.extensions_map, ".js": "text/javascript", ".css": "text/css",
        ".woff2": "font/woff2", ".woff": "font/woff", ".html": "text/html; charset=utf-8"}

    def translate_path(self, path: str) -> str:
        path = path.split("?", 1)[0].split("#", 1)[0]
        for prefix, base in (("/static/", STATIC), ("/harness/", HARNESS)):
            if path.startswith(prefix):
                target = (base / path[len(prefix):]).resolve()
                if target.is_relative_to(base):
                    return str(target)
        return str(HARNESS / "missing")

    def end_headers(self) -> None:
        self.send_header("Content-Security-Policy", DIAGRAM_CSP)
        self.send_header("X-Content-Type-Options", "nosniff")
        self.send_header("Cache-Control", "no-store")
        super().end_headers()

    def log_message(self, format: str, *args: object) -> None:
        pass


def _bundle_is_current() -> bool:
    sources = [path for path in (ROOT / "assets" / "modeler").rglob("*") if path.is_file()]
    return BUNDLE.is_file() and all(path.stat().st_mtime <= BUNDLE.stat().st_mtime for path in sources)


@pytest.fixture(scope="module")
def harness_url() -> Iterator[str]:
    if not _bundle_is_current() and _load_build_modeler().main() != 0:
        pytest.fail("the modeller bundle is missing or stale and could not be built: run `make assets`")
    server = ThreadingHTTPServer(("127.0.0.1", 0), functools.partial(_Handler, directory=str(HARNESS)))
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_port}"
    finally:
        server.shutdown()
        thread.join(timeout=10)
        server.server_close()


@pytest.fixture(scope="module")
def harness_page(browser: object, harness_url: str) -> Iterator[tuple[object, list[str]]]:
    context = browser.new_context(locale="zh-CN", viewport={"width": 1400, "height": 1000})
    tab = context.new_page()
    tab.set_default_timeout(PATIENCE_MS)
    problems: list[str] = []
    tab.on("pageerror", lambda error: problems.append(f"page error: {error}"))
    tab.on("console", lambda message: problems.append(f"console {message.type}: {message.text}")
           if message.type == "error" or "Content Security Policy" in message.text else None)
    tab.on("request", lambda request: None if request.url.startswith(harness_url)
           or request.url.startswith("data:") else problems.append(f"request outside the app: {request.url}"))
    tab.on("requestfailed", lambda request: problems.append(f"request failed: {request.url}"))
    tab.on("response", lambda response: problems.append(f"HTTP {response.status}: {response.url}")
           if response.status >= 400 else None)
    tab.goto(f"{harness_url}/harness/modeler_harness.html")
    tab.wait_for_function("window.YuqingModeler && window.harness")
    yield tab, problems
    context.close()


@pytest.fixture
def page(harness_page: tuple[object, list[str]]) -> Iterator[object]:
    """The harness tab; the test fails on any error, CSP violation or foreign request meanwhile."""
    tab, problems = harness_page
    problems.clear()
    tab.evaluate("window.cspViolations.length = 0")
    yield tab
    violations = tab.evaluate("window.cspViolations.slice()")
    assert problems == [] and violations == [], f"browser problems: {problems} CSP: {violations}"


def _host_options(locale: str = "zh") -> dict:
    """What the studio page passes (app/operations/studio_editor.py): form schemas and UI schemas apart."""
    forms = sorted(path.name for path in (ROOT / "forms").glob("*.json"))
    return {
        "forms": [name for name in forms if not name.endswith(".uischema.json")],
        "uiforms": [name for name in forms if name.endswith(".uischema.json")],
        "processes": [process.get("id") for path in BPMN_FILES
                      for process in etree.parse(str(path)).iter(f"{{{BPMN}}}process")],
        "decisions": [etree.parse(str(path)).find(f"{{{DMN}}}decision").get("id") for path in DMN_FILES],
        "operators": operator_catalogue(),
        "locale": locale,
    }


def _spiff_signature(xml: bytes) -> Counter:
    """Multiset of spiffworkflow elements (tag, attributes, text of a leaf) and spiffworkflow attributes."""
    signature: Counter = Counter()
    for element in etree.fromstring(xml).iter():
        if not isinstance(element.tag, str):
            continue
        attributes = tuple(sorted(element.attrib.items()))
        if etree.QName(element).namespace == SPIFF:
            signature[(element.tag, attributes, (element.text or "") if len(element) == 0 else "")] += 1
        for name, value in attributes:
            if etree.QName(name).namespace == SPIFF:
                signature[(element.tag, element.get("id") or element.getparent().get("id"), name, value)] += 1
    return signature


def _bpmn_signature(xml: bytes) -> Counter:
    """Multiset of the BPMN semantic elements (tag, attributes without defaults, text of a leaf)."""
    signature: Counter = Counter()
    for element in etree.fromstring(xml).iter(f"{{{BPMN}}}*"):
        local = etree.QName(element).localname
        attributes = tuple(sorted((name, value) for name, value in element.attrib.items()
                                  if (local, name, value) not in BPMN_DEFAULTS))
        signature[(local, attributes, (element.text or "").strip() if len(element) == 0 else "")] += 1
    return signature


def _open(page: object, path: Path, options: dict | None = None) -> list[str]:
    return page.evaluate("([xml, options]) => harness.openBpmn(xml, options)",
                         [path.read_text(encoding="utf-8"), options or _host_options()])


def _save(page: object) -> bytes:
    return page.evaluate("harness.saveBpmn()").encode("utf-8")


def _click(page: object, element_id: str) -> None:
    # As a person would: scroll the shape clear of the palette first (wherever the layout put it).
    page.evaluate("""([id]) => harness.bpmn.modeler.get('canvas').scrollToElement(id,
                       {top: 100, bottom: 100, left: 320, right: 100})""", [element_id])
    page.locator(f'#canvas .djs-element[data-element-id="{element_id}"]').first.click()


@pytest.mark.browser
@pytest.mark.parametrize("path", BPMN_FILES, ids=lambda path: path.name)
def test_every_process_round_trips_with_its_spiffworkflow_extensions(page, path):
    original = path.read_bytes()
    warnings = _open(page, path)
    assert warnings == []
    assert page.locator("#canvas .djs-element").count() > 10
    exported = _save(page)
    expected = _spiff_signature(original)
    assert expected, "every process uses spiffworkflow extensions"
    assert _spiff_signature(exported) == expected
    assert _bpmn_signature(exported) == _bpmn_signature(original)
    assert f'xmlns:spiffworkflow="{SPIFF}"' in exported.decode("utf-8")
    if path.name == "yq_incident.bpmn":
        screenshot(page, "modeler-yq_incident")


def _first_user_task_with_form(path: Path) -> tuple[str, str, str]:
    tree = etree.parse(str(path))
    for task in tree.iter(f"{{{BPMN}}}userTask"):
        values = {prop.get("name"): prop.get("value") for prop in task.iter(f"{{{SPIFF}}}property")}
        if values.get("formJsonSchemaFilename") and values.get("formUiSchemaFilename"):
            return task.get("id"), values["formJsonSchemaFilename"], values["formUiSchemaFilename"]
    raise AssertionError(f"no user task with a form in {path.name}")


def _options(page: object, name: str) -> list[str]:
    return page.eval_on_selector(f'#panel select[name="{name}"]', "select => [...select.options].map(o => o.value)")


@pytest.mark.browser
def test_the_user_task_form_select_offers_the_forms_and_writes_the_property(page):
    path = PROCESSES / "yq_release.bpmn"
    task_id, form, ui_form = _first_user_task_with_form(path)
    options = _host_options()
    assert _open(page, path, options) == []
    _click(page, task_id)
    form_select = page.locator('#panel select[name="yq-form"]')
    form_select.wait_for()
    assert page.locator('#panel [data-group-id="group-yq-user-task"]').inner_text().startswith("用户任务")
    schemas = options["forms"]
    assert _options(page, "yq-form") == ["", *schemas]
    assert _options(page, "yq-ui-form") == ["", *options["uiforms"]]
    assert form_select.input_value() == form
    assert page.locator('#panel select[name="yq-ui-form"]').input_value() == ui_form
    other = next(name for name in schemas if name != form)
    form_select.select_option(other)
    screenshot(page, "modeler-user-task")
    task = etree.fromstring(_save(page)).find(f".//{{{BPMN}}}userTask[@id='{task_id}']")
    values = {prop.get("name"): prop.get("value") for prop in task.iter(f"{{{SPIFF}}}property")}
    assert values["formJsonSchemaFilename"] == other
    assert values["formUiSchemaFilename"] == ui_form  # the UI schema stays as it was

    # one list with both kinds works too: the UI schemas go to the UI form select
    ui_schemas = options.pop("uiforms")
    assert _open(page, path, {**options, "forms": sorted([*schemas, *ui_schemas])}) == []
    page.evaluate("([id]) => harness.bpmn.select(id)", [task_id])
    assert _options(page, "yq-form") == ["", *schemas]
    assert _options(page, "yq-ui-form") == ["", *ui_schemas]


@pytest.mark.browser
def test_a_service_task_shows_its_operator_and_parameter_rows_in_english_too(page):
    path = PROCESSES / "yq_incident.bpmn"
    tree = etree.parse(str(path))
    operator = next(tree.iter(f"{{{SPIFF}}}serviceTaskOperator"))
    task_id = operator.getparent().getparent().get("id")
    assert _open(page, path, _host_options(locale="en")) == []
    _click(page, task_id)
    page.locator('#panel select[name="yq-operator"]').wait_for()
    assert page.locator('#panel select[name="yq-operator"]').input_value() == operator.get("id")
    assert page.locator('#panel [data-group-id="group-yq-service-task"]').inner_text().startswith("Service task")
    rows = page.locator('#panel [data-group-id="group-yq-parameters"] .bio-properties-panel-list-item')
    assert rows.count() == len(operator.findall(f".//{{{SPIFF}}}parameter"))


def _q(tag: str) -> str:
    prefix, local = tag.split(":")
    return f"{{{SPIFF if prefix == 'spiffworkflow' else BPMN}}}{local}"


def _first(tree: etree._ElementTree, tag: str, test) -> etree._Element | None:
    return next((element for element in tree.iter(_q(tag)) if test(element)), None)


def _spiff_text(element: etree._Element, tag: str) -> str | None:
    found = element.find(f".//{_q(tag)}")
    return found.text if found is not None else None


def _by_id(tree: etree._ElementTree, element_id: str | None) -> etree._Element | None:
    return next(iter(tree.getroot().xpath("//*[@id=$id]", id=element_id)), None) if element_id else None


def _escalation_text(tree: etree._ElementTree, event: etree._Element, tag: str) -> str | None:
    definition = event.find(_q("bpmn:escalationEventDefinition"))
    escalation = _by_id(tree, definition.get("escalationRef")) if definition is not None else None
    return _spiff_text(escalation, tag) if escalation is not None else None


def _panel_cases() -> list[tuple[str, str, str, str, str]]:
    """(file, element id, panel group, entry name, value shown) for one element of each kind, found in processes/."""
    finders = {
        ("group-yq-lane", "yq-lane-roles"): lambda tree: [
            (lane, prop.get("value")) for lane in tree.iter(_q("bpmn:lane"))
            for prop in lane.iter(_q("spiffworkflow:property")) if prop.get("name") == "roles"],
        ("group-yq-user-task", "yq-return-to"): lambda tree: [
            (task, prop.get("value")) for task in tree.iter(_q("bpmn:userTask"))
            for prop in task.iter(_q("spiffworkflow:property")) if prop.get("name") == "returnTo"],
        ("group-yq-called-element", "yq-called-element-select"): lambda tree: [
            (task, task.get("calledElement")) for task in tree.iter(_q("bpmn:callActivity"))],
        ("group-yq-decision", "yq-decision-select"): lambda tree: [
            (task, _spiff_text(task, "spiffworkflow:calledDecisionId"))
            for task in tree.iter(_q("bpmn:businessRuleTask"))],
        ("group-yq-gateway", "yq-default-flow"): lambda tree: [
            (gateway, gateway.get("default")) for gateway in tree.iter(_q("bpmn:exclusiveGateway"))
            if gateway.get("default")],
        ("group-yq-condition", "yq-condition-expression"): lambda tree: [
            (flow, flow.find(_q("bpmn:conditionExpression")).text) for flow in tree.iter(_q("bpmn:sequenceFlow"))
            if flow.find(_q("bpmn:conditionExpression")) is not None
            and _by_id(tree, flow.get("sourceRef")).tag == _q("bpmn:exclusiveGateway")],
        ("group-escalation", "yq-escalation-variable"): lambda tree: [
            (event, _escalation_text(tree, event, "spiffworkflow:variableName"))
            for event in tree.iter(_q("bpmn:boundaryEvent"))],
        ("group-escalation", "yq-escalation-payload"): lambda tree: [
            (event, _escalation_text(tree, event, "spiffworkflow:payloadExpression"))
            for event in tree.iter(_q("bpmn:endEvent"), _q("bpmn:intermediateThrowEvent"))],
        ("group-message", "yq-message-variable"): lambda tree: [
            (event, _spiff_text(event, "spiffworkflow:messageVariable"))
            for event in tree.iter(_q("bpmn:intermediateCatchEvent"), _q("bpmn:startEvent"))],
        ("group-timer", "timerEventDefinitionValue"): lambda tree: [
            (event, event.find(f".//{_q('bpmn:timeDate')}").text) for event in tree.iter(_q("bpmn:boundaryEvent"))
            if event.find(f".//{_q('bpmn:timeDate')}") is not None],
        ("group-multiInstance", "yq-loop-input"): lambda tree: [
            (task, task.find(f".//{_q('bpmn:loopDataInputRef')}").text) for task in tree.iter(_q("bpmn:userTask"))
            if task.find(f".//{_q('bpmn:loopDataInputRef')}") is not None],
        ("group-yq-scripts", "yq-script"): lambda tree: [
            (task, task.findtext(_q("bpmn:script"))) for task in tree.iter(_q("bpmn:scriptTask"))],
        ("group-yq-scripts", "yq-pre-script"): lambda tree: [
            (task, _spiff_text(task, "spiffworkflow:preScript")) for task in tree.iter(_q("bpmn:businessRuleTask"))],
    }
    cases = []
    for (group, entry), finder in finders.items():
        found = next(((path.name, element.get("id"), value) for path in BPMN_FILES
                      for element, value in finder(etree.parse(str(path))) if value), (None, None, None))
        cases.append(pytest.param(found[0], found[1], group, entry, found[2], id=entry))
    return cases


@pytest.mark.browser
@pytest.mark.parametrize(("name", "element_id", "group", "entry", "value"), _panel_cases())
def test_the_panel_shows_each_extension_of_the_selected_element(page, name, element_id, group, entry, value):
    assert name, f"no element in processes/ has what {entry} shows"
    assert _open(page, PROCESSES / name) == []
    assert page.evaluate("([id]) => harness.bpmn.select(id)", [element_id])
    page.locator(f'#panel [data-group-id="{group}"]').wait_for()
    field = page.locator(f'#panel [name="{entry}"]')
    assert field.count() == 1
    assert field.evaluate("field => field.value").strip() == value.strip()


def _blur(page: object) -> None:
    page.evaluate("document.activeElement && document.activeElement.blur()")


@pytest.mark.browser
def test_editing_in_the_panel_writes_the_extension_elements(page):
    path = PROCESSES / "yq_incident.bpmn"
    tree = etree.parse(str(path))
    catalogue = {operator["name"]: operator for operator in operator_catalogue()}
    operator = next(element for element in tree.iter(_q("spiffworkflow:serviceTaskOperator"))
                    if element.get("id") != "ledger" and element.get("resultVariable"))
    task_id = operator.getparent().getparent().get("id")
    lane = _first(tree, "bpmn:lane", lambda lane: lane.find(f".//{_q('spiffworkflow:property')}") is not None)
    flow = _first(tree, "bpmn:sequenceFlow", lambda flow: flow.find(_q("bpmn:conditionExpression")) is not None)
    assert _open(page, path) == []

    page.evaluate("([id]) => harness.bpmn.select(id)", [task_id])
    page.select_option('#panel select[name="yq-operator"]', "ledger")
    page.click('#panel [data-group-id="group-yq-parameters"] .bio-properties-panel-add-entry')
    page.evaluate("([id]) => harness.bpmn.select(id)", [lane.get("id")])
    page.fill('#panel input[name="yq-lane-roles"]', "office_director,monitor")
    page.evaluate("([id]) => harness.bpmn.select(id)", [flow.get("id")])
    page.fill('#panel textarea[name="yq-condition-expression"]', 'confirmed_level in (1, 2)')
    _blur(page)
    screenshot(page, "modeler-edited-condition")

    saved = etree.fromstring(_save(page))
    task = saved.xpath("//*[@id=$id]", id=task_id)[0]
    written = task.find(f".//{_q('spiffworkflow:serviceTaskOperator')}")
    assert written.get("id") == "ledger" and written.get("resultVariable") == operator.get("resultVariable")
    ledger = catalogue["ledger"]["parameters"]
    required = [parameter["name"] for parameter in ledger if parameter["required"]]
    first_optional = next(parameter["name"] for parameter in ledger if not parameter["required"])
    rows = [(row.get("id"), row.get("value")) for row in written.iter(_q("spiffworkflow:parameter"))]
    assert rows == [*((name, "") for name in required), (first_optional, "")]
    roles = saved.xpath("//*[@id=$id]//*[local-name()='property'][@name='roles']", id=lane.get("id"))
    assert roles[0].get("value") == "office_director,monitor"
    condition = saved.xpath("//*[@id=$id]/*[local-name()='conditionExpression']", id=flow.get("id"))
    assert condition[0].text == "confirmed_level in (1, 2)"


@pytest.mark.browser
def test_mark_problems_and_highlight_put_markers_on_the_elements(page):
    path = PROCESSES / "yq_release.bpmn"
    task_id, _form, _ui = _first_user_task_with_form(path)
    assert _open(page, path) == []
    result = page.evaluate("""([id]) => harness.bpmn.markProblems([
        {element_id: id, message: '表单 ut_missing.schema.json 不存在'},
        {element_id: id, message: '缺少泳道角色'},
        {element_id: 'no_such_element', message: '不存在的元素'}])""", [task_id])
    assert result == {"marked": [task_id], "missing": ["no_such_element"]}
    shape = page.locator(f'#canvas .djs-element[data-element-id="{task_id}"]').first
    assert "el--problem" in shape.get_attribute("class")
    overlay = page.locator(".yq-problem-overlay")
    assert overlay.count() == 1 and "ut_missing.schema.json" in overlay.inner_text()
    assert "缺少泳道角色" in overlay.inner_text()
    screenshot(page, "modeler-problems")
    page.evaluate("harness.bpmn.clearProblems()")
    assert "el--problem" not in shape.get_attribute("class") and overlay.count() == 0

    result = page.evaluate("([id]) => harness.bpmn.highlight({added: [id], changed: ['gone'], removed: []})", [task_id])
    assert result == {"missing": ["gone"]}
    assert "diff--added" in shape.get_attribute("class")
    page.evaluate("harness.bpmn.highlight({})")
    assert "diff--added" not in shape.get_attribute("class")


@pytest.mark.browser
@pytest.mark.parametrize("path", DMN_FILES, ids=lambda path: path.name)
def test_every_decision_table_opens_in_the_dmn_modeler_and_exports(page, path):
    assert page.evaluate("([xml]) => harness.openDmn(xml)", [path.read_text(encoding="utf-8")]) == []
    page.locator("#dmn .tjs-table").wait_for()
    original = etree.parse(str(path)).getroot()
    exported = etree.fromstring(page.evaluate("harness.saveDmn()").encode("utf-8"))
    for tag in ("decision", "input", "output", "rule", "inputEntry", "outputEntry"):
        assert len(exported.findall(f".//{{{DMN}}}{tag}")) == len(original.findall(f".//{{{DMN}}}{tag}")), tag
    texts = [text.text for text in original.iter(f"{{{DMN}}}text")]
    assert [text.text for text in exported.iter(f"{{{DMN}}}text")] == texts
    screenshot(page, f"modeler-{path.stem}")
    page.evaluate("harness.dmn.destroy(); harness.dmn = null")


def test_the_bundle_has_no_eval_and_the_build_copies_everything_the_page_loads():
    build = _load_build_modeler()
    assert BUNDLE.is_file(), "run `make assets`"
    assert build.unexpected_dynamic_code(BUNDLE.read_text(encoding="utf-8")) == []
    css = (BUNDLE.parent / "modeler.css").read_text(encoding="utf-8")
    for font in build.FONTS.values():
        assert (BUNDLE.parent / font).is_file()
    assert "url('bpmn-font/font/bpmn.woff2" in css and "url('dmn-font/font/dmn.woff2" in css
    assert ".el--problem" in css and "//cdn" not in css
