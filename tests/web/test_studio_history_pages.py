"""The studio's version pages: the current version is marked, publishers make an earlier one current
again with a note, the page says which file gave a version, and the diff page shows decision tables
cell by cell and forms field by field."""

from __future__ import annotations

import json
import re

import pytest

from app.operations import studio
from tests.conftest import login, make_user
from tests.operations.console import console_v2, deploy_console
from tests.operations.test_studio_history import grade_v2


@pytest.fixture
def owners(db):
    deploy_console()
    return make_user(["process_owner"]), make_user(["process_owner", "process_publisher"])


def test_publishers_make_an_earlier_version_current_from_the_history(client, owners):
    editor, publisher = owners
    studio.save_draft("t_console.bpmn", console_v2(), publisher)
    studio.deploy_workspace(publisher, "新增登记环节")
    login(client, editor)
    page = client.get("/studio/processes/t_console").get_data(as_text=True)
    assert "当前版本:v2" in page and "设为当前版本" not in page  # owners see, publishers act
    assert client.post("/studio/processes/t_console/v1/current", data={"note": "x"}).status_code == 404
    client.post("/logout")
    login(client, publisher)
    page = client.get("/studio/processes/t_console").get_data(as_text=True)
    assert 'data-testid="make-current-v1"' in page and 'data-testid="make-current-v2"' not in page
    refused = client.post("/studio/processes/t_console/v1/current", data={"note": " "})
    assert refused.status_code == 422 and "请填写说明" in refused.get_data(as_text=True)
    done = client.post("/studio/processes/t_console/v1/current", data={"note": "新环节有误"}, follow_redirects=True)
    text = done.get_data(as_text=True)
    assert "v1 已设为当前版本" in text and "当前版本:v1" in text
    assert "新环节有误" in text and "v2 → v1" in text  # the record of the undo


def test_the_history_and_diff_show_a_changed_decision_table_cell_by_cell(client, owners):
    _editor, publisher = owners
    studio.save_draft("yq_grade.dmn", grade_v2(), publisher)
    login(client, publisher)
    done = client.post("/studio/deploy", data={"note": "调整定级规则"}, follow_redirects=True)
    assert "yq_incident v2(流程图未变,因 yq_grade.dmn 变更)" in done.get_data(as_text=True)
    new = 2
    page = client.get("/studio/processes/yq_incident").get_data(as_text=True)
    assert "决策表 yq_grade.dmn(修改)" in re.sub(r"<[^>]+>", "", page)  # its name links to the file
    assert "因所用的决策表或表单变更而产生新版本" in page
    # ...and which other processes got a new version by the same change
    deployed_with = page.split('data-testid="deployed-with"', 1)[1].split("</span>", 1)[0]
    assert "yq_level1_response v2" in deployed_with and "yq_incident" not in deployed_with
    diff = client.get(f"/studio/processes/yq_incident/diff?old={new - 1}&new={new}")
    text = diff.get_data(as_text=True)
    assert diff.status_code == 200 and 'data-testid="dmn-diff"' in text
    assert 'data-rule="Rule_new"' in text and 'data-rule="Rule_03"' in text
    assert "<del>&#34;high&#34;</del> → <ins>&#34;very_high&#34;</ins>" in text
    assert 'data-testid="diagram-unchanged"' in text and "流程图没有变化" in text  # not an empty table


def test_the_diff_shows_a_changed_form_field_by_field(client, owners):
    _editor, publisher = owners
    schema = json.loads(studio.get_file("ut_investigate.schema.json").current)
    schema["properties"]["findings"]["title"] = "核实情况(修订)"
    schema["properties"]["witness_count"] = {"title": "证人人数", "type": "integer"}
    studio.save_draft("ut_investigate.schema.json", json.dumps(schema, ensure_ascii=False), publisher)
    new = studio.deploy_workspace(publisher, "改标题").result.created["t_console"]
    login(client, publisher)
    text = client.get(f"/studio/processes/t_console/diff?old={new - 1}&new={new}").get_data(as_text=True)
    assert 'data-testid="form-diff"' in text and 'data-field="findings"' in text
    assert "核实情况(修订)" in text
    added = text.split('data-field="witness_count"', 1)[1].split("</tr>", 1)[0]
    assert "整数" in added and "integer" not in added.split("</code>")[-1]  # the type's label, not its code


def test_the_history_offers_the_forms_of_a_version_and_the_changed_ones_for_download(client, owners):
    editor, publisher = owners
    schema = json.loads(studio.get_file("ut_investigate.schema.json").current)
    schema["properties"]["findings"]["title"] = "核实情况(修订)"
    studio.save_draft("ut_investigate.schema.json", json.dumps(schema, ensure_ascii=False), publisher)
    new = studio.deploy_workspace(publisher, "改标题").result.created["t_console"]
    login(client, editor)
    page = client.get("/studio/processes/t_console").get_data(as_text=True)
    row = page.split(f'data-version="{new}"', 1)[1].split("</tr>", 1)[0]
    changed = row.split('data-testid="version-changes"', 1)[1].split("</td>", 1)[0]
    link = f'href="/studio/processes/t_console/v{new}/ut_investigate.schema.json"'
    assert "表单 ut_investigate.schema.json(修改)" in re.sub(r"<[^>]+>", "", changed) and link in changed
    forms = row.split('data-testid="version-forms"', 1)[1].split("</details>", 1)[0]
    assert "表单 " in forms and link in forms
    older = page.split(f'data-version="{new - 1}"', 1)[1].split("</tr>", 1)[0]
    assert f'href="/studio/processes/t_console/v{new - 1}/ut_investigate.schema.json"' in older
    download = client.get(f"/studio/processes/t_console/v{new}/ut_investigate.schema.json")
    assert download.status_code == 200 and "attachment" in download.headers["Content-Disposition"]
    assert json.loads(download.data)["properties"]["findings"]["title"] == "核实情况(修订)"
    before = client.get(f"/studio/processes/t_console/v{new - 1}/ut_investigate.schema.json")
    assert json.loads(before.data)["properties"]["findings"]["title"] != "核实情况(修订)"
    assert client.get(f"/studio/processes/t_console/v{new}/ut_nothing.schema.json").status_code == 404
    client.post("/logout")
    login(client, make_user(["monitor"]))  # the studio is the process owners'
    assert client.get(f"/studio/processes/t_console/v{new}/ut_investigate.schema.json").status_code == 404
    assert client.get("/studio/processes/t_console").status_code == 404
