"""Attachments end to end: uploads kept across errors, forged ids refused, hostile files refused, downloads
served only as attachments and only to people who may see the task."""

from __future__ import annotations

import hashlib
import io
import re
from urllib.parse import unquote

import pytest
from sqlalchemy import select
from werkzeug.datastructures import FileStorage, MultiDict
from werkzeug.test import encode_multipart

from app.models import Attachment, AuditEvent, HumanTask, TaskStatus
from app.operations import deploy, instances, tasks
from app.operations.errors import Invalid
from tests.conftest import ROOT
from tests.forms import uploads
from tests.web.scenario import act_as, open_task

DATA = ROOT / "tests" / "web" / "data"
SAFE_ID = re.compile(r"^[0-9a-f-]{36}$")


@pytest.fixture
def attach_process(db):
    """Deploy the small test process whose first task has two file[] fields."""
    names = ("ut_attach_test.schema.json", "ut_attach_review.schema.json")
    files = {name: (DATA / name).read_bytes() for name in names}
    deploy.deploy_processes({"t_attach.bpmn": (DATA / "t_attach.bpmn").read_bytes()}, files, note="attachments")


@pytest.fixture
def worker(app, attach_process, user_factory):
    return act_as(app, user_factory(["monitor"]))


def _start(actor):
    instance = instances.start_instance("t_attach", actor.user)
    return instance, open_task(instance, "ut_attach_test")


def _post(actor, task, action="complete", **fields):
    """Post the task form as multipart/form-data, encoded in memory (the test client would spool a
    large body to a temporary file it never closes)."""
    items = [("_action", action)]
    for name, value in fields.items():
        items += [(name, item) for item in (value if isinstance(value, list) else [value])]
    boundary, body = encode_multipart(MultiDict(items))
    return actor.client.post(f"/tasks/{task.public_id}", data=body,
                             content_type=f"multipart/form-data; boundary={boundary}")


def _file(content, name):
    return FileStorage(io.BytesIO(content), filename=name)


def _rows(db, task):
    return db.session.scalars(select(Attachment).where(Attachment.task_id == task.id).order_by(Attachment.id)).all()


def _hidden_ids(page, field="evidence"):
    return re.findall(rf'<input type="hidden" name="{field}" value="([^"]+)">', page)


def _field_error(page, field="evidence"):
    block = page.split(f'id="field-{field}"', 1)[1].split('<div class="field ', 1)[0]
    return " ".join(re.findall(r'class="field__error[^"]*"[^>]*>([^<]+)<', block))


def test_an_upload_is_stored_first_and_listed_again_when_another_field_has_an_error(db, worker):
    instance, task = _start(worker)
    response = _post(worker, task, note="", evidence=[_file(uploads.PNG, "现场截图.png")])
    assert response.status_code == 422
    page = response.get_data(as_text=True)
    assert "此项为必填项" in page
    [row] = _rows(db, task)
    assert (row.filename, row.content_type, row.size, row.field) == ("现场截图.png", "image/png", len(uploads.PNG),
                                                                    "evidence")
    assert row.sha256 == hashlib.sha256(uploads.PNG).hexdigest()
    assert (row.instance_id, row.uploaded_by_id) == (instance.id, worker.user.id)
    assert _hidden_ids(page) == [row.public_id]
    assert f'href="/attachments/{row.public_id}"' in page and "现场截图.png" in page
    assert 'enctype="multipart/form-data"' in page
    uploaded = db.session.scalars(select(AuditEvent).where(AuditEvent.action == "attachment_uploaded",
                                                           AuditEvent.task_id == task.id)).all()
    assert [event.detail["sha256"] for event in uploaded] == [row.sha256]
    # The user fixes the other field; the file comes back as its id, with no second upload.
    done = _post(worker, task, note="已核实", evidence=_hidden_ids(page))
    assert done.status_code == 302
    submitted = db.session.get(HumanTask, task.id).submitted
    assert submitted["evidence"] == [{"id": row.public_id, "name": "现场截图.png", "size": len(uploads.PNG),
                                      "content_type": "image/png"}]


def test_a_draft_keeps_uploaded_files(db, worker):
    _instance, task = _start(worker)
    response = _post(worker, task, action="draft", note="半截", evidence=[_file(uploads.PDF, "情况说明.pdf")])
    assert response.status_code == 302
    [row] = _rows(db, task)
    page = worker.get(f"/tasks/{task.public_id}").get_data(as_text=True)
    assert _hidden_ids(page) == [row.public_id] and "情况说明.pdf" in page and 'value="半截"' in page


def test_removed_and_abandoned_files_are_deleted_when_the_task_completes(db, worker):
    _instance, task = _start(worker)
    page = _post(worker, task, note="", evidence=[_file(uploads.PNG, "a.png"), _file(uploads.PDF, "b.pdf")]
                 ).get_data(as_text=True)
    first, second = _hidden_ids(page)
    again = _post(worker, task, note="", evidence=[first, second], **{"evidence.remove": [first]})
    assert 'checked' in again.get_data(as_text=True).split(f'value="{first}" aria-label', 1)[1][:40]
    assert _post(worker, task, note="好", evidence=[first, second], **{"evidence.remove": [first]}).status_code == 302
    assert [row.public_id for row in _rows(db, task)] == [second]
    assert [ref["name"] for ref in db.session.get(HumanTask, task.id).submitted["evidence"]] == ["b.pdf"]


def test_forged_foreign_and_other_field_ids_are_refused(db, worker, user_factory):
    _instance, task = _start(worker)
    _other_instance, other_task = _start(worker)
    _post(worker, other_task, action="draft", evidence=[_file(uploads.PNG, "别的任务.png")])
    [foreign] = _rows(db, other_task)
    _post(worker, task, action="draft", screenshots=[_file(uploads.PNG, "截图.png")])
    [own_other_field] = _rows(db, task)
    for forged in ("6f1c2d4e-0000-4000-8000-000000000000", foreign.public_id, own_other_field.public_id):
        response = _post(worker, task, note="好", evidence=[forged])
        assert response.status_code == 422
        assert "附件无效或不属于本任务" in _field_error(response.get_data(as_text=True))
    assert db.session.get(HumanTask, task.id).status == TaskStatus.OPEN
    # The operation checks again for every caller, whatever the page sent.
    ref = {"id": foreign.public_id, "name": "别的任务.png", "size": 1, "content_type": "image/png"}
    with pytest.raises(Invalid) as refused:
        tasks.complete_task(task.public_id, {"note": "好", "evidence": [ref]}, worker.user)
    assert refused.value.errors == {"evidence": ["附件无效或不属于本任务,请重新上传"]}


@pytest.mark.parametrize(("name", "content", "reason"), [
    ("截图.png", uploads.HTML, "网页或脚本"),
    ("图标.svg", uploads.SVG, "文件类型不允许"),
    ("图标.png", uploads.SVG, "网页或脚本"),
    ("setup.exe", uploads.EXE, "文件类型不允许"),
    ("报告.pdf", uploads.EXE, "内容与其扩展名不符"),
    ("资料.zip", uploads.plain_zip(), "文件类型不允许"),
    ("资料.docx", uploads.plain_zip(), "不是有效的 Office 文档"),
    ("炸弹.docx", uploads.zip_bomb_docx(), "不是有效的 Office 文档"),
    ("宏.docx", uploads.docm(), "含有宏"),
])
def test_hostile_files_are_refused_next_to_the_field_and_not_stored(db, worker, name, content, reason):
    _instance, task = _start(worker)
    response = _post(worker, task, note="好", evidence=[_file(content, name)])
    assert response.status_code == 422
    error = _field_error(response.get_data(as_text=True))
    assert reason in error and name in error
    assert _rows(db, task) == []
    assert db.session.get(HumanTask, task.id).status == TaskStatus.OPEN


def test_a_field_refuses_categories_it_does_not_accept(db, worker):
    _instance, task = _start(worker)
    response = _post(worker, task, note="好", screenshots=[_file(uploads.PDF, "说明.pdf")])
    assert response.status_code == 422
    assert "只能上传 PNG" in _field_error(response.get_data(as_text=True), "screenshots")


def test_oversized_files_get_a_field_message_or_a_friendly_413(app, db, worker, monkeypatch):
    monkeypatch.setitem(app.config, "MAX_UPLOAD_MB", 1)
    monkeypatch.setitem(app.config, "MAX_CONTENT_LENGTH", 2 * 1024 * 1024)
    _instance, task = _start(worker)
    big = uploads.PNG + b"\x00" * (1024 * 1024)
    response = _post(worker, task, note="好", evidence=[_file(big, "大图.png")])
    assert response.status_code == 422
    assert "“大图.png”超过 1 MB" in _field_error(response.get_data(as_text=True))
    huge = _post(worker, task, note="好", evidence=[_file(uploads.PNG + b"\x00" * (3 * 1024 * 1024), "巨图.png")])
    assert huge.status_code == 413
    assert "附件和填写的内容合计不能超过 2 MB(单个附件不能超过 1 MB)" in huge.get_data(as_text=True)
    assert f'href="/tasks/{task.public_id}"' in huge.get_data(as_text=True)
    assert _rows(db, task) == []


def _upload(db, actor, task, content=uploads.PNG, name="现场截图.png"):
    _post(actor, task, action="draft", evidence=[_file(content, name)])
    return _rows(db, task)[-1]


def test_download_headers_are_exact(db, worker):
    _instance, task = _start(worker)
    row = _upload(db, worker, task)
    response = worker.get(f"/attachments/{row.public_id}")
    assert response.status_code == 200
    assert response.data == uploads.PNG
    assert response.headers["Content-Type"] == "image/png"
    assert response.headers["Content-Disposition"] == (
        "attachment; filename=\"attachment.png\"; filename*=UTF-8''%E7%8E%B0%E5%9C%BA%E6%88%AA%E5%9B%BE.png")
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert response.headers["Content-Security-Policy"] == "sandbox; default-src 'none'"
    assert response.headers["Cache-Control"] == "private, no-store"
    event = db.session.scalars(select(AuditEvent).where(AuditEvent.action == "attachment_downloaded")).one()
    assert (event.actor_id, event.task_id, event.detail["attachment"]) == (worker.user.id, task.id, row.public_id)


def test_a_stored_type_off_the_allow_list_is_served_as_octet_stream(db, worker):
    _instance, task = _start(worker)
    row = _upload(db, worker, task)
    row.content_type = "text/html"
    db.session.flush()
    response = worker.get(f"/attachments/{row.public_id}")
    assert response.headers["Content-Type"] == "application/octet-stream"
    assert response.headers["Content-Disposition"].startswith("attachment;")


def test_people_who_cannot_see_the_task_get_404(app, db, worker, user_factory):
    _instance, task = _start(worker)
    row = _upload(db, worker, task)
    stranger = act_as(app, user_factory(["risk_owner"]))
    colleague = act_as(app, user_factory(["monitor"]))
    assert stranger.get(f"/attachments/{row.public_id}").status_code == 404
    assert stranger.get("/attachments/00000000-0000-4000-8000-000000000000").status_code == 404
    assert colleague.get(f"/attachments/{row.public_id}").status_code == 200
    anonymous = app.test_client().get(f"/attachments/{row.public_id}")
    assert anonymous.status_code == 302 and "/login" in anonymous.headers["Location"]
    # Someone who may see the task but not work on it cannot upload to it.
    response = _post(stranger, task, note="x", evidence=[_file(uploads.PNG, "x.png")])
    assert response.status_code == 404 and len(_rows(db, task)) == 1


def test_a_chinese_filename_round_trips(db, worker):
    _instance, task = _start(worker)
    name = "舆情截图（第1张）2026年11月.png"
    row = _upload(db, worker, task, name=name)
    assert row.filename == name
    page = worker.get(f"/tasks/{task.public_id}").get_data(as_text=True)
    assert name in page
    disposition = worker.get(f"/attachments/{row.public_id}").headers["Content-Disposition"]
    assert unquote(disposition.split("filename*=UTF-8''", 1)[1]) == name
    assert 'filename="(1)202611.png"' in disposition  # the ASCII fallback for old clients


def test_completed_task_files_stay_and_show_as_links_in_history_and_the_next_form(db, worker):
    instance, task = _start(worker)
    page = _post(worker, task, note="", evidence=[_file(uploads.docx(), "核查报告.docx")]).get_data(as_text=True)
    assert _post(worker, task, note="已核实", evidence=_hidden_ids(page)).status_code == 302
    [row] = _rows(db, task)
    link = f'<a href="/attachments/{row.public_id}">核查报告.docx</a>'
    assert link in worker.get(f"/instances/{instance.public_id}").get_data(as_text=True)
    assert link in worker.get(f"/tasks/{task.public_id}").get_data(as_text=True)
    review = open_task(instance, "ut_attach_review")
    assert link in worker.get(f"/tasks/{review.public_id}").get_data(as_text=True)
    assert worker.get(f"/attachments/{row.public_id}").status_code == 200
    assert SAFE_ID.match(row.public_id)


def test_uploads_keep_csrf_protection(app, db, worker, monkeypatch):
    monkeypatch.setitem(app.config, "WTF_CSRF_ENABLED", True)
    _instance, task = _start(worker)
    refused = _post(worker, task, note="好", evidence=[_file(uploads.PNG, "a.png")])
    assert refused.status_code == 400 and _rows(db, task) == []
    page = worker.get(f"/tasks/{task.public_id}").get_data(as_text=True)
    token = re.search(r'name="csrf_token" value="([^"]+)"', page).group(1)
    accepted = _post(worker, task, note="好", csrf_token=token, evidence=[_file(uploads.PNG, "a.png")])
    assert accepted.status_code == 302 and len(_rows(db, task)) == 1


def test_a_refused_files_message_uses_the_punctuation_of_the_other_chinese_messages(db, worker):
    _instance, task = _start(worker)
    response = _post(worker, task, note="好", evidence=[_file(uploads.EXE, "报告.pdf")])
    error = _field_error(response.get_data(as_text=True))
    assert error == "“报告.pdf”的内容与其扩展名不符或无法识别,已拒绝"  # the half-width ",;" of decision 134
    response = _post(worker, task, note="好", evidence=[_file(uploads.docm(), "宏.docx")])
    assert _field_error(response.get_data(as_text=True)) == "“宏.docx”含有宏,不能上传;请另存为不含宏的文档"
