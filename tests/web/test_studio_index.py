"""The studio index: it never runs the deploy checks while it renders (drafts or not), shows the
validation of exactly this workspace when it is known and fetches it otherwise; search and grouping
by kind, by process and by drafts."""

from __future__ import annotations

import re

import pytest

from app.operations import studio, studio_index
from tests.conftest import login, make_user
from tests.operations.console import console_v2, deploy_console


@pytest.fixture
def publisher(db):
    deploy_console()
    studio_index.forget()
    return make_user(["process_owner", "process_publisher"])


def _names(page: str) -> list[str]:
    return re.findall(r'<tr data-file="([^"]+)"', page)


def test_the_index_with_drafts_never_validates_while_rendering(client, publisher, monkeypatch):
    studio.save_draft("t_console.bpmn", console_v2(), publisher)
    login(client, publisher)
    calls = []
    real = studio.validate
    monkeypatch.setattr(studio, "validate", lambda actor: calls.append(1) or real(actor))
    page = client.get("/studio/").get_data(as_text=True)
    assert calls == [] and 'data-testid="validation-pending"' in page and "/studio/validation" in page
    fragment = client.get("/studio/validation").get_data(as_text=True)
    assert calls == [1] and "校验通过" in fragment and "t_console" in fragment
    # Known now for exactly this content: the index shows it at once, without validating again.
    page = client.get("/studio/").get_data(as_text=True)
    assert calls == [1] and 'data-testid="validation"' in page and "发布将产生新版本:t_console" in page
    # Any edit gives another workspace: the remembered result is not shown for it.
    studio.save_draft("t_console.bpmn", console_v2().replace("新增:登记核查结果".encode(), "登记".encode()),
                      publisher)
    page = client.get("/studio/").get_data(as_text=True)
    assert calls == [1] and 'data-testid="validation-pending"' in page


def test_a_broken_draft_is_reported_by_the_fetched_validation(client, publisher):
    broken = console_v2().replace(b'<bpmn:sequenceFlow id="f_c_gw" sourceRef="ut_c" targetRef="gw_route"/>', b"")
    studio.save_draft("t_console.bpmn", broken, publisher)
    login(client, publisher)
    fragment = client.get("/studio/validation").get_data(as_text=True)
    assert "校验未通过" in fragment and "gw_route" in fragment


def test_search_and_grouping(client, publisher):
    studio.save_draft("ut_investigate.schema.json", studio.get_file("ut_investigate.schema.json").current + "\n",
                      publisher)
    login(client, publisher)
    page = client.get("/studio/?q=yq_grade").get_data(as_text=True)
    assert _names(page) == ["yq_grade.dmn"]
    # A process's name or key finds the files it uses.
    page = client.get("/studio/?q=t_console&group=process").get_data(as_text=True)
    assert {"t_console.bpmn", "ut_investigate.schema.json"} <= set(_names(page))
    assert 'data-group="t_console"' in page
    page = client.get("/studio/?group=drafts").get_data(as_text=True)
    assert _names(page)[0] == "ut_investigate.schema.json" and 'data-group="draft"' in page
    page = client.get("/studio/?group=kind").get_data(as_text=True)
    groups = re.findall(r'<tbody data-group="([^"]+)"', page)
    assert groups == ["bpmn", "dmn", "form"]
    page = client.get("/studio/?q=no_such_file_here").get_data(as_text=True)
    assert _names(page) == [] and "没有符合条件的文件" in page


def test_search_finds_a_form_by_its_title_and_groups_are_named_by_process(client, publisher):
    login(client, publisher)
    # What the owner calls it: 确认定级 is the title of ut_confirm_level's form, not in its file name.
    page = client.get("/studio/?q=确认定级").get_data(as_text=True)
    assert "ut_confirm_level.schema.json" in _names(page)
    page = client.get("/studio/?group=process").get_data(as_text=True)
    heads = re.findall(r'<tr class="group-head"><th[^>]*>([^<]+)</th>', page)
    assert heads and all(not re.search(r"[a-z]_[a-z]", head) for head in heads), heads  # labels, never keys
    keys = re.findall(r'<tbody data-group="([^"]*)"', page)
    assert keys[:-1] == sorted(keys[:-1])  # a stable order by process, those used by none last
    assert "yq_grade" not in page.split('name="q"')[1].split(">")[0]  # no code as the search example
    with client.session_transaction() as session:
        session["lang"] = "en"
    english = client.get("/studio/?group=process").get_data(as_text=True)
    english_heads = re.findall(r'<tbody data-group="([^"]*)"><tr class="group-head"><th[^>]*>([^<]+)</th>', english)
    assert len(english_heads) == len(heads)
    shipped = [head for key, head in english_heads if not key.startswith("t_")]  # t_…: this module's own
    assert not [head for head in shipped if re.search(r"[\u4e00-\u9fff]", head)], english_heads
    assert all(re.search(r" \(\d+\)$", head) for _key, head in english_heads)  # "Name (3)" with a space
