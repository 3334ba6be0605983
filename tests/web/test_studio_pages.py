"""The studio's pages over HTTP: who may see and deploy, drafts, validation, the form preview, uploads,
version history with downloads and the diff page."""

from __future__ import annotations

import io
import re

import pytest

from app.operations import studio
from tests.conftest import login, make_user
from tests.operations.console import console_v2, deploy_console


@pytest.fixture
def owners(db):
    deploy_console()
    return make_user(["process_owner"]), make_user(["process_owner", "process_publisher"])


def test_only_process_owners_see_the_studio_and_only_publishers_deploy(client, owners):
    editor, _publisher = owners
    login(client, make_user(["office_staff"]))
    assert client.get("/studio/").status_code == 404
    client.post("/logout")
    login(client, editor)
    page = client.get("/studio/").get_data(as_text=True)
    assert "t_console.bpmn" in page and 'data-testid="deploy-form"' not in page
    assert client.post("/studio/deploy", data={"note": "x"}).status_code == 404


def test_draft_validate_and_deploy_through_the_pages(client, owners):
    _editor, publisher = owners
    login(client, publisher)
    broken = console_v2().replace(b'<bpmn:sequenceFlow id="f_c_gw" sourceRef="ut_c" targetRef="gw_route"/>', b"")
    saved = client.post("/studio/files/t_console.bpmn/draft", data=broken, content_type="text/plain")
    assert saved.get_json() == {"ok": True}
    assert client.get("/studio/files/t_console.bpmn/source").get_data() == broken
    checked = client.post("/studio/validate", json={}, headers={"Accept": "application/json"}).get_json()
    assert not checked["ok"] and any(p["element"] == "gw_route" for p in checked["problems"])
    refused = client.post("/studio/deploy", data={"note": "坏版本"})
    text = refused.get_data(as_text=True)
    assert refused.status_code == 422 and "gw_route" in text
    assert "该元素没有进入的顺序流,永远不会执行。" in text
    assert "如何修改:从前一个元素画一条顺序流连到它,或删除它。" in text
    client.post("/studio/files/t_console.bpmn/draft", data=console_v2(), content_type="text/plain")
    page = client.post("/studio/validate").get_data(as_text=True)
    assert "校验通过" in page and "t_console" in page
    missing_note = client.post("/studio/deploy", data={"note": ""})
    assert missing_note.status_code == 422 and "请填写变更说明" in missing_note.get_data(as_text=True)
    done = client.post("/studio/deploy", data={"note": "新增登记环节"}, follow_redirects=True)
    assert "t_console v2" in done.get_data(as_text=True)


def test_form_editor_preview_uses_the_worklist_renderer(client, owners):
    editor, _publisher = owners
    login(client, editor)
    page = client.get("/studio/files/ut_investigate.schema.json").get_data(as_text=True)
    assert 'id="schema-text"' in page
    schema = studio.get_file("ut_investigate.schema.json").current
    shown = client.post("/studio/preview-form", json={"name": "ut_investigate.schema.json", "schema": schema})
    html = shown.get_json()["html"]
    assert 'name="findings"' in html and "field" in html
    bad = client.post("/studio/preview-form", json={"name": "ut_investigate.schema.json", "schema": "{"})
    assert bad.get_json()["ok"] is False and bad.get_json()["problems"]


def test_uploads_become_drafts_and_hostile_files_are_refused(client, owners):
    editor, _publisher = owners
    login(client, editor)
    hostile = b'<?xml version="1.0"?><!DOCTYPE x [<!ENTITY e "boom">]><x>&e;</x>'
    response = client.post("/studio/upload", data={"file": (io.BytesIO(hostile), "evil.bpmn")},
                           content_type="multipart/form-data", follow_redirects=True)
    assert "上传被拒绝" in response.get_data(as_text=True)
    good = client.post("/studio/upload", data={"file": (io.BytesIO(console_v2()), "t_console.bpmn")},
                       content_type="multipart/form-data")
    assert good.status_code == 302 and good.headers["Location"].endswith("/studio/files/t_console.bpmn")
    assert studio.get_file("t_console.bpmn").draft == console_v2().decode()


def test_versions_downloads_and_diff_page(client, owners):
    _editor, publisher = owners
    studio.save_draft("t_console.bpmn", console_v2(), publisher)
    studio.deploy_workspace(publisher, "新增登记环节")
    login(client, publisher)
    history = client.get("/studio/processes/t_console").get_data(as_text=True)
    assert "新增登记环节" in history and "v2" in history
    download = client.get("/studio/processes/t_console/v1/t_console.bpmn")
    assert download.headers["Content-Disposition"].startswith("attachment") and b"ut_a" in download.data
    diff = client.get("/studio/processes/t_console/diff?old=1&new=2").get_data(as_text=True)
    assert 'data-element="ut_c"' in diff and "diff-row--added" in diff and "核查情况(新版)" in diff


def test_test_run_pages(client, owners):
    editor, _publisher = owners
    login(client, editor)
    bad = client.post("/studio/sandbox", data={"process": "t_console", "data": "[1]"})
    assert bad.status_code == 422 and "JSON" in bad.get_data(as_text=True)
    started = client.post("/studio/sandbox", data={"process": "t_console", "data": '{"divisor": 2}'})
    assert started.status_code == 302
    page = client.get(started.headers["Location"]).get_data(as_text=True)
    assert 'data-element="ut_a"' in page and 'name="findings"' in page
    action = re.search(r'action="(/studio/sandbox/[^"]+/tasks/[^"]+)"', page).group(1)
    typed = client.post(action, data={"findings": "", "facts_confirmed": "true"})
    assert typed.status_code == 422 and "field--error" in typed.get_data(as_text=True)
    done = client.post(action, data={"findings": "已核实", "facts_confirmed": "true"}, follow_redirects=True)
    assert "办结任务" in done.get_data(as_text=True)
