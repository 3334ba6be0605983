"""Version history in the studio: an earlier version made current again (running instances keep
theirs, new starts use it, a note is required and audited), what each version changed, and the diff of
decision tables (rule by rule, cell by cell) and forms (field by field)."""

from __future__ import annotations

import json

import pytest
from sqlalchemy import select

from app.extensions import db
from app.models import AuditEvent, ProcessDefinition
from app.operations import instances, studio, studio_history
from app.operations.errors import Forbidden, Invalid
from tests.conftest import make_user
from tests.operations.console import console_v2, deploy_console


@pytest.fixture
def people(db):
    deploy_console()
    return make_user(["process_owner"]), make_user(["process_owner", "process_publisher"])


def _current(key):
    return db.session.scalar(select(ProcessDefinition).where(ProcessDefinition.process_key == key,
                                                             ProcessDefinition.is_latest.is_(True))).version


def grade_v2() -> str:
    """yq_grade with one cell of Rule_02 changed, Rule_03 removed and a rule added."""
    text = studio.get_file("yq_grade.dmn").current
    text = text.replace('<inputEntry id="Rule_02_in2"><text>&quot;high&quot;</text>',
                        '<inputEntry id="Rule_02_in2"><text>&quot;very_high&quot;</text>')
    start = text.index('<rule id="Rule_03">')
    text = text[:start] + text[text.index("</rule>", start) + len("</rule>"):]
    new_rule = ('<rule id="Rule_new"><inputEntry id="n1"><text></text></inputEntry>'
                '<inputEntry id="n2"><text></text></inputEntry><inputEntry id="n3"><text></text></inputEntry>'
                '<inputEntry id="n4"><text></text></inputEntry><inputEntry id="n5"><text>&quot;high&quot;</text>'
                '</inputEntry><outputEntry id="n6"><text>2</text></outputEntry>'
                '<outputEntry id="n7"><text>&quot;新规则&quot;</text></outputEntry></rule>')
    return text.replace("</decisionTable>", new_rule + "</decisionTable>")


def test_an_earlier_version_is_made_current_again_and_running_instances_keep_theirs(people):
    editor, publisher = people
    staff = make_user(["office_staff"])
    studio.save_draft("t_console.bpmn", console_v2(), publisher)
    studio.deploy_workspace(publisher, "新增登记环节")
    running = instances.start_instance("t_console", staff, {"divisor": 5})
    assert running.definition.version == 2
    with pytest.raises(Forbidden):
        studio_history.make_current("t_console", 1, editor, "退回")  # only publishers
    with pytest.raises(Invalid):
        studio_history.make_current("t_console", 1, publisher, "  ")  # a note is required
    with pytest.raises(Invalid):
        studio_history.make_current("t_console", 2, publisher, "已是当前")
    done = studio_history.make_current("t_console", 1, publisher, "新环节有误,先退回")
    assert done["previous"] == 2 and done["restored"] == ["t_console.bpmn"]
    assert _current("t_console") == 1
    assert db.session.get(type(running), running.id).definition.version == 2  # unaffected
    assert instances.start_instance("t_console", staff, {"divisor": 5}).definition.version == 1
    # The workspace holds v1 again: validating it changes nothing, a deploy makes no new version.
    assert "ut_c" not in studio.get_file("t_console.bpmn").content
    assert studio.validate(editor).would_change == []
    event = db.session.scalar(select(AuditEvent).where(AuditEvent.action == "version_made_current"))
    assert event.actor_id == publisher.id and event.detail["note"] == "新环节有误,先退回"
    assert [e.id for e in studio_history.made_current_events("t_console")] == [event.id]
    # Later deploys number on from the highest version.
    studio.save_draft("t_console.bpmn", console_v2(), publisher)
    assert studio.deploy_workspace(publisher, "再次发布").result.created == {"t_console": 3}


def test_a_shared_decision_table_is_not_set_back_under_other_processes(people):
    _editor, publisher = people
    studio.save_draft("yq_grade.dmn", grade_v2(), publisher)
    created = studio.deploy_workspace(publisher, "调整定级规则").result.created
    assert "yq_incident" in created and "yq_level1_response" in created
    done = studio_history.make_current("yq_incident", created["yq_incident"] - 1, publisher, "退回定级")
    assert done["kept"] == ["yq_grade.dmn"]  # the level processes still use the new table
    assert "very_high" in studio.get_file("yq_grade.dmn").content


def test_versions_say_which_file_changed_and_the_table_diff_is_cell_level(people):
    _editor, publisher = people
    studio.save_draft("yq_grade.dmn", grade_v2(), publisher)
    created = studio.deploy_workspace(publisher, "调整定级规则").result.created
    new = created["yq_incident"]
    changes = studio_history.version_changes("yq_incident")
    assert changes[new] == [{"name": "yq_grade.dmn", "kind": "dmn", "status": "changed"}]
    diff = studio_history.full_diff("yq_incident", new - 1, new)
    assert diff["added"] == diff["removed"] == diff["changed"] == []  # the diagram itself did not change
    [table] = diff["tables"]
    [decision] = table["decisions"]
    assert decision["id"] == "yq_grade"
    rules = decision["rules"]
    assert [r["id"] for r in rules["added"]] == ["Rule_new"]
    assert [r["id"] for r in rules["removed"]] == ["Rule_03"]
    [changed] = rules["changed"]
    assert changed["id"] == "Rule_02"
    assert changed["cells"] == [{"column": "Input_foreign_media", "label": "境外媒体关注", "kind": "input",
                                 "before": '"high"', "after": '"very_high"'}]


def test_form_diff_is_field_level(people):
    _editor, publisher = people
    schema = json.loads(studio.get_file("ut_investigate.schema.json").current)
    schema["properties"]["findings"]["title"] = "核实情况(修订)"
    schema["required"] = ["findings"]  # facts_confirmed no longer required
    del schema["properties"]["offline_actions"]
    schema["properties"]["channel"] = {"type": "string", "title": "核实渠道",
                                       "oneOf": [{"const": "phone", "title": "电话"}]}
    studio.save_draft("ut_investigate.schema.json", json.dumps(schema, ensure_ascii=False), publisher)
    ui = json.loads(studio.get_file("ut_investigate.uischema.json").current)
    ui["ui:order"] = ["findings", "facts_confirmed", "channel", "evidence"]
    ui.pop("offline_actions")
    studio.save_draft("ut_investigate.uischema.json", json.dumps(ui, ensure_ascii=False), publisher)
    created = studio.deploy_workspace(publisher, "调整核查表单").result.created
    new = created["t_console"]
    assert {"name": "ut_investigate.schema.json", "kind": "form", "status": "changed"} in \
        studio_history.version_changes("t_console")[new]
    [form] = studio_history.full_diff("t_console", new - 1, new)["forms"]
    changes = form["changes"]
    assert [f["field"] for f in changes["added"]] == ["channel"]
    assert [f["field"] for f in changes["removed"]] == ["offline_actions"]
    by_field = {c["field"]: c["changes"] for c in changes["changed"]}
    assert by_field["findings"] == [{"attribute": "title", "before": "核实情况", "after": "核实情况(修订)"}]
    assert by_field["facts_confirmed"] == [{"attribute": "required", "before": True, "after": False}]
