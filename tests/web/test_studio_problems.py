"""The studio's checks as a process owner reads them: every problem with a message and a hint in the
interface language, non-executable processes offered to be made executable, DMN problems on their
own cells, and a user task without a form worked through the generated confirmation form."""

from __future__ import annotations

import pytest
from flask_babel import force_locale

from app import forms
from app.engine.definitions import Problem
from app.engine.spec_checks import GENERATED_FORM, GENERATED_SCHEMA
from app.models import InstanceStatus
from app.operations import deploy, instances, problem_text, studio, tasks
from tests.conftest import ROOT, login, make_user
from tests.operations.console import deploy_console

BPMN_NS = "http://www.omg.org/spec/BPMN/20100524/MODEL"
SPIFF_NS = "http://spiffworkflow.org/bpmn/schema/1.0/core"


def confirm_process(executable: str = "true") -> bytes:
    """A process whose only task has no form and whose path ends without an end event."""
    return f"""<?xml version="1.0" encoding="UTF-8"?>
<bpmn:definitions xmlns:bpmn="{BPMN_NS}" xmlns:spiffworkflow="{SPIFF_NS}" id="d" targetNamespace="http://x">
  <bpmn:process id="t_confirm" name="确认流程" isExecutable="{executable}">
    <bpmn:laneSet id="ls"><bpmn:lane id="lane_office" name="办公室">
      <bpmn:extensionElements><spiffworkflow:properties>
        <spiffworkflow:property name="roles" value="office_staff"/></spiffworkflow:properties></bpmn:extensionElements>
      <bpmn:flowNodeRef>start</bpmn:flowNodeRef><bpmn:flowNodeRef>ut_read</bpmn:flowNodeRef></bpmn:lane></bpmn:laneSet>
    <bpmn:startEvent id="start"/>
    <bpmn:userTask id="ut_read" name="阅知通报"><bpmn:documentation>请阅读上级通报并落实。</bpmn:documentation>
    </bpmn:userTask>
    <bpmn:sequenceFlow id="f1" sourceRef="start" targetRef="ut_read"/>
  </bpmn:process>
</bpmn:definitions>""".encode()


@pytest.fixture
def owners(db):
    deploy_console()
    return make_user(["process_owner"]), make_user(["process_owner", "process_publisher"])


def test_every_problem_code_has_a_message_and_a_hint_in_both_languages(app):
    args = {"limit": 2048, "detail": "line 1: attribute access is not allowed", "kind": "BPMN", "process": "p",
            "choices": "daily", "elements": "a, b", "where": "condition to 'x'", "operator": "notify", "key": "k",
            "lanes": "办公室", "lane": "办公室", "roles": "x", "form": "f", "decision": "d", "policy": "X",
            "column": "c", "rule": 2, "task": "ut_x"}
    for locale, word in (("zh_CN", "不允许访问属性"), ("en", "attribute access (a dot) is not allowed")):
        with app.test_request_context(), force_locale(locale):
            for code in problem_text.MESSAGES:
                shown = problem_text.describe(Problem("p.bpmn", "x", "english reason", code, args))
                assert shown["message"] and shown["hint"] and shown["message"] != "english reason", code
            shown = problem_text.describe(Problem("p.bpmn", "g", "r", "expression", args))
            assert word in shown["message"]


def test_the_generated_form_passes_the_form_checks():
    assert forms.check_schema(GENERATED_FORM, GENERATED_SCHEMA, None) == []


def test_a_task_without_a_form_is_worked_through_the_generated_confirmation_form(client, owners):
    processes, form_files = deploy.read_directory(ROOT / "processes", ROOT / "forms")
    assert deploy.deploy_processes({**processes, "t_confirm.bpmn": confirm_process()}, form_files).created
    clerk = make_user(["office_staff"])
    instance = instances.start_instance("t_confirm", clerk)
    [task] = tasks.list_group_tasks(clerk)
    login(client, clerk)
    page = client.get(f"/tasks/{task.public_id}").get_data(as_text=True)
    assert "请阅读上级通报并落实。" in page and "意见" in page and "已完成" in page
    csrf = page.split('name="csrf_token" value="', 1)[1].split('"', 1)[0]
    unconfirmed = client.post(f"/tasks/{task.public_id}", data={"csrf_token": csrf, "comment": "已阅"})
    assert unconfirmed.status_code == 422 and "已阅" in unconfirmed.get_data(as_text=True)  # what was typed is kept
    done = client.post(f"/tasks/{task.public_id}", data={"csrf_token": csrf, "done": "done", "comment": "已阅,落实中"})
    assert done.status_code == 302
    from app.extensions import db  # noqa: PLC0415

    db.session.refresh(instance)
    assert instance.status == InstanceStatus.COMPLETED  # the path ended at the task: an implicit end


def test_a_non_executable_process_is_offered_to_be_made_executable(client, owners):
    editor, _publisher = owners
    login(client, editor)
    studio.save_draft("t_confirm.bpmn", confirm_process("false"), editor, create=True)
    page = client.post("/studio/validate").get_data(as_text=True)
    assert "流程“确认流程”标记为不可执行" in page and 'data-testid="make-executable"' in page
    csrf = page.split('name="csrf_token" value="', 1)[1].split('"', 1)[0]
    client.post("/studio/files/t_confirm.bpmn/executable", data={"csrf_token": csrf})
    assert 'isExecutable="true"' in studio.get_file("t_confirm.bpmn").current
    assert studio.validate(editor).ok


def test_a_bad_decision_cell_is_one_problem_on_its_cell_in_english_too(client, owners):
    editor, _publisher = owners
    table = studio.get_file("yq_grade.dmn").current
    cell = table.split("<inputEntry", 1)[1].split("</inputEntry>", 1)[0]
    cell_id = cell.split('id="', 1)[1].split('"', 1)[0]
    broken = table.replace(cell, cell.split("<text>", 1)[0] + "<text>().__class__</text>", 1)
    studio.save_draft("yq_grade.dmn", broken, editor)
    login(client, editor)
    with client.session_transaction() as session:
        session["lang"] = "en"
    result = client.post("/studio/validate", json={}, headers={"Accept": "application/json"}).get_json()
    assert [(p["file"], p["element"]) for p in result["problems"]] == [("yq_grade.dmn", cell_id)]
    [problem] = result["problems"]
    assert "rule 1" in problem["message"] and "attribute access (a dot) is not allowed" in problem["message"]
    assert problem["hint"].startswith("Write conditions like")
