"""Element-by-element differences between two versions of a BPMN file (for the visual diff).

Elements are matched by id. An element is "changed" when its name, type, attributes, condition,
timer, documentation or `spiffworkflow:` extension values differ; the differing properties are
listed. Diagram layout (BPMNDI) is ignored: moving a shape is not a change of the process.
"""

from __future__ import annotations

from typing import Any

from lxml import etree

from app.engine.definitions import BPMN_NS, parse_xml

SKIPPED = {"incoming", "outgoing", "flowNodeRef", "laneSet", "lane", "definitions", "process", "collaboration",
           "participant", "extensionElements", "properties", "property", "serviceTaskOperator", "parameters",
           "parameter", "conditionExpression", "documentation", "timeDuration", "timeDate", "timeCycle",
           "timerEventDefinition", "messageEventDefinition", "escalationEventDefinition", "script",
           "loopCardinality", "multiInstanceLoopCharacteristics", "signalEventDefinition"}


def diff_bpmn(before: bytes, after: bytes) -> dict[str, Any]:
    """{"added": [...], "removed": [...], "changed": [{"id", "name", "type", "properties": [...]}]}"""
    old, new = _elements(parse_xml(before, "before.bpmn")), _elements(parse_xml(after, "after.bpmn"))
    added = [_summary(new[key]) for key in sorted(set(new) - set(old))]
    removed = [_summary(old[key]) for key in sorted(set(old) - set(new))]
    changed = []
    for key in sorted(set(old) & set(new)):
        properties = _differences(_properties(old[key]), _properties(new[key]))
        if properties:
            changed.append({**_summary(new[key]), "properties": properties})
    return {"added": added, "removed": removed, "changed": changed}


def _elements(root: etree._Element) -> dict[str, etree._Element]:
    found = {}
    for element in root.iter():
        if not isinstance(element.tag, str):
            continue
        qname = etree.QName(element)
        if qname.namespace != BPMN_NS:  # diagram layout (DI) and extension elements are not elements
            continue
        if qname.localname in SKIPPED and qname.localname not in ("lane", "participant"):
            continue
        element_id = element.get("id")
        if element_id:
            found[element_id] = element
    return found


def _summary(element: etree._Element) -> dict[str, Any]:
    return {"id": element.get("id"), "name": element.get("name") or "", "type": etree.QName(element).localname}


def _properties(element: etree._Element) -> dict[str, str]:
    """Everything about an element that matters to how it runs, as flat key → text."""
    props: dict[str, str] = {"type": etree.QName(element).localname}
    props.update({f"@{etree.QName(key).localname}": value for key, value in element.attrib.items()})
    for child in element.iter():
        if child is element or not isinstance(child.tag, str):
            continue
        qname = etree.QName(child)
        if qname.localname in ("incoming", "outgoing", "flowNodeRef"):
            continue
        if child.get("id") and child.get("id") != element.get("id") and qname.namespace == BPMN_NS \
                and qname.localname not in SKIPPED:
            continue  # a nested element with its own id is compared on its own
        path = _path(element, child)
        text = (child.text or "").strip()
        if text:
            props[path] = text
        for key, value in child.attrib.items():
            if etree.QName(key).localname != "id":
                props[f"{path}@{etree.QName(key).localname}"] = value
    return props


def _path(top: etree._Element, element: etree._Element) -> str:
    parts = []
    node = element
    while node is not None and node is not top:
        name = etree.QName(node).localname
        if name == "property" and node.get("name"):
            name = f"property[{node.get('name')}]"
        elif name == "parameter" and node.get("id"):
            name = f"parameter[{node.get('id')}]"
        parts.append(name)
        node = node.getparent()
    return "/".join(reversed(parts))


def _differences(before: dict[str, str], after: dict[str, str]) -> list[dict[str, str | None]]:
    return [{"property": key, "before": before.get(key), "after": after.get(key)}
            for key in sorted(set(before) | set(after)) if before.get(key) != after.get(key)]
