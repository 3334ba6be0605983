"""Convert BPMN files made in other modellers (Camunda 7/8, Flowable, SpiffArena, bpmn.io) to ours.

What has a clear meaning here is converted: candidate groups to lanes with roles (import_lanes.py), the
assignee to the task's assignee expression, form keys and form fields to a form stub (import_forms.py),
due dates to due expressions, simple JUEL/FEEL conditions and bare timer literals to our expressions
(import_expressions.py). Everything else is kept as it was and listed, element by element, as not
converted: nothing is dropped in silence. A converted expression must pass the same checker as any
other (an unsafe one stays unconverted and is refused by the deploy checks). The file is parsed with
the hardened parser first; hostile files never get here.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

from lxml import etree

from app.engine import checker, import_forms, import_lanes
from app.engine.definitions import BPMN_NS, SPIFF_NS, parse_xml
from app.engine.import_expressions import convert_expression, convert_timer
from app.engine.import_xml import (
    ACTIVITI,
    CAMUNDA,
    FLOWABLE,
    ZEEBE,
    B,
    S,
    extension_elements,
    lane_roles,
    properties_of,
    set_property,
)

MODELER = "http://camunda.org/schema/modeler/1.0"
DIALECT_NAMESPACES = {CAMUNDA: "camunda7", ZEEBE: "camunda8", FLOWABLE: "flowable", ACTIVITI: "flowable"}
IGNORED_NAMESPACES = {MODELER, "http://www.w3.org/2001/XMLSchema-instance"}
TASK_KINDS = {"userTask", "manualTask"}


@dataclass(frozen=True)
class Note:
    """One line of the import report: an element, what happened to which construct."""

    element: str | None
    name: str
    code: str
    args: dict[str, Any]
    converted: bool


@dataclass
class Conversion:
    """A converted file: its dialect, new content, the report and the form stubs it needs."""

    dialect: str
    content: bytes
    notes: list[Note] = field(default_factory=list)
    forms: dict[str, dict[str, Any]] = field(default_factory=dict)

    @property
    def changed(self) -> bool:
        return bool(self.notes)


def detect(root: etree._Element) -> str:
    """camunda7, camunda8, flowable, spiffarena, bpmn (plain, e.g. bpmn.io) or native (ours)."""
    namespaces = {el.nsmap.get(p) for el in root.iter() if isinstance(el.tag, str) for p in el.nsmap} | {
        etree.QName(el).namespace for el in root.iter() if isinstance(el.tag, str)}
    for namespace, dialect in DIALECT_NAMESPACES.items():
        if namespace in namespaces:
            return dialect
    if SPIFF_NS in namespaces:
        return "spiffarena" if _spiffarena_marks(root) else "native"
    return "bpmn"


def _spiffarena_marks(root: etree._Element) -> bool:
    """SpiffArena's own constructs: end-user instructions, unit tests, connector operators, its form names."""
    if any(next(root.iter(f"{S}{tag}"), None) is not None for tag in ("instructionsForEndUser", "unitTests")):
        return True
    if any("/" in (op.get("id") or "") for op in root.iter(f"{S}serviceTaskOperator")):
        return True
    return any(p.get("name") == "formJsonSchemaFilename" and (p.get("value") or "").endswith("-schema.json")
               for p in root.iter(f"{S}property"))


def convert_bpmn(content: bytes, filename: str, role_labels: dict[str, str] | None = None) -> Conversion:
    """Convert a BPMN file; raises DefinitionError (hostile or malformed) as the deploy checks would.
    `role_labels` names the lanes made from candidate groups (role code → label)."""
    root = parse_xml(content, filename)
    dialect = detect(root)
    if dialect == "native" or etree.QName(root).namespace != BPMN_NS:
        return Conversion(dialect, content)
    root = _with_spiff_namespace(root)
    work = _Converter(root, dialect, role_labels or {})
    work.run()
    text = etree.tostring(root, xml_declaration=True, encoding="UTF-8")
    return Conversion(dialect, text, work.notes, work.forms)


def _with_spiff_namespace(root: etree._Element) -> etree._Element:
    if root.nsmap.get("spiffworkflow") == SPIFF_NS:
        return root
    fresh = etree.Element(root.tag, dict(root.attrib), nsmap={**root.nsmap, "spiffworkflow": SPIFF_NS})
    fresh.text = root.text
    for child in list(root):
        fresh.append(child)
    return fresh


class _Converter(import_forms.FormsMixin):
    def __init__(self, root: etree._Element, dialect: str, role_labels: dict[str, str]) -> None:
        self.root = root
        self.role_labels = role_labels
        self.dialect = dialect
        self.notes: list[Note] = []
        self.forms: dict[str, dict[str, Any]] = {}
        self.handled: set[tuple[Any, str]] = set()  # (element, attribute) pairs taken care of

    def note(self, element: Any, code: str, converted: bool, **args: Any) -> None:
        element_id = element.get("id") if element is not None else None
        name = (element.get("name") or "") if element is not None else ""
        self.notes.append(Note(element_id, name, code, args, converted))

    def take(self, element: Any, namespace_attr: str) -> str | None:
        """The value of a dialect attribute (camunda:x, flowable:x …), marked as handled."""
        for namespace in (CAMUNDA, FLOWABLE, ACTIVITI, ZEEBE):
            value = element.get(f"{{{namespace}}}{namespace_attr}")
            if value is not None:
                self.handled.add((element, f"{{{namespace}}}{namespace_attr}"))
                return value
        return None

    def run(self) -> None:
        for process in self.root.iter(f"{B}process"):
            if (process.get("isExecutable") or "false").lower() != "true":
                process.set("isExecutable", "true")
                self.note(process, "made_executable", True)
            groups: dict[str, list[Any]] = {}
            for element in list(process.iter()):
                if isinstance(element.tag, str) and etree.QName(element).namespace == BPMN_NS:
                    self._element(element, groups)
            for lane, created, roles in import_lanes.place_in_lanes(self.root, process, groups, self.role_labels):
                self.note(lane, "lane_created" if created else "lane_roles", True, roles=roles)
            self._leftovers(process)
        self._spiffarena()

    def _element(self, element: Any, groups: dict[str, list[Any]]) -> None:
        kind = etree.QName(element).localname
        if kind in TASK_KINDS:
            group = self._user_task(element)
            if group:
                groups.setdefault(group, []).append(element)
        elif kind in ("serviceTask", "sendTask", "receiveTask") or (
                kind == "businessRuleTask" and self._service_like(element)):
            self._service_task(element)
        handlers = {"businessRuleTask": self._business_rule, "callActivity": self._call_activity,
                    "scriptTask": self._script, "conditionExpression": self._condition,
                    "timeDuration": self._timer, "timeDate": self._timer, "timeCycle": self._timer}
        if kind in handlers:
            handlers[kind](element)

    # -- task kinds ---------------------------------------------------------------------------

    def _user_task(self, task: Any) -> str | None:
        assignee = self.take(task, "assignee")
        users = self.take(task, "candidateUsers")
        groups = self.take(task, "candidateGroups")
        assignment = _zeebe(task, "assignmentDefinition")
        if assignment is not None:
            self.handled.add((assignment, "*"))
            assignee = assignee or assignment.get("assignee")
            groups = groups or assignment.get("candidateGroups")
            users = users or assignment.get("candidateUsers")
        names = [u.strip() for u in (users or "").removeprefix("=").strip("[]").split(",") if u.strip()]
        if assignee is None and len(names) == 1:
            assignee, names = names[0].strip('"'), []
        if assignee is not None:
            self._assignee(task, assignee)
        if names:
            self.note(task, "candidate_users", False, users=users)
        schedule = _zeebe(task, "taskSchedule")
        if schedule is not None:
            self.handled.add((schedule, "*"))
        for attribute, code in (("dueDate", "due"), ("followUpDate", "follow_up")):
            value = self.take(task, attribute) or (schedule.get(attribute) if schedule is not None else None)
            if value:
                self._due(task, value, code)
        self.convert_form(task)
        if not groups:
            return None
        cleaned = [g.strip().strip('"') for g in groups.removeprefix("=").strip("[] ").split(",")]
        return ",".join(g for g in cleaned if g) or None

    def _assignee(self, task: Any, value: str) -> None:
        value = value.strip()
        if re.fullmatch(r"[A-Za-z0-9_.@-]{1,100}", value):
            set_property(task, "assignee", f'"{value}"')
            self.note(task, "assignee", True, value=value)
            return
        converted = convert_expression(value)
        if converted:
            set_property(task, "assignee", converted)
            self.note(task, "assignee", True, value=value)
        else:
            self.note(task, "assignee", False, value=value)

    def _due(self, task: Any, value: str, code: str) -> None:
        props = properties_of(task)
        if code == "follow_up" and "dueAt" in props:
            self.note(task, "follow_up", False, value=value)
            return
        body = value.strip()
        if re.fullmatch(r"P[0-9YMWDTHS]+", body):
            expression = f'add_duration(now(), "{body}")'
        elif re.fullmatch(r"\d{4}-\d\d-\d\dT[\d:.]+(Z|[+-]\d\d:?\d\d)", body):
            expression = f'"{body}"'
        else:
            expression = convert_expression(body) or ""
            expression = expression if re.fullmatch(r"[A-Za-z]\w*", expression) else ""
        if expression:
            set_property(task, "dueAt", expression)
            self.note(task, code, True, value=value, expression=expression)
        else:
            self.note(task, code, False, value=value)

    def _service_like(self, element: Any) -> bool:
        return any(self.take(element, a) is not None for a in ("class", "delegateExpression", "expression"))

    def _service_task(self, element: Any) -> None:
        found = [a for a in ("class", "delegateExpression", "expression", "type", "topic")
                 if self.take(element, a) is not None]
        definition = _zeebe(element, "taskDefinition")
        if definition is not None:
            self.handled.add((definition, "*"))
            found.append(f"zeebe:taskDefinition type={definition.get('type')}")
        if found:
            self.note(element, "service_impl", False, what=", ".join(found))

    def _business_rule(self, element: Any) -> None:
        decision = self.take(element, "decisionRef")
        called = _zeebe(element, "calledDecision")
        if called is not None:
            self.handled.add((called, "*"))
            decision = decision or called.get("decisionId")
            if called.get("resultVariable"):
                self.note(element, "result_variable", False, value=called.get("resultVariable"))
        if decision:
            extensions = extension_elements(element)
            ref = extensions.find(f"{S}calledDecisionId")
            if ref is None:
                ref = etree.SubElement(extensions, f"{S}calledDecisionId")
            ref.text = decision
            self.note(element, "decision", True, decision=decision)
        result = self.take(element, "resultVariable")
        if result:
            self.note(element, "result_variable", False, value=result)
        self.take(element, "mapDecisionResult")

    def _call_activity(self, element: Any) -> None:
        called = _zeebe(element, "calledElement")
        if called is not None:
            self.handled.add((called, "*"))
            if called.get("processId"):
                element.set("calledElement", called.get("processId"))
                self.note(element, "called_process", True, process=called.get("processId"))

    def _script(self, element: Any) -> None:
        language = (element.get("scriptFormat") or "python").lower()
        script = _zeebe(element, "script")
        if script is not None:
            self.handled.add((script, "*"))
            language = "feel"
        if language not in ("python", "text/x-python"):
            self.note(element, "script_language", False, language=language)

    def _condition(self, node: Any) -> None:
        text = (node.text or "").strip()
        flow = node.getparent()
        language = (node.get("language") or "").lower()
        if language and language not in ("python", "juel", "feel", "http://www.omg.org/spec/feel/20140401"):
            self.note(flow, "condition", False, value=text)
            return
        if not text or not checker.check_expression(text):
            return  # already ours
        converted = convert_expression(text)
        if converted:
            node.text = converted
            node.attrib.pop("language", None)
            self.note(flow, "condition", True, value=text, expression=converted)
        else:
            self.note(flow, "condition", False, value=text)

    def _timer(self, node: Any) -> None:
        text = (node.text or "").strip()
        converted = convert_timer(text)
        event = node.getparent().getparent()
        if converted is None:
            self.note(event, "timer", False, value=text)
        elif converted != text:
            node.text = converted
            self.note(event, "timer", True, value=text, expression=converted)

    # -- what is left ---------------------------------------------------------------------------

    def _leftovers(self, process: Any) -> None:
        """Every attribute or extension of another modeller's namespace not converted above is reported."""
        for element in process.iter():
            if not isinstance(element.tag, str):
                continue
            owner = _owner(element)
            for attribute in element.attrib:
                namespace = etree.QName(attribute).namespace
                if namespace in DIALECT_NAMESPACES and (element, attribute) not in self.handled:
                    what = f"{_prefix(namespace)}:{etree.QName(attribute).localname}"
                    self.note(owner, "attribute", False, what=what, value=element.get(attribute))
            namespace = etree.QName(element).namespace
            parent = element.getparent()
            if (namespace in DIALECT_NAMESPACES and (element, "*") not in self.handled
                    and parent is not None and etree.QName(parent).localname == "extensionElements"):
                self.note(owner, "extension", False, what=f"{_prefix(namespace)}:{etree.QName(element).localname}")

    def _spiffarena(self) -> None:
        if self.dialect != "spiffarena":
            return
        for instructions in list(self.root.iter(f"{S}instructionsForEndUser")):
            task = _owner(instructions)
            if task.find(f"{B}documentation") is None and (instructions.text or "").strip():
                documentation = etree.Element(f"{B}documentation")
                documentation.text = instructions.text
                task.insert(0, documentation)
                self.note(task, "instructions", True)
        tasks = {t.get("id") for kind in TASK_KINDS for t in self.root.iter(f"{B}{kind}")}
        for lane in self.root.iter(f"{B}lane"):
            if not lane_roles(lane) and any(ref.text in tasks for ref in lane.findall(f"{B}flowNodeRef")):
                self.note(lane, "lane_without_roles", False, lane=lane.get("name") or lane.get("id"))


def _prefix(namespace: str | None) -> str:
    return {CAMUNDA: "camunda", ZEEBE: "zeebe", FLOWABLE: "flowable", ACTIVITI: "activiti"}.get(namespace or "", "")


def _owner(element: Any) -> Any:
    """The flow element (task, event, flow, lane, process) an attribute or extension belongs to."""
    node = element
    while node is not None:
        if etree.QName(node).namespace == BPMN_NS and node.get("id") and etree.QName(node).localname not in (
                "extensionElements", "conditionExpression"):
            return node
        node = node.getparent()
    return element


def _zeebe(element: Any, name: str) -> Any:
    extensions = element.find(f"{B}extensionElements")
    return extensions.find(f"{{{ZEEBE}}}{name}") if extensions is not None else None
