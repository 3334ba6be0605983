"""Conversion of other modellers' expressions and files: clear meanings converted, nothing unsafe let in."""

from __future__ import annotations

import pytest

from app.engine.definitions import parse_xml
from app.engine.import_dmn import convert_cell
from app.engine.import_expressions import convert_expression, convert_timer
from app.engine.importing import convert_bpmn, detect
from tests.conftest import ROOT

FIXTURES = ROOT / "tests" / "fixtures" / "modellers"


@pytest.mark.parametrize(("text", "ours"), [
    ("${a == true}", "a == True"),
    ("${x > 5}", "x > 5"),
    ("a and b", "a and b"),
    ("= x > 5", "x > 5"),
    ("=approved = true", "approved == True"),
    ("${!rejected && amount >= 100}", "not rejected and amount >= 100"),
    ("${status eq 'ok' || level lt 3}", "status == 'ok' or level < 3"),
    ("${reason == null}", "reason == None"),
    ("#{approved}", "approved"),
])
def test_simple_conditions_are_converted(text: str, ours: str) -> None:
    assert convert_expression(text) == ours


@pytest.mark.parametrize("text", [
    "${execution.getVariable('x')}", "${x.class}", "${__import__('os')}", "${_secret}", "${empty list}",
    "${a ? b : c}", "${x.y}", "${'a' * 100}", "${9999999999999999999999 > 1}", "",
])
def test_unsafe_or_unclear_expressions_are_not_converted(text: str) -> None:
    assert convert_expression(text) is None


@pytest.mark.parametrize(("text", "ours"), [
    ("PT2H", '"PT2H"'), ("R3/PT1H", '"R3/PT1H"'), ("${delay}", "delay"), ("'PT1M'", "'PT1M'"),
    ("2026-01-01T08:00:00+08:00", '"2026-01-01T08:00:00+08:00"'), ("${now().plusDays(1)}", None),
])
def test_timers_are_quoted_or_left_for_the_owner(text: str, ours: str | None) -> None:
    assert convert_timer(text) == ours


@pytest.mark.parametrize(("name", "dialect"), [
    ("camunda7_report.bpmn", "camunda7"), ("camunda8_release.bpmn", "camunda8"),
    ("flowable_verify.bpmn", "flowable"), ("bpmnio_notice.bpmn", "bpmn"),
])
def test_the_modeller_is_detected(name: str, dialect: str) -> None:
    assert detect(parse_xml((FIXTURES / name).read_bytes(), name)) == dialect


def test_our_own_processes_are_left_exactly_as_they_are() -> None:
    for path in sorted((ROOT / "processes").glob("*.bpmn")):
        conversion = convert_bpmn(path.read_bytes(), path.name)
        assert (conversion.dialect, conversion.notes, conversion.content) == ("native", [], path.read_bytes())


def test_spiffarena_instructions_become_documentation_and_roleless_lanes_are_reported() -> None:
    spiff = (b'<?xml version="1.0" encoding="UTF-8"?><bpmn:definitions xmlns:bpmn="http://www.omg.org/spec/BPMN/'
             b'20100524/MODEL" xmlns:spiffworkflow="http://spiffworkflow.org/bpmn/schema/1.0/core" id="d" '
             b'targetNamespace="http://x"><bpmn:process id="p" isExecutable="true"><bpmn:laneSet id="ls">'
             b'<bpmn:lane id="lane_a" name="Finance Team"><bpmn:flowNodeRef>ut</bpmn:flowNodeRef></bpmn:lane>'
             b'</bpmn:laneSet><bpmn:userTask id="ut"><bpmn:extensionElements><spiffworkflow:instructionsForEndUser>'
             b"Check the invoice</spiffworkflow:instructionsForEndUser></bpmn:extensionElements></bpmn:userTask>"
             b"</bpmn:process></bpmn:definitions>")
    conversion = convert_bpmn(spiff, "s.bpmn")
    assert conversion.dialect == "spiffarena"
    assert [(n.element, n.code, n.converted) for n in conversion.notes] == [
        ("ut", "instructions", True), ("lane_a", "lane_without_roles", False)]
    assert b"<bpmn:documentation>Check the invoice</bpmn:documentation>" in conversion.content


@pytest.mark.parametrize(("cell", "ours"), [
    ("[1..5]", "? >= 1 and ? <= 5"), ("]1..5[", "? > 1 and ? < 5"), ('"a","b"', '? in ("a", "b",)'),
    ('not("a")', '? not in ("a",)'), ('"a"', None), (">= 5", None), ("-", None), ("x.__class__", None),
    ('date("2020-01-01")', None), ('"a",x.__class__', None),
])
def test_feel_input_cells_are_converted_only_where_clear_and_safe(cell: str, ours: str | None) -> None:
    assert convert_cell(cell) == ours
