"""Deploy: versions only on change, refusal stores nothing, running instances keep their version."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from app.models import InstanceStatus, ProcessDefinition
from app.operations import deploy, instances, tasks
from app.operations.errors import DeployRefused
from tests.conftest import ROOT

SCOPE = (ROOT / "tests" / "operations" / "data" / "t_scope.bpmn").read_bytes()


def _files():
    return deploy.read_directory(ROOT / "processes", ROOT / "forms")


def _versions(db):
    return dict(db.session.execute(select(ProcessDefinition.process_key, func.max(ProcessDefinition.version))
                                   .group_by(ProcessDefinition.process_key)).all())


def test_deploying_unchanged_files_creates_no_version(db):
    before = _versions(db)
    result = deploy.deploy_processes(*_files())
    assert result.created == {} and set(result.unchanged) == set(before)
    assert _versions(db) == before


def test_a_change_in_a_called_process_versions_its_callers_only(db):
    processes, forms = _files()
    before = _versions(db)
    processes["yq_release.bpmn"] = processes["yq_release.bpmn"].replace("起草通稿".encode(), "起草新闻通稿".encode())
    result = deploy.deploy_processes(processes, forms, note="rename")
    assert set(result.created) == {"yq_release", "yq_level1_response", "yq_level2_response", "yq_level3_response",
                                   "yq_level4_response", "yq_incident"}
    assert all(result.created[key] == before[key] + 1 for key in result.created)
    assert _versions(db)["yq_aftermath"] == before["yq_aftermath"]


def test_a_changed_form_versions_the_processes_that_use_it(db):
    processes, forms = _files()
    forms["ut_summary.schema.json"] = forms["ut_summary.schema.json"].replace("总结".encode(), "小结".encode(), 1)
    result = deploy.deploy_processes(processes, forms)
    assert set(result.created) == {"yq_aftermath", "yq_incident"}


@pytest.mark.parametrize(("name", "content", "element", "reason"), [
    ("yq_bad.bpmn", b"<bpmn:definitions", None, "malformed XML"),
    ("yq_bad.bpmn", b'<?xml version="1.0"?><!DOCTYPE d [<!ENTITY x "y">]><d/>', None, "DOCTYPE"),
])
def test_a_broken_file_refuses_the_whole_deploy_and_stores_nothing(db, name, content, element, reason):
    processes, forms = _files()
    processes["yq_release.bpmn"] = processes["yq_release.bpmn"].replace("起草通稿".encode(), "改名".encode())
    processes[name] = content
    before = db.session.scalar(select(func.count(ProcessDefinition.id)))
    with pytest.raises(DeployRefused) as refused:
        deploy.deploy_processes(processes, forms)
    problem = refused.value.problems[0]
    assert problem["file"] == name and problem["element"] == element and reason in problem["reason"]
    assert db.session.scalar(select(func.count(ProcessDefinition.id))) == before


def test_an_unsafe_expression_is_refused_naming_the_element(db):
    processes, forms = _files()
    assert b"registered_at = discovered_at" in processes["yq_incident.bpmn"]
    processes["yq_incident.bpmn"] = processes["yq_incident.bpmn"].replace(
        b"registered_at = discovered_at", b"registered_at = ().__class__.__bases__[0].__subclasses__()")
    with pytest.raises(DeployRefused) as refused:
        deploy.deploy_processes(processes, forms)
    assert {"file": "yq_incident.bpmn", "element": "sc_report_due"} in [
        {k: p[k] for k in ("file", "element")} for p in refused.value.problems]
    assert "attribute access is not allowed" in str(refused.value.problems)


def test_a_form_that_fails_its_checks_refuses_the_deploy(db):
    processes, forms = _files()
    forms["ut_regrade.schema.json"] = forms["ut_regrade.schema.json"].replace(
        b'"additionalProperties": false', b'"additionalProperties": true', 1)
    with pytest.raises(DeployRefused) as refused:
        deploy.deploy_processes(processes, forms)
    assert refused.value.problems[0]["file"] == "ut_regrade.schema.json"


def test_a_running_instance_finishes_on_its_own_version_after_a_new_deploy(db, user_factory):
    processes, forms = _files()
    processes["t_scope.bpmn"] = SCOPE
    deploy.deploy_processes(processes, forms)
    head = user_factory(["section_head"], unit="policy")
    data = {"lead_unit": "policy", "chosen": head.username}
    old = instances.start_instance("t_scope", head, data)
    old_version = old.definition.version
    processes["t_scope.bpmn"] = SCOPE.replace('name="本科室办理"'.encode(), 'name="本科室办理(新版)"'.encode())
    assert deploy.deploy_processes(processes, forms).created == {"t_scope": old_version + 1}
    new = instances.start_instance("t_scope", head, data)
    assert new.definition.version == old_version + 1
    assert [t.name for t in tasks.list_group_tasks(head) if t.instance_id == new.id] == ["本科室办理(新版)"]
    [old_task] = [t for t in tasks.list_group_tasks(head) if t.instance_id == old.id]
    assert old_task.name == "本科室办理"
    done = {"findings": "已核实", "facts_confirmed": True}
    tasks.complete_task(old_task.public_id, done, head)
    [person] = tasks.list_my_tasks(head)
    tasks.complete_task(person.public_id, done, head)
    db.session.refresh(old)
    assert old.status == InstanceStatus.COMPLETED and old.definition.version == old_version
