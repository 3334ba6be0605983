"""The attachment use cases called directly: who may store and open a file, and the per-task cap."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from app.models import Attachment, HumanTask, TaskStatus
from app.operations import attachments, deploy, instances
from app.operations.errors import Invalid, NotFound
from tests.conftest import ROOT
from tests.forms import uploads

DATA = ROOT / "tests" / "web" / "data"


@pytest.fixture
def task(db, user_factory):
    """The open upload task of the attachment test process, and the user who started it."""
    names = ("ut_attach_test.schema.json", "ut_attach_review.schema.json")
    deploy.deploy_processes({"t_attach.bpmn": (DATA / "t_attach.bpmn").read_bytes()},
                            {name: (DATA / name).read_bytes() for name in names})
    starter = user_factory(["risk_owner"])  # starts the instance but is not in the task's lane
    instance = instances.start_instance("t_attach", starter)
    row = db.session.scalars(select(HumanTask).where(HumanTask.instance_id == instance.id,
                                                     HumanTask.status == TaskStatus.OPEN)).one()
    return row, starter


def test_the_instance_starter_may_download_though_not_in_the_tasks_lane(db, task, user_factory):
    row, starter = task
    monitor = user_factory(["monitor"])
    ref = attachments.store_upload(row.public_id, "evidence", "说明.pdf", uploads.PDF, monitor)
    download = attachments.open_attachment(ref["id"], starter)
    assert (download.filename, download.content_type, download.content) == ("说明.pdf", "application/pdf",
                                                                             uploads.PDF)
    with pytest.raises(NotFound):
        attachments.open_attachment(ref["id"], user_factory(["spokesperson"]))


def test_only_writable_file_fields_take_uploads(db, task, user_factory):
    row, _starter = task
    monitor = user_factory(["monitor"])
    for field in ("note", "no_such_field"):
        with pytest.raises(Invalid) as refused:
            attachments.store_upload(row.public_id, field, "a.png", uploads.PNG, monitor)
        assert field in refused.value.errors
    with pytest.raises(NotFound):
        attachments.store_upload(row.public_id, "evidence", "a.png", uploads.PNG, user_factory(["spokesperson"]))
    assert db.session.scalars(select(Attachment)).all() == []


def test_a_task_keeps_at_most_a_bounded_number_of_uploads(db, task, user_factory, monkeypatch):
    row, _starter = task
    monitor = user_factory(["monitor"])
    monkeypatch.setattr(attachments, "MAX_FILES_PER_TASK", 2)
    for index in range(2):
        attachments.store_upload(row.public_id, "evidence", f"{index}.png", uploads.PNG, monitor)
    with pytest.raises(Invalid) as refused:
        attachments.store_upload(row.public_id, "evidence", "2.png", uploads.PNG, monitor)
    assert "附件数量已达上限" in refused.value.message
