"""The studio's workspace: drafts never reach running instances, validation names the element, deploy
needs its own permission and a note, a deploy from disk keeps the browser's changes, and the diff of
two versions lists elements by id."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from app.extensions import db
from app.models import AuditEvent, ProcessDefinition, WorkspaceFile
from app.operations import deploy, instances, studio, studio_editor, studio_history, tasks
from app.operations.errors import DeployRefused, Forbidden, Invalid
from tests.conftest import ROOT, make_user
from tests.operations.console import CONSOLE, DONE, console_v2, deploy_console, open_task

HOSTILE = b"""<?xml version="1.0"?>
<!DOCTYPE d [<!ENTITY x SYSTEM "file:///etc/passwd">]>
<bpmn:definitions xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL">&x;</bpmn:definitions>"""


@pytest.fixture
def people(db):
    deploy_console()
    return make_user(["process_owner"]), make_user(["process_owner", "process_publisher"])


def _latest(key):
    return db.session.scalar(select(ProcessDefinition).where(ProcessDefinition.process_key == key,
                                                             ProcessDefinition.is_latest.is_(True)))


def test_every_deployed_file_is_in_the_workspace(people):
    names = {row.name for row in studio.list_files()}
    assert {"t_console.bpmn", "yq_incident.bpmn", "yq_grade.dmn", "ut_investigate.schema.json"} <= names
    assert studio.get_file("t_console.bpmn").content == CONSOLE.decode()


def test_a_draft_does_not_touch_running_instances_until_deployed(people):
    editor, publisher = people
    staff = make_user(["office_staff"])
    running = instances.start_instance("t_console", staff, {"divisor": 5})
    studio.save_draft("t_console.bpmn", console_v2(), editor)
    assert _latest("t_console").version == 1
    newer = instances.start_instance("t_console", staff, {"divisor": 5})
    tasks.complete_task(open_task(newer, "ut_a").public_id, DONE, staff)
    assert open_task(newer, "ut_c") is None  # still v1: drafts are not deployed
    with pytest.raises(Forbidden):
        studio.deploy_workspace(editor, "新增登记环节")  # editing is not deploying
    with pytest.raises(Invalid):
        studio.deploy_workspace(publisher, "  ")  # a change note is required
    done = studio.deploy_workspace(publisher, "新增登记环节")
    assert done.result.created == {"t_console": 2}
    assert done.staying == {"t_console": 2}  # both unfinished instances stay on v1
    assert studio.get_file("t_console.bpmn").draft is None
    assert db.session.get(type(running), running.id).definition.version == 1
    deployed = db.session.scalar(select(AuditEvent).where(AuditEvent.action == "deploy")
                                 .order_by(AuditEvent.id.desc()).limit(1))
    assert deployed.actor_id == publisher.id and deployed.detail["note"] == "新增登记环节"


def test_validation_names_the_element_and_deploy_refuses_whole(people):
    editor, publisher = people
    broken = console_v2().replace(b'<bpmn:sequenceFlow id="f_c_gw" sourceRef="ut_c" targetRef="gw_route"/>', b"")
    studio.save_draft("t_console.bpmn", broken, editor)
    result = studio.validate(editor)
    assert not result.ok
    # ut_c may end the path (an implicit end); the gateway it led to is now unreachable.
    [problem] = [p for p in result.problems if p["file"] == "t_console.bpmn" and p["element"] == "gw_route"]
    assert problem["message"] == "该元素没有进入的顺序流,永远不会执行。"
    assert problem["hint"] == "从前一个元素画一条顺序流连到它,或删除它。"
    with pytest.raises(DeployRefused):
        studio.deploy_workspace(publisher, "坏的版本")
    assert _latest("t_console").version == 1
    assert studio.get_file("t_console.bpmn").draft is not None  # the work is kept to fix it


def test_hostile_and_foreign_files_are_refused_and_nothing_is_stored(people):
    editor, _publisher = people
    for name, content in (("evil.bpmn", HOSTILE), ("x.bpmn", b"<html/>"), ("../etc.bpmn", CONSOLE),
                          ("big.bpmn", b" " * (studio.MAX_FILE_BYTES + 1))):
        with pytest.raises(Invalid):
            studio.save_draft(name, content, editor, create=True)
    assert db.session.scalar(select(WorkspaceFile).where(WorkspaceFile.name.in_(["evil.bpmn", "x.bpmn"]))) is None


def test_a_new_file_made_in_the_studio_is_deployed_with_the_rest(people):
    editor, publisher = people
    text = CONSOLE.replace(b'id="t_console"', b'id="t_console_copy"').replace(b"Collaboration_t_console", b"C2") \
        .replace(b"Participant_t_console", b"P2").replace(b'processRef="t_console"', b'processRef="t_console_copy"')
    studio.save_draft("t_console_copy.bpmn", text, editor, create=True)
    assert studio.validate(editor).would_change == ["t_console_copy"]
    studio.deploy_workspace(publisher, "复制一个测试流程")
    assert _latest("t_console_copy").version == 1


def test_a_deploy_from_disk_keeps_what_the_studio_changed(people):
    _editor, publisher = people
    disk_processes, disk_forms = deploy.read_directory(ROOT / "processes", ROOT / "forms")
    studio.deploy_from_disk({**disk_processes, "t_console.bpmn": CONSOLE}, disk_forms, "make run")
    assert _latest("t_console").version == 1  # nothing changed
    studio.save_draft("t_console.bpmn", console_v2(), publisher)
    studio.deploy_workspace(publisher, "浏览器中修改")
    # The next start deploys processes/ again; t_console.bpmn on disk did not change since.
    studio.deploy_from_disk({**disk_processes, "t_console.bpmn": CONSOLE}, disk_forms, "make run")
    assert _latest("t_console").version == 2  # not reverted to the disk's v1 content
    assert studio.get_file("t_console.bpmn").content == console_v2().decode()
    # A developer edits the file on disk: that change wins and is deployed.
    edited = CONSOLE.replace("核查情况".encode(), "核查情况(磁盘修改)".encode())
    studio.deploy_from_disk({**disk_processes, "t_console.bpmn": edited}, disk_forms, "make run")
    assert _latest("t_console").version == 3
    assert "磁盘修改" in studio.get_file("t_console.bpmn").content


def test_versions_files_and_diff(people):
    _editor, publisher = people
    studio.save_draft("t_console.bpmn", console_v2(), publisher)
    studio.deploy_workspace(publisher, "新增登记环节")
    rows = studio_history.versions("t_console")
    assert [d.version for d, _dep, _who in rows] == [2, 1]
    assert rows[0][1].note == "新增登记环节" and rows[0][2] == publisher.display_name
    assert "ut_c" in studio_history.version_file("t_console", 2, "t_console.bpmn")
    changes = studio_history.diff("t_console", 1, 2)
    assert [e["id"] for e in changes["added"]] == ["f_a_c", "f_c_gw", "ut_c"]
    assert [e["id"] for e in changes["removed"]] == ["f_a_gw"]
    changed = {e["id"]: e["properties"] for e in changes["changed"]}
    assert changed["ut_a"] == [{"property": "@name", "before": "核查情况", "after": "核查情况(新版)"}]


def test_form_preview_refuses_a_broken_schema():
    form, problems = studio_editor.preview_form("ut_x.schema.json", '{"type": "object", "properties": {"a": ')
    assert form is None and problems
    form, problems = studio_editor.preview_form("ut_x.schema.json", '{"type": "object", "title": "预览", '
                                         '"additionalProperties": false, "properties": '
                                         '{"a": {"type": "string", "title": "名称", "maxLength": 100}}}')
    assert problems == [] and form.schema["title"] == "预览"


def test_new_files_from_templates_pass_the_checks_and_deploy(people):
    editor, publisher = people
    for name in ("yq_new_flow.bpmn", "yq_new_table.dmn", "ut_new_form.schema.json"):
        assert studio.new_file(name, editor).draft
    with pytest.raises(Invalid):
        studio.new_file("yq_new_flow.bpmn", editor)  # exists
    with pytest.raises(Invalid):
        studio.new_file("bad-name.bpmn", editor)  # ids cannot hold a dash
    result = studio.validate(editor)
    assert result.ok, result.problems
    assert result.would_change == ["yq_new_flow"]
    done = studio.deploy_workspace(publisher, "新建流程")
    assert done.result.created == {"yq_new_flow": 1}
    assert studio.get_file("ut_new_form.schema.json").content is not None
