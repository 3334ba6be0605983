"""Deploy checks as a process owner meets them: every problem at once, valid BPMN/DMN accepted,
DMN checked on its own with problems on its decision, rule and cell, no internal error text."""

from __future__ import annotations

import pytest
from diagrams import (
    DMN_NS,
    bundle,
    business_rule,
    chain,
    definitions,
    dmn,
    end,
    flow,
    load,
    process,
    script_task,
    start,
    timer_catch,
    user_task,
)

from app.engine import decisions, runner
from app.engine.definitions import DefinitionError, Problem, compile_bundle


def problems_of(files: dict[str, bytes]) -> list[Problem]:
    with pytest.raises(DefinitionError) as refused:
        compile_bundle(files)
    return refused.value.problems


def test_fractional_seconds_are_a_valid_timer() -> None:
    files = bundle(start(), timer_catch("tc", "timeDuration", "'PT0.2S'"), user_task("ut"), end(),
                   chain("start", "tc", "ut", "end"))
    assert "p" in compile_bundle(files)


def test_an_event_sub_process_is_not_unconnected() -> None:
    event_sub = ('<bpmn:subProcess id="esp" triggeredByEvent="true">'
                 '<bpmn:startEvent id="es"><bpmn:messageEventDefinition messageRef="Message_stop"/></bpmn:startEvent>'
                 f'{user_task("ut_stop")}<bpmn:endEvent id="ee"/>{chain("es", "ut_stop", "ee")}</bpmn:subProcess>')
    files = bundle(start(), user_task("ut"), end(), chain("start", "ut", "end"), event_sub, messages=("stop",))
    assert "p" in compile_bundle(files)


def test_a_path_may_end_without_an_end_event() -> None:
    files = bundle(start(), user_task("ut"), flow("start", "ut"))
    spec = load(files)
    first = runner.start(spec, {})
    assert [t.spec_id for t in first.ready] == ["ut"]
    assert runner.complete(spec, first.state, first.ready[0].guid, {}).ended


def test_a_non_executable_process_is_reported_not_silently_left_out() -> None:
    files = bundle(start(), user_task("ut"), end(), chain("start", "ut", "end"), executable=False)
    [problem] = problems_of(files)
    assert (problem.file, problem.element, problem.code) == ("p.bpmn", "p", "not_executable")


def test_a_decision_nobody_calls_is_checked_cell_by_cell() -> None:
    files = {"d.dmn": dmn("d1", ["a"], ["o"], [(['"x"'], ['"y"']), (["().__class__"], ["open('f')"])])}
    found = {(p.file, p.element, p.code) for p in problems_of(files)}
    assert found == {("d.dmn", "r1i0", "dmn_input_cell"), ("d.dmn", "r1o0", "dmn_output_cell")}
    cell = next(p for p in problems_of(files) if p.element == "r1i0")
    assert cell.args["rule"] == 2 and cell.args["decision"] == "d1" and cell.args["column"] == "in_0"


def test_one_bad_cell_is_one_problem_whatever_calls_the_table() -> None:
    callers = [process(start(), business_rule("br", "d1"), user_task("ut"), end(), chain("start", "br", "ut", "end"),
                       pid=f"p{n}") for n in range(3)]
    files = {f"p{n}.bpmn": definitions(callers[n]) for n in range(3)}
    files["d.dmn"] = dmn("d1", ["a"], ["o"], [(["().__class__"], ['"y"'])])
    problems = problems_of(files)
    assert [(p.file, p.element) for p in problems] == [("d.dmn", "r0i0")]


PREFIXED = f"""<?xml version="1.0" encoding="UTF-8"?>
<dmn:definitions xmlns:dmn="{DMN_NS}" xmlns="http://camunda.org/schema/1.0/dmn" id="defs" name="D"
  namespace="http://camunda.org/schema/1.0/dmn">
  <dmn:decision id="dish" name="Dish">
    <dmn:decisionTable id="dt" hitPolicy="FIRST">
      <dmn:input id="in1" label="Season"><dmn:inputExpression id="ie1" typeRef="string">
        <dmn:text>season</dmn:text></dmn:inputExpression></dmn:input>
      <dmn:output id="out1" label="Dish" name="dish" typeRef="string"/>
      <dmn:rule id="r1"><dmn:inputEntry id="r1i"><dmn:text>"Winter"</dmn:text></dmn:inputEntry>
        <dmn:outputEntry id="r1o"><dmn:text>"Roastbeef"</dmn:text></dmn:outputEntry></dmn:rule>
    </dmn:decisionTable>
  </dmn:decision>
</dmn:definitions>""".encode()


def test_a_dmn_with_prefixed_namespace_and_another_default_is_read() -> None:
    files = {**bundle(start(), business_rule("br", "dish"), user_task("ut"), end(), chain("start", "br", "ut", "end")),
             "dish.dmn": PREFIXED}
    assert "p" in compile_bundle(files)
    assert decisions.evaluate_decision(PREFIXED, "dish.dmn", "dish", {"season": "Winter"}) == {"dish": "Roastbeef"}


def _two_decisions(namespace: str, second_cell: str) -> bytes:
    def table(did: str, cell: str) -> str:
        return (f'<decision id="{did}" name="{did}"><decisionTable id="dt_{did}" hitPolicy="FIRST">'
                f'<input id="in_{did}" label="x"><inputExpression id="ie_{did}" typeRef="integer"><text>x</text>'
                f'</inputExpression></input><output id="out_{did}" label="y" name="y_{did}" typeRef="string"/>'
                f'<rule id="r_{did}"><inputEntry id="ri_{did}"><text>{cell}</text></inputEntry>'
                f'<outputEntry id="ro_{did}"><text>"big"</text></outputEntry></rule></decisionTable></decision>')
    return (f'<?xml version="1.0" encoding="UTF-8"?>\n<definitions xmlns="{namespace}" id="defs" name="D" '
            f'namespace="http://x">{table("first", "&gt; 5")}{table("second", second_cell)}</definitions>').encode()


@pytest.mark.parametrize("namespace", [DMN_NS, "http://www.omg.org/spec/DMN/20180521/MODEL/",
                                       "http://www.omg.org/spec/DMN/20151101/dmn.xsd"])
def test_every_decision_of_a_multi_decision_file_can_be_called(namespace: str) -> None:
    files = {**bundle(start(), business_rule("br", "second"), user_task("ut"), end(),
                      chain("start", "br", "ut", "end")), "two.dmn": _two_decisions(namespace, "&lt;= 5")}
    spec = load(files)
    assert runner.start(spec, {"x": 3}).ready[0].data["y_second"] == "big"


def test_a_bad_cell_in_the_second_decision_is_found() -> None:
    files = {"two.dmn": _two_decisions(DMN_NS, "x.__class__")}
    assert [(p.element, p.code) for p in problems_of(files)] == [("ri_second", "dmn_input_cell")]


def test_a_decision_that_is_not_a_table_is_a_problem_not_a_traceback() -> None:
    literal = (f'<definitions xmlns="{DMN_NS}" id="defs" name="D" namespace="http://x"><decision id="lit" name="L">'
               '<literalExpression id="le"><text>1 + 1</text></literalExpression></decision></definitions>').encode()
    files = {**bundle(start(), business_rule("br", "lit"), user_task("ut"), end(), chain("start", "br", "ut", "end")),
             "lit.dmn": literal}
    problems = problems_of(files)
    assert ("lit.dmn", "lit", "dmn_no_table") in {(p.file, p.element, p.code) for p in problems}


def test_a_missing_decision_is_reported_on_the_task_that_calls_it() -> None:
    files = bundle(start(), business_rule("br", "nowhere"), user_task("ut"), end(), chain("start", "br", "ut", "end"))
    [problem] = problems_of(files)
    assert (problem.element, problem.code) == ("br", "parser")


def test_our_checks_run_even_where_the_parser_stops() -> None:
    broken = bundle(start(), business_rule("br", "nowhere"), user_task("ut"), end(),
                    chain("start", "br", "ut", "end"), name="a.bpmn")
    unsafe = bundle(start(), script_task("sc", "import os"), end(), chain("start", "sc", "end"), name="b.bpmn",
                    pid="q")
    gateway_xml = bundle(start(), '<bpmn:exclusiveGateway id="g"/>', flow("start", "g"), name="c.bpmn", pid="r")
    found = {(p.file, p.element) for p in problems_of({**broken, **unsafe, **gateway_xml})}
    assert {("a.bpmn", "br"), ("b.bpmn", "sc"), ("c.bpmn", "g")} <= found


@pytest.mark.parametrize("rule", [
    # a second <text> in a cell: SpiffWorkflow evaluates the last one
    '<rule id="r"><inputEntry id="ri"><text>"x"</text></inputEntry><outputEntry id="ro"><text>"y"</text>'
    "<text>open('/etc/passwd')</text></outputEntry></rule>",
    # an element SpiffWorkflow takes for an input entry because its name ends so
    '<rule id="r"><inputEntry id="ri"><text>"x"</text></inputEntry><outputEntry id="ro"><text>"y"</text></outputEntry>'
    '<x:fakeinputEntry xmlns:x="urn:x" id="f"><text>().__class__</text></x:fakeinputEntry></rule>',
])
@pytest.mark.parametrize("namespace", [DMN_NS, "http://www.omg.org/spec/DMN/20180521/MODEL/"])
def test_cells_hidden_from_a_plain_reading_are_still_refused(rule: str, namespace: str) -> None:
    # DMN 1.3 files are also refused by the schema; DMN 1.2 ones (no usable schema) by the safety net.
    table = (f'<definitions xmlns="{namespace}" id="defs" name="D" namespace="http://x"><decision id="d1" name="d1">'
             '<decisionTable id="dt" hitPolicy="FIRST"><input id="in" label="a"><inputExpression id="ie" '
             'typeRef="string"><text>a</text></inputExpression></input><output id="out" name="o" typeRef="string"/>'
             f"{rule}</decisionTable></decision></definitions>").encode()
    files = {**bundle(start(), business_rule("br", "d1"), user_task("ut"), end(), chain("start", "br", "ut", "end")),
             "d.dmn": table}
    reasons = [p.reason for p in problems_of(files) if p.file == "d.dmn"]
    assert any(word in r for r in reasons for word in ("not in the registry", "attribute access", "not expected",
                                                        "out of range")), reasons


def test_an_unconnected_element_is_checked_like_a_connected_one() -> None:
    """What no start event reaches is left out by SpiffWorkflow's parser: its settings are still checked,
    so 校验 lists what the modeller's live lint shows, not only "no incoming flow"."""
    files = bundle(start(), user_task("ut"), end(), chain("start", "ut", "end"),
                   '<bpmn:serviceTask id="st_loose" name="通知"/>',
                   '<bpmn:intermediateCatchEvent id="tc_empty"><bpmn:timerEventDefinition/>'
                   '</bpmn:intermediateCatchEvent>',
                   timer_catch("tc_bad", "timeDuration", "'P1X'"),
                   '<bpmn:businessRuleTask id="br_loose"/>', '<bpmn:callActivity id="ca_loose"/>')
    found = {(p.element, p.code) for p in problems_of(files)}
    assert {("st_loose", "no_operator"), ("tc_empty", "timer_empty"), ("tc_bad", "timer"),
            ("br_loose", "no_decision"), ("ca_loose", "no_called_process")} <= found
    # each also says it is not connected, once
    assert {element for element, code in found if code == "no_incoming"} == {
        "st_loose", "tc_empty", "tc_bad", "br_loose", "ca_loose"}
