"""Checks of a DMN file on its own: each problem names the decision, the rule and the cell concerned.

Every decision of the file is checked whether or not a diagram calls it; the cells go through the
same allow-list checker the evaluator uses at run time. Findings are (element id, code, args,
English reason): the element is the cell's id (`inputEntry` / `outputEntry`), the input's id, or the
decision's id, so the table editor can mark exactly what is wrong.
"""

from __future__ import annotations

from typing import Any

from lxml import etree
from SpiffWorkflow.exceptions import SpiffWorkflowException

from app.engine import checker

HIT_POLICIES = ("UNIQUE", "FIRST", "PRIORITY", "ANY", "COLLECT", "RULE ORDER", "OUTPUT ORDER")
Finding = tuple[str | None, str, dict[str, Any], str]


def _local(element: Any) -> str:
    return etree.QName(element).localname if isinstance(element.tag, str) else ""


def _children(element: Any, name: str) -> list[Any]:
    return [child for child in element if _local(child) == name]


def _text(element: Any) -> str:
    node = next(iter(_children(element, "text")), None)
    return (node.text or "").strip() if node is not None else ""


def check_dmn(root: Any) -> list[Finding]:
    """Every problem of every decision of a parsed DMN document."""
    findings: list[Finding] = []
    decisions = _children(root, "decision")
    if not decisions:
        findings.append((root.get("id"), "dmn_no_decision", {}, "the file holds no decision"))
    for decision in decisions:
        findings.extend(_check_decision(decision))
    return findings


def _check_decision(decision: Any) -> list[Finding]:
    decision_id = decision.get("id")
    args: dict[str, Any] = {"decision": decision.get("name") or decision_id}
    findings: list[Finding] = []
    tables = _children(decision, "decisionTable")
    if _children(decision, "informationRequirement"):
        findings.append((decision_id, "dmn_requirement", args,
                         "decisions that require other decisions are not supported; call each table from "
                         "its own business rule task"))
    if not tables:
        kind = next((_local(c) for c in decision if _local(c) not in ("description", "extensionElements",
                                                                          "informationRequirement",
                                                                          "authorityRequirement",
                                                                          "knowledgeRequirement", "variable")), "")
        findings.append((decision_id, "dmn_no_table", {**args, "kind": kind or "-"},
                         f"decision is not a decision table ({kind or 'empty'})"))
        return findings
    if len(tables) > 1:
        findings.append((decision_id, "dmn_tables", args, "a decision holds one decision table"))
    return findings + _check_table(tables[0], args)


def _check_table(table: Any, args: dict[str, Any]) -> list[Finding]:
    findings: list[Finding] = []
    policy = (table.get("hitPolicy") or "UNIQUE").upper()
    if policy not in HIT_POLICIES:
        findings.append((table.get("id"), "dmn_hit_policy", {**args, "policy": policy},
                         f"unknown hit policy {policy}"))
    inputs = _children(table, "input")
    outputs = _children(table, "output")
    for column in inputs:
        expression = next(iter(_children(column, "inputExpression")), None)
        text = _text(expression) if expression is not None else ""
        label = column.get("label") or column.get("id")
        if not text:
            findings.append((column.get("id"), "dmn_input_empty", {**args, "column": label},
                             f"input '{label}' has no expression"))
            continue
        findings += [(column.get("id"), "dmn_input", {**args, "column": label, "detail": str(p)},
                      f"decision input '{label}': {p}") for p in checker.check_expression(text)]
    for column in outputs:
        if not (column.get("name") or column.get("label")):
            findings.append((column.get("id"), "dmn_output_name", args, "output has no name"))
    for number, rule in enumerate(_children(table, "rule"), start=1):
        findings += _check_rule(rule, number, inputs, outputs, args)
    return findings


def _check_rule(rule: Any, number: int, inputs: list[Any], outputs: list[Any], args: dict[str, Any]
                ) -> list[Finding]:
    findings: list[Finding] = []
    entries_in, entries_out = _children(rule, "inputEntry"), _children(rule, "outputEntry")
    if len(entries_in) != len(inputs) or len(entries_out) != len(outputs):
        findings.append((rule.get("id"), "dmn_rule_cells", {**args, "rule": number},
                         f"rule {number} has {len(entries_in)}/{len(entries_out)} cells for "
                         f"{len(inputs)}/{len(outputs)} columns"))
    for side, entries, columns in (("input", entries_in, inputs), ("output", entries_out, outputs)):
        for index, entry in enumerate(entries):
            text = _text(entry)
            if not text or (side == "input" and text == "-"):
                continue
            column = columns[index] if index < len(columns) else None
            label = (column.get("label") or column.get("name") or column.get("id")) if column is not None else "?"
            cell = text.replace("?", "dmninputexpr") if side == "input" else text
            for problem in checker.check_expression(cell):
                findings.append((entry.get("id") or rule.get("id"), f"dmn_{side}_cell",
                                 {**args, "rule": number, "column": label, "detail": str(problem)},
                                 f"decision rule {number} {side}: {problem}"))
    return findings


def check_parsed(parsers: dict[str, Any], file_of_decision: dict[str, str]
                 ) -> list[tuple[str, str, str, dict[str, Any], str]]:
    """(file, decision id, code, args, reason) for every text SpiffWorkflow's parse of each decision
    would evaluate and the checker refuses: the safety net under `check_dmn`, which reads the XML the
    way a person does (SpiffWorkflow matches element names more loosely)."""
    found: list[tuple[str, str, str, dict[str, Any], str]] = []
    for decision_id, dmn_parser in parsers.items():
        filename = file_of_decision.get(decision_id, "")
        try:
            dmn_parser.parse()
        except (SpiffWorkflowException, etree.LxmlError, KeyError, IndexError, AttributeError, TypeError,
                ValueError) as exc:
            detail = str(exc) or type(exc).__name__
            found.append((filename, decision_id, "parser", {"detail": detail}, detail))
            continue
        for table in dmn_parser.decision.decisionTables:
            for label, text in _table_texts(table):
                found += [(filename, decision_id, "dmn_hidden", {"decision": decision_id, "detail": f"{label}: {p}"},
                           f"{label}: {p}") for p in checker.check_expression(text)]
    return found


def _table_texts(table: Any) -> list[tuple[str, str]]:
    found = [(f"decision input '{i.label or i.id}'", i.expression) for i in table.inputs if i.expression]
    for rule in table.rules:
        for entry in rule.inputEntries:
            for cell in entry.lhs:
                if cell:
                    found.append((f"decision rule {rule.row_number} input", cell.replace("?", "dmninputexpr")))
        for entry in rule.outputEntries:
            if entry.text:
                found.append((f"decision rule {rule.row_number} output", entry.text))
    return found
