"""Small XML helpers the import of other modellers' files shares: their namespaces, our extension
properties and lanes."""

from __future__ import annotations

from typing import Any

from lxml import etree

from app.engine.definitions import BPMN_NS, SPIFF_NS

B = f"{{{BPMN_NS}}}"
S = f"{{{SPIFF_NS}}}"
# the other modellers' extension namespaces
CAMUNDA = "http://camunda.org/schema/1.0/bpmn"
ZEEBE = "http://camunda.org/schema/zeebe/1.0"
FLOWABLE = "http://flowable.org/bpmn"
ACTIVITI = "http://activiti.org/bpmn"


def extension_elements(element: Any) -> Any:
    """The element's bpmn:extensionElements, created (after its documentation) when missing."""
    extensions = element.find(f"{B}extensionElements")
    if extensions is None:
        extensions = etree.Element(f"{B}extensionElements")
        documentation = element.find(f"{B}documentation")
        element.insert(1 if documentation is not None else 0, extensions)
    return extensions


def properties_of(element: Any) -> dict[str, str]:
    """spiffworkflow:property name → value of an element."""
    return {p.get("name"): p.get("value") for p in element.iter(f"{S}property")}


def set_property(element: Any, name: str, value: str) -> None:
    """Set (or replace) a spiffworkflow:property of an element."""
    extensions = extension_elements(element)
    holder = extensions.find(f"{S}properties")
    if holder is None:
        holder = etree.SubElement(extensions, f"{S}properties")
    for prop in holder.findall(f"{S}property"):
        if prop.get("name") == name:
            prop.set("value", value)
            return
    etree.SubElement(holder, f"{S}property", name=name, value=value)


def lane_roles(lane: Any) -> list[str]:
    """The role codes a lane names (`spiffworkflow:property name="roles"`)."""
    for prop in lane.iter(f"{S}property"):
        if prop.get("name") == "roles":
            return [r.strip() for r in (prop.get("value") or "").split(",") if r.strip()]
    return []
