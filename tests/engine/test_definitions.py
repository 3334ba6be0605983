"""Deploy-time refusals of `compile_bundle` (docs/security.md §1, §2, §9): file, element, reason."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from diagrams import (
    DATA,
    FORM,
    bundle,
    business_rule,
    chain,
    definitions,
    dmn,
    end,
    fixture_files,
    flow,
    gateway,
    multi_instance_script,
    process,
    script_task,
    service_task,
    start,
    timer_boundary,
    timer_catch,
    user_task,
)

from app.engine.definitions import MAX_FILE_BYTES, DefinitionError, Problem, compile_bundle

PAYLOADS = DATA / "payloads"


def problems_of(files: dict[str, bytes], **kwargs: Any) -> list[Problem]:
    with pytest.raises(DefinitionError) as refused:
        compile_bundle(files, **kwargs)
    return refused.value.problems


def assert_refused(files: dict[str, bytes], file: str, element: str | None, reason: str, **kwargs: Any) -> None:
    problems = problems_of(files, **kwargs)
    matching = [p for p in problems if p.file == file and p.element == element and reason in p.reason]
    assert matching, problems


def simple_user_flow(*extra: str) -> tuple[str, ...]:
    return (start(), user_task("ut"), end(), chain("start", "ut", "end"), *extra)


# -- XML parsing ----------------------------------------------------------------------------------


def test_malformed_xml_is_refused() -> None:
    assert_refused({"p.bpmn": b"<bpmn:definitions"}, "p.bpmn", None, "malformed XML")


def test_billion_laughs_is_refused() -> None:
    files = {"lol.bpmn": (PAYLOADS / "billion_laughs.bpmn").read_bytes()}
    problems = problems_of(files)
    assert [(p.file, p.element) for p in problems] == [("lol.bpmn", None)]
    # libxml2 stops the full payload on amplification; smaller ones reach the DOCTYPE check.
    assert "entity amplification" in problems[0].reason or "DOCTYPE" in problems[0].reason


def test_doctype_with_internal_entity_is_refused() -> None:
    body = definitions(process(*simple_user_flow())).split(b"\n", 1)[1]
    payload = (b'<?xml version="1.0"?>\n<!DOCTYPE bpmn:definitions [<!ENTITY a "aaaaaaaaaa">'
               b'<!ENTITY b "&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;">]>\n'
               + body.replace(b'<bpmn:userTask id="ut" name="ut">',
                              b'<bpmn:userTask id="ut" name="ut"><bpmn:documentation>&b;</bpmn:documentation>'))
    assert_refused({"p.bpmn": payload}, "p.bpmn", None, "DOCTYPE declarations are not allowed")


@pytest.mark.parametrize("payload", ["xxe_passwd.bpmn", "xxe_passwd_text.bpmn"])
def test_external_entity_is_refused_without_leaking_the_file(payload: str) -> None:
    passwd = Path("/etc/passwd").read_text(encoding="utf-8").splitlines()[0]
    with pytest.raises(DefinitionError) as refused:
        compile_bundle({"x.bpmn": (PAYLOADS / payload).read_bytes()})
    problems = refused.value.problems
    assert [(p.file, p.element) for p in problems] == [("x.bpmn", None)]
    assert "DOCTYPE" in problems[0].reason or "external entity" in problems[0].reason
    assert passwd not in str(refused.value)
    assert all(passwd not in p.reason for p in problems)


def test_external_entity_reading_a_secret_file_is_refused_and_never_echoed(tmp_path: Path) -> None:
    secret = tmp_path / "secret.txt"
    secret.write_text("TOP-SECRET-7f3a9c", encoding="utf-8")
    body = definitions(process(*simple_user_flow())).split(b"\n", 1)[1]
    payload = (
        b'<?xml version="1.0"?>\n<!DOCTYPE bpmn:definitions [<!ENTITY xxe SYSTEM "'
        + secret.as_uri().encode()
        + b'">]>\n'
        + body.replace(b'<bpmn:userTask id="ut" name="ut">',
                       b'<bpmn:userTask id="ut" name="ut"><bpmn:documentation>&xxe;</bpmn:documentation>')
    )
    with pytest.raises(DefinitionError) as refused:
        compile_bundle({"p.bpmn": payload})
    assert refused.value.problems == [Problem("p.bpmn", None, "DOCTYPE declarations are not allowed")]
    assert "TOP-SECRET" not in repr(refused.value.problems)


def test_external_dtd_is_refused() -> None:
    body = definitions(process(*simple_user_flow())).split(b"\n", 1)[1]
    payload = b'<?xml version="1.0"?>\n<!DOCTYPE bpmn:definitions SYSTEM "file:///etc/passwd">\n' + body
    assert_refused({"p.bpmn": payload}, "p.bpmn", None, "DOCTYPE declarations are not allowed")


def test_xinclude_is_refused() -> None:
    files = {"xi.bpmn": (PAYLOADS / "xinclude.bpmn").read_bytes()}
    problems = problems_of(files)
    assert problems == [Problem("xi.bpmn", None, "XInclude is not allowed")]
    assert "root:" not in str(problems)


def test_file_over_two_megabytes_is_refused() -> None:
    content = definitions(process(*simple_user_flow()))
    content += b" " * (MAX_FILE_BYTES + 1 - len(content))
    assert_refused({"p.bpmn": content}, "p.bpmn", None, "file larger than 2048 kB")


def test_file_name_with_parent_directory_is_refused() -> None:
    files = {"../p.bpmn": definitions(process(*simple_user_flow()))}
    assert_refused(files, "../p.bpmn", None, "file names must match")


def test_bpmn_file_with_a_dmn_root_is_refused() -> None:
    files = {"p.bpmn": dmn("d1", ["a"], ["o"], [(["1"], ['"x"'])])}
    assert_refused(files, "p.bpmn", None, "root element is not a BPMN definitions element")


def test_dmn_file_with_a_bpmn_root_is_refused() -> None:
    files = {"d.dmn": definitions(process(*simple_user_flow()))}
    assert_refused(files, "d.dmn", None, "root element is not a DMN definitions element")


# -- expressions, scripts, decisions, services ----------------------------------------------------


def test_script_task_importing_os_is_refused() -> None:
    files = bundle(start(), script_task("sc", "x = __import__('os')"), end(), chain("start", "sc", "end"))
    assert_refused(files, "p.bpmn", "sc", "script: line 1: name '__import__' starts with '_'")


def test_deeply_nested_script_is_refused_not_crashing() -> None:
    files = bundle(start(), script_task("sc", "x = " + "-" * 3990 + "1"), end(), chain("start", "sc", "end"))
    assert_refused(files, "p.bpmn", "sc", "script")


def test_gateway_condition_with_attribute_walk_is_refused() -> None:
    files = bundle(start(), gateway("g"), end("e1"), end("e2"), flow("start", "g"),
                   flow("g", "e1", "().__class__.__bases__[0] == x"), flow("g", "e2", "x == 2"))
    assert_refused(files, "p.bpmn", "g", "condition to 'e1': line 1: attribute access is not allowed")


def _with_decision(cells_in: list[str], cells_out: list[str]) -> dict[str, bytes]:
    files = bundle(start(), business_rule("br", "d1"), user_task("ut"), end(), chain("start", "br", "ut", "end"))
    files["d.dmn"] = dmn("d1", ["a"], ["o"], [(cells_in, cells_out)])
    return files


def test_dmn_input_cell_with_class_walk_is_refused() -> None:
    files = _with_decision(["().__class__"], ['"x"'])
    # Reported on the decision's own cell, not on the task that calls the table.
    assert_refused(files, "d.dmn", "r0i0", "decision rule 1 input: line 1: attribute access is not allowed")
    assert not [p for p in problems_of(files) if p.file == "p.bpmn"]


def test_dmn_output_calling_open_is_refused() -> None:
    files = _with_decision(['"x"'], ["open('x')"])
    assert_refused(files, "d.dmn", "r0o0", "decision rule 1 output: line 1: function 'open' is not in the registry")


def test_dmn_input_expression_is_checked() -> None:
    files = bundle(start(), business_rule("br", "d1"), user_task("ut"), end(), chain("start", "br", "ut", "end"))
    files["d.dmn"] = dmn("d1", ["a.__dict__"], ["o"], [(['"x"'], ['"y"'])])
    assert_refused(files, "d.dmn", "in_0", "decision input 'in_0': line 1: attribute access is not allowed")


def test_service_task_with_unknown_operator_is_refused() -> None:
    files = bundle(start(), service_task("st", operator="shell"), end(), chain("start", "st", "end"))
    assert_refused(files, "p.bpmn", "st", "unknown service operator 'shell'")


def test_service_task_with_unknown_parameter_is_refused() -> None:
    params = {"template": '"a"', "recipients": '["office_director"]', "url": '"http://169.254.169.254/"'}
    files = bundle(start(), service_task("st", params=params), end(), chain("start", "st", "end"))
    assert_refused(files, "p.bpmn", "st", "operator 'notify' has no parameter 'url'")


def test_service_task_missing_a_required_parameter_is_refused() -> None:
    files = bundle(start(), service_task("st", params={"template": '"a"'}), end(), chain("start", "st", "end"))
    assert_refused(files, "p.bpmn", "st", "operator 'notify' needs parameter 'recipients'")


def test_service_task_parameter_expression_is_checked() -> None:
    params = {"template": "x.__class__", "recipients": '["office_director"]'}
    files = bundle(start(), service_task("st", params=params), end(), chain("start", "st", "end"))
    assert_refused(files, "p.bpmn", "st", "parameter 'template': line 1: attribute access is not allowed")


# -- lanes, roles, forms --------------------------------------------------------------------------


def test_user_task_outside_any_lane_is_refused() -> None:
    assert_refused(bundle(*simple_user_flow(), lane=False), "p.bpmn", "ut", "user task is not in a lane")


def test_user_task_in_a_lane_without_roles_is_refused() -> None:
    assert_refused(bundle(*simple_user_flow(), roles=None), "p.bpmn", "ut", "names no roles")


def test_lane_naming_an_unknown_role_is_refused() -> None:
    files = bundle(*simple_user_flow(), roles="office_staff,ghost_role")
    assert_refused(files, "p.bpmn", "ut", "names unknown roles: ghost_role", known_roles={"office_staff"})


def test_lane_with_known_roles_is_accepted() -> None:
    files = bundle(*simple_user_flow(), roles="office_staff")
    compiled = compile_bundle(files, known_roles={"office_staff"}, known_forms={"ut.schema.json"})
    assert compiled["p"].tasks["p:ut"].roles == ("office_staff",)


def test_user_task_without_a_form_gets_the_generated_confirmation_form() -> None:
    files = bundle(start(), user_task("ut", form=None), end(), chain("start", "ut", "end"))
    compiled = compile_bundle(files, known_forms=set())["p"]
    assert compiled.tasks["p:ut"].form == "yq_confirm.schema.json"
    assert compiled.forms == {"yq_confirm.schema.json"}
    schema = compiled.generated_forms["yq_confirm.schema.json"]
    assert schema["properties"]["comment"]["title"] == "意见"


def test_user_task_naming_an_unknown_form_is_refused() -> None:
    files = bundle(*simple_user_flow())
    assert_refused(files, "p.bpmn", "ut", "form 'ut.schema.json' does not exist", known_forms={"other.schema.json"})


# -- timers ---------------------------------------------------------------------------------------


@pytest.mark.parametrize(("kind", "value", "reason"), [
    ("timeDuration", '"P9999999Y"', "is not an ISO-8601 duration"),
    ("timeDuration", '"P5000D"', "longer than ten years"),
    ("timeDate", '"2026-01-01T09:00:00"', "has no UTC offset"),
    ("timeCycle", '"R99999/PT1S"', "a cycle needs a repeat count up to 1000"),
    ("timeCycle", '"R/PT1S"', "a cycle needs a repeat count up to 1000"),
    ("timeDate", "now()", "use a quoted ISO-8601 value or a single variable name"),
    ("timeDuration", "'PT' + str(minutes) + 'M'", "use a quoted ISO-8601 value or a single variable name"),
    ("timeDate", "due.__class__", "use a quoted ISO-8601 value or a single variable name"),
])
def test_unsafe_timer_is_refused(kind: str, value: str, reason: str) -> None:
    files = bundle(start(), timer_catch("tc", kind, value), end(), chain("start", "tc", "end"))
    assert_refused(files, "p.bpmn", "tc", reason)


@pytest.mark.parametrize(("kind", "value"), [
    ("timeDuration", '"PT30M"'),
    ("timeDate", "report_due_at"),
    ("timeCycle", '"R3/PT1H"'),
    ("timeDate", '"2026-11-25T09:00:00+08:00"'),
])
def test_safe_timer_is_accepted(kind: str, value: str) -> None:
    files = bundle(start(), timer_catch("tc", kind, value), end(), chain("start", "tc", "end"))
    assert "p" in compile_bundle(files)


def test_unsafe_boundary_timer_is_refused() -> None:
    files = bundle(*simple_user_flow(timer_boundary("tb", "ut", "timeDuration", '"P9999999Y"'),
                                     end("end_t"), flow("tb", "end_t")))
    assert_refused(files, "p.bpmn", "tb", "is not an ISO-8601 duration")


# -- structure (lint) -----------------------------------------------------------------------------


def _script_loop(*extra: str) -> dict[str, bytes]:
    return bundle(start(), script_task("s1", "x = x + 1"), gateway("g"), end(),
                  chain("start", "s1", "g"), flow("g", "s1", "x < 10", "f_back"), flow("g", "end", "x >= 10", "f_out"),
                  *extra)


def test_loop_without_wait_state_is_refused() -> None:
    assert_refused(_script_loop(), "p.bpmn", "g", "loop without a wait state")


def test_loop_with_a_user_task_is_accepted() -> None:
    files = bundle(start(), user_task("ut"), gateway("g"), end(),
                   chain("start", "ut", "g"), flow("g", "ut", "again", "f_back"),
                   flow("g", "end", "not again", "f_out"))
    assert "p" in compile_bundle(files)


def test_lint_can_be_skipped_for_engine_tests() -> None:
    assert "p" in compile_bundle(_script_loop(), run_lint=False)


def test_loop_whose_only_catching_event_is_a_boundary_timer_is_refused() -> None:
    files = _script_loop(timer_boundary("tb", "s1", "timeDuration", '"PT1H"'), flow("tb", "g"))
    assert_refused(files, "p.bpmn", "g", "loop without a wait state")


def test_gateway_without_outgoing_flow_is_refused() -> None:
    files = bundle(start(), gateway("g"), flow("start", "g"))
    assert_refused(files, "p.bpmn", "g", "element has no outgoing sequence flow")


def test_element_without_incoming_flow_is_refused() -> None:
    files = bundle(*simple_user_flow(user_task("orphan"), flow("orphan", "end")))
    assert_refused(files, "p.bpmn", "orphan", "element has no incoming sequence flow")


def test_multi_instance_task_compiles() -> None:
    files = bundle(start(), multi_instance_script("mi", "y = 1", "3"), end(), chain("start", "mi", "end"))
    assert "p" in compile_bundle(files)


# -- a valid bundle, its hash and its spec --------------------------------------------------------


def test_valid_bundle_compiles() -> None:
    compiled = compile_bundle(fixture_files(), known_roles={"office_director", "office_staff"},
                              known_forms={"ut_fill.schema.json", "ut_second.schema.json"})
    process_ = compiled["t_simple"]
    assert process_.files == ["simple.bpmn", "t_grade.dmn"]
    assert set(process_.tasks) == {"t_simple:ut_fill", "t_simple:ut_second"}
    assert process_.tasks["t_simple:ut_fill"].roles == ("office_director", "office_staff")
    assert process_.forms == {"ut_fill.schema.json", "ut_second.schema.json"}


def test_a_broken_file_does_not_hide_the_problems_of_the_others() -> None:
    files = {**bundle(start(), script_task("sc", "import os"), end(), chain("start", "sc", "end")),
             "bad.bpmn": b"<not-closed"}
    problems = problems_of(files)
    # One pass: the malformed file is reported and the other file is still checked.
    assert {p.file for p in problems} == {"bad.bpmn", "p.bpmn"}
    assert "malformed XML" in next(p.reason for p in problems if p.file == "bad.bpmn")
    assert any(p.element == "sc" and "imports are not allowed" in p.reason for p in problems)


def _call_bundle(sub_script: str = "y = 1") -> dict[str, bytes]:
    main = definitions(process(start(), '<bpmn:callActivity id="ca" calledElement="sub"/>', user_task("ut"), end(),
                               chain("start", "ca", "ut", "end")))
    sub = definitions(process(start("s_start"), script_task("s_sc", sub_script), end("s_end"),
                              chain("s_start", "s_sc", "s_end"), pid="sub", lane=False))
    return {"main.bpmn": main, "sub.bpmn": sub}


def test_identical_bytes_give_identical_content_hash() -> None:
    assert compile_bundle(_call_bundle())["p"].content_hash == compile_bundle(_call_bundle())["p"].content_hash


def test_content_hash_changes_when_a_called_process_file_changes() -> None:
    before = compile_bundle(_call_bundle("y = 1"))
    after = compile_bundle(_call_bundle("y = 2"))
    assert before["p"].files == ["main.bpmn", "sub.bpmn"]
    assert before["p"].content_hash != after["p"].content_hash


def test_content_hash_ignores_files_outside_the_closure() -> None:
    files = _call_bundle()
    other = definitions(process(start("o_start"), end("o_end"), chain("o_start", "o_end"), pid="other", lane=False))
    assert compile_bundle(files)["p"].content_hash == compile_bundle({**files, "other.bpmn": other})["p"].content_hash


def test_content_hash_changes_when_a_decision_or_a_form_changes() -> None:
    base = compile_bundle(fixture_files())["t_simple"].content_hash
    changed_dmn = {**fixture_files(), "t_grade.dmn": fixture_files()["t_grade.dmn"].replace(b"high", b"HIGH")}
    assert compile_bundle(changed_dmn)["t_simple"].content_hash != base
    with_form = compile_bundle(fixture_files(), form_hashes={"ut_fill.schema.json": "abc"})
    assert with_form["t_simple"].content_hash != base


def _keys(value: Any) -> set[str]:
    if isinstance(value, dict):
        return set(value) | {k for v in value.values() for k in _keys(v)}
    if isinstance(value, list):
        return {k for v in value for k in _keys(v)}
    return set()


def test_spec_json_is_json_without_instance_state() -> None:
    spec_json = compile_bundle(_call_bundle())["p"].spec_json
    loaded = json.loads(spec_json)
    assert set(loaded) == {"serializer_version", "spec", "subprocess_specs"}
    assert loaded["serializer_version"] == "1.5"
    assert set(loaded["subprocess_specs"]) == {"sub"}
    assert not _keys(loaded) & {"tasks", "root", "last_task", "task_tree", "bpmn_events", "correlations"}


def test_service_task_literal_outside_the_parameters_choices_is_refused() -> None:
    files = bundle(start(), service_task("st", "ledger", {"kind": '"lunch"'}), end(), chain("start", "st", "end"))
    assert_refused(files, "p.bpmn", "st", "kind 'lunch' is not one of")


def test_service_task_literal_of_the_wrong_type_is_refused() -> None:
    files = bundle(start(), service_task("st", params={"template": '"quick_report"', "recipients": '"office"'}),
                   end(), chain("start", "st", "end"))
    assert_refused(files, "p.bpmn", "st", "parameter 'recipients' has the wrong type")


def test_a_notification_to_nobody_is_refused() -> None:
    files = bundle(start(), service_task("st", params={"template": '"archive"', "recipients":
                                                       '["office_directer", "lane:无此泳道", "involved"]'}),
                   end(), chain("start", "st", "end"))
    assert_refused(files, "p.bpmn", "st", "recipient 'office_directer' is not a role",
                   known_roles={"office_director"})
    assert_refused(files, "p.bpmn", "st", "recipient 'lane:无此泳道' names no lane of this file",
                   known_roles={"office_director"})
    reasons = [p.reason for p in problems_of(files, known_roles={"office_director"})]
    assert not any("'involved'" in reason for reason in reasons)


def test_deadline_missed_ledger_line_must_name_a_known_deadline() -> None:
    files = bundle(start(), service_task("st", "ledger", {"kind": '"deadline_missed"'}), end(),
                   chain("start", "st", "end"))
    assert_refused(files, "p.bpmn", "st", "kind 'deadline_missed' needs 'deadline'")


def test_user_task_ledger_kind_must_be_known() -> None:
    files = bundle(start(), user_task("ut", extra_props='<spiffworkflow:property name="ledger" value="diary"/>'),
                   end(), chain("start", "ut", "end"))
    assert_refused(files, "p.bpmn", "ut", "ledger kind 'diary' is not one of")


def test_user_task_return_to_must_name_a_user_task_of_its_process() -> None:
    files = bundle(start(), user_task("ut", extra_props='<spiffworkflow:property name="returnTo" value="ut_x"/>'),
                   user_task("ut2", extra_props='<spiffworkflow:property name="returnTo" value="ut"/>'),
                   end(), chain("start", "ut", "ut2", "end"))
    assert_refused(files, "p.bpmn", "ut", "returnTo 'ut_x' is not a user task of this process")
    assert not [p for p in problems_of(files) if p.element == "ut2"]


def test_user_tasks_inside_an_embedded_sub_process_take_their_files_lanes() -> None:
    sub = ('<bpmn:subProcess id="sp"><bpmn:startEvent id="sp_s"/>' + user_task("ut_in")
           + '<bpmn:endEvent id="sp_e"/>' + chain("sp_s", "ut_in", "sp_e") + "</bpmn:subProcess>")
    compiled = compile_bundle(bundle(start(), sub, end(), chain("start", "sp", "end")), known_forms={FORM})
    info = compiled["p"].tasks["sp:ut_in"]
    assert info.roles == ("office_staff",)
    assert info.form == FORM
