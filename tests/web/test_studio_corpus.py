"""A sample of files as process owners bring them from other modellers (tests/fixtures/corpus: Camunda 7
and 8, Flowable, bpmn.io, SpiffArena, DMN 1.1/1.2/1.3 with one or several decisions and a prefixed
namespace): uploaded through the studio, saved after the report, validated and deployed. None ends in a
server error or a traceback; each either deploys, or is refused with every problem naming its file and
element and saying why in Chinese."""

from __future__ import annotations

import html
import io
import re

import pytest

from tests.conftest import ROOT, login, make_user
from tests.operations.console import deploy_console
from tests.web.test_studio_import import save_import

CORPUS = ROOT / "tests" / "fixtures" / "corpus"
CJK = re.compile(r"[\u4e00-\u9fff]")
ENGLISH = re.compile(r"[A-Za-z]+ [A-Za-z]+ [A-Za-z]+")  # an English phrase left in a message
TRACEBACK = ("Traceback", "File \"/", "Error:", "Exception", "NoneType", "KeyError")

# file → the elements the checks must name (an empty set: the file deploys as it is once saved; None: the
# upload itself is refused with a Chinese reason and nothing is stored)
EXPECTED: dict[str, set[str] | None] = {
    "c7_truncated.bpmn": None,  # cut off in the middle (an interrupted download)
    "c7_simple_ok.bpmn": set(),
    "c7_leave_events.bpmn": {"Task_Record"},  # a Java delegate: no registered operator
    "c8_zeebe_job.bpmn": {"Task_Push"},  # a Zeebe job worker: no registered operator
    "flowable_review.bpmn": set(),
    "bpmnio_default.bpmn": {"Activity_0x"},  # a task in no lane: nobody would do it
    "spiffarena_approval.bpmn": {"Task_Confirm"},  # its lane has no roles
    "dmn13_multi_decision.dmn": set(),
    "dmn13_prefixed.dmn": set(),
    "dmn12_default_ns.dmn": set(),
    "dmn11_broken_cell.dmn": {"ie_bad"},  # the refused cell itself
}


@pytest.fixture
def publisher(db):
    deploy_console()
    return make_user(["process_owner", "process_publisher"])


def _clean(response) -> str:
    text = response.get_data(as_text=True)
    assert response.status_code < 500, text[:2000]
    assert not any(marker in text for marker in TRACEBACK), text[:2000]
    return text


def test_every_corpus_file_has_an_expectation():
    assert {p.name for p in CORPUS.iterdir()} == set(EXPECTED)


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_a_corpus_file_deploys_or_is_refused_with_element_and_chinese_reason(client, publisher, name):
    login(client, publisher)
    content = (CORPUS / name).read_bytes()
    uploaded = client.post("/studio/upload", data={"file": (io.BytesIO(content), name)},
                           content_type="multipart/form-data")
    page = _clean(uploaded)
    if EXPECTED[name] is None:
        assert uploaded.status_code == 302 and uploaded.headers["Location"].endswith("/studio/")
        shown = _clean(client.get("/studio/"))
        refusal = re.search(r'<p class="flash flash--error"[^>]*>(.*?)</p>', shown, re.S).group(1)
        assert html.unescape(refusal) == ("上传被拒绝:文件不是格式正确的 XML:第 6 行第 53 列附近有误"
                                          "(文件可能不完整或已损坏)。 用建模工具重新导出该文件。"), refusal
        assert f'data-file="{name}"' not in shown
        return
    if uploaded.status_code == 200:  # the import report, read before the first save
        assert 'data-testid="import-save"' in page, page[:2000]
        saved = save_import(client, page)
        _clean(saved)
        assert saved.status_code == 302, saved.get_data(as_text=True)[:2000]
    else:
        assert uploaded.status_code == 302 and "/studio/files/" in uploaded.headers["Location"]
    _clean(client.get(f"/studio/files/{name}"))
    checked = client.post("/studio/validate", json={}, headers={"Accept": "application/json"})
    _clean(checked)
    problems = checked.get_json()["problems"]
    for problem in problems:
        assert problem["file"] and CJK.search(problem["message"]), problem
        assert not ENGLISH.search(problem["message"]) and CJK.search(problem["hint"]), problem
        assert problem["element"], problem  # every problem of these files belongs to an element
    expected = EXPECTED[name]
    assert {p["element"] for p in problems} == expected
    deployed = client.post("/studio/deploy", data={"note": f"导入 {name}"}, follow_redirects=True)
    text = _clean(deployed)
    if expected:
        assert deployed.status_code == 422 and "部署被拒绝" in text
        for element in expected:
            assert element in text
    else:
        assert deployed.status_code == 200 and ("已部署" in text or "没有变化" in text), text[:3000]
