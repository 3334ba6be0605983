"""Evaluate a DMN decision on its own (tests, the decision editor's preview), through the safe evaluator."""

from __future__ import annotations

from types import SimpleNamespace
from typing import Any

from SpiffWorkflow.dmn.engine.DMNEngine import DMNEngine

from app.engine.definitions import DefinitionError, Problem, kind_of, normalise_dmn_cells, parse_xml
from app.engine.scripting import SafeScriptEngine
from app.engine.specs import ProcessParser


def evaluate_decision(content: bytes, filename: str, decision_id: str, data: dict[str, Any]) -> dict[str, Any]:
    """The result of one decision table for `data` ({output: value}, lists under COLLECT)."""
    root = parse_xml(content, filename)
    if kind_of(root) != "dmn":
        raise DefinitionError([Problem(filename, None, "not a DMN file")])
    normalise_dmn_cells(root)
    parser = ProcessParser()
    parser.add_dmn_xml(root, filename=filename)
    if decision_id not in parser.dmn_parsers:
        raise DefinitionError([Problem(filename, decision_id, "no such decision")])
    dmn_parser = parser.dmn_parsers[decision_id]
    dmn_parser.parse()
    table = dmn_parser.decision.decisionTables[0]
    task = SimpleNamespace(data=dict(data), task_spec=SimpleNamespace(event_definition=None),
                           workflow=SimpleNamespace(script_engine=SafeScriptEngine()))
    return DMNEngine(table).result(task)
