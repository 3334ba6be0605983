"""Convert DMN files made in other modellers (Camunda's FEEL cells) to our cell language.

Input cells written in FEEL that have a clear meaning here are rewritten with `?` standing for the
input: ranges `[1..5]` → `? >= 1 and ? <= 5`, lists `"a","b"` → `? in ("a", "b")`, negations
`not("a")` → `? not in ("a",)`. A rewritten cell must pass the expression checker; anything else is
left as it was and reported, as are Camunda's own attributes (`camunda:inputVariable` …).
"""

from __future__ import annotations

import re

from lxml import etree

from app.engine import checker
from app.engine.definitions import parse_xml
from app.engine.import_xml import CAMUNDA
from app.engine.importing import Conversion, Note

CAMUNDA_DMN = "http://camunda.org/schema/1.0/dmn"
OWN = (CAMUNDA, CAMUNDA_DMN)

_NUMBER = r"-?\d+(?:\.\d+)?"
_LITERAL = rf'(?:"[^"\\]*"|{_NUMBER}|true|false)'
_RANGE = re.compile(rf"^([\[\]])\s*({_NUMBER})\s*\.\.\s*({_NUMBER})\s*([\[\]])$")
_LIST = re.compile(rf"^{_LITERAL}(?:\s*,\s*{_LITERAL})*$")
_NOT = re.compile(r"^not\s*\((.*)\)$")
_OPERATOR = re.compile(r"^\s*(not\s+in\b|in\b|[<>]=?|==|!=)")


def _ours(text: str) -> bool:
    """Is an input cell already acceptable here (as the deploy checks read it)?"""
    return not checker.check_expression(text.replace("?", "dmninputexpr"))


def _values(text: str) -> str:
    return ", ".join(part.strip().replace("true", "True").replace("false", "False")
                     for part in re.findall(rf"{_LITERAL}", text))


def convert_cell(text: str) -> str | None:
    """Our form of a FEEL input cell, or None (already ours, or no clear meaning)."""
    cell = (text or "").strip()
    if not cell or cell == "-" or _OPERATOR.match(cell):
        return None
    converted = None
    found = _RANGE.match(cell)
    negated = _NOT.match(cell)
    if found:
        low = ">=" if found.group(1) == "[" else ">"
        high = "<=" if found.group(4) == "]" else "<"
        converted = f"? {low} {found.group(2)} and ? {high} {found.group(3)}"
    elif _LIST.match(cell) and "," in cell:  # a FEEL list means "one of", not a tuple
        converted = f"? in ({_values(cell)},)"
    elif negated and _LIST.match(negated.group(1).strip()):
        converted = f"? not in ({_values(negated.group(1))},)"
    return converted if converted and _ours(converted) else None


def convert_dmn(content: bytes, filename: str) -> Conversion:
    """Convert a DMN file's FEEL input cells; report what stays as it was."""
    root = parse_xml(content, filename)
    namespaces = {el.nsmap.get(p) for el in root.iter() if isinstance(el.tag, str) for p in el.nsmap}
    dialect = "camunda7" if namespaces & set(OWN) else "dmn"
    notes: list[Note] = []
    for element in root.iter():
        if not isinstance(element.tag, str):
            continue
        owner_id, owner_name = element.get("id"), element.get("label") or element.get("name") or ""
        for attribute, value in element.attrib.items():
            if etree.QName(attribute).namespace in OWN:
                notes.append(Note(owner_id, owner_name, "attribute", {
                    "what": f"camunda:{etree.QName(attribute).localname}", "value": value}, False))
        if etree.QName(element).localname != "inputEntry":
            continue
        text_node = next((c for c in element if isinstance(c.tag, str) and etree.QName(c).localname == "text"), None)
        if text_node is None or not (text_node.text or "").strip():
            continue
        original = text_node.text.strip()
        converted = convert_cell(original)
        if converted:
            text_node.text = converted
            notes.append(Note(owner_id, "", "cell", {"value": original, "expression": converted}, True))
        elif not _ours(original) and not _OPERATOR.match(original):
            notes.append(Note(owner_id, "", "cell", {"value": original}, False))
    if not notes:
        return Conversion("native" if dialect == "dmn" else dialect, content)
    return Conversion(dialect, etree.tostring(root, xml_declaration=True, encoding="UTF-8"), notes)
